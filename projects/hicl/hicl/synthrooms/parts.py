"""Parts: the boxes of an object bundle in the bundle's own frame, and the helpers the object builders share.

Bundle frame: metres, origin on the floor (z = 0) at the object's reference point, +y = the object's front
(away from the wall it stands against), +z up. A bundle may hold several objects (``group``), e.g. a counter, its
base cabinet and its sink; each group becomes one instance.
"""
from dataclasses import dataclass

import numpy as np

from ..label_sets import SCANNET20_CLASSES, SCANNET20_NYU40_IDS

NYU40_ID = dict(zip(SCANNET20_CLASSES, SCANNET20_NYU40_IDS))


@dataclass
class Part:
    """One box: center (3,) and size (3,) in metres (bundle frame), yaw (rad) about z, color (3,) uint8,
    label (NYU40 id), group (object index inside the bundle)."""
    center: np.ndarray
    size: np.ndarray
    color: np.ndarray
    label: int
    group: int = 0
    yaw: float = 0.0


def box(x, y, z_bottom, width, depth, height, color, class_name, group=0):
    """An axis-aligned part centred at (x, y) in plan whose bottom face is at ``z_bottom`` (metres)."""
    return Part(np.array([x, y, z_bottom + height / 2]), np.array([width, depth, height], dtype=np.float64),
                np.asarray(color, dtype=np.uint8), NYU40_ID[class_name], group)


def shade_color(color, factor):
    """``color`` (3,) uint8 scaled by ``factor`` (e.g. 0.7 for a darker trim), clipped -> (3,) uint8."""
    return np.clip(np.round(np.asarray(color, dtype=np.float64) * factor), 0, 255).astype(np.uint8)


def move(parts, dx, dy, yaw=0.0, group_offset=0):
    """Rotate ``parts`` by ``yaw`` about the bundle origin, then shift them by (dx, dy) metres."""
    cos, sin = np.cos(yaw), np.sin(yaw)
    moved = []
    for part in parts:
        x, y, z = part.center
        center = np.array([cos * x - sin * y + dx, sin * x + cos * y + dy, z])
        moved.append(Part(center, part.size, part.color, part.label, part.group + group_offset, part.yaw + yaw))
    return moved


def part_corners(parts):
    """(P, 8, 3) corners of ``parts`` in the bundle frame."""
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    corners = []
    for part in parts:
        cos, sin = np.cos(part.yaw), np.sin(part.yaw)
        rotation = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
        corners.append((signs * part.size / 2) @ rotation.T + part.center)
    return np.stack(corners)


def bounds(parts):
    """(2, 3) axis-aligned [min, max] of ``parts`` in their frame, metres."""
    corners = part_corners(parts).reshape(-1, 3)
    return np.stack([corners.min(0), corners.max(0)])
