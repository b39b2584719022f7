"""Street objects as a few oriented boxes each, in the object's own frame (x forward, y left, z up from the
ground it stands on; metres), and the builder that places them in the street frame without overlaps."""
from typing import NamedTuple

import numpy as np

from ..synthetic.boxes import Boxes
from .materials import paint


class Part(NamedTuple):
    """One box of an object: ``offset`` (dx, dy, z of its bottom) and ``size`` (length, width, height) in metres
    in the object frame, ``surface`` = (colour (3,) uint8, reflectivity), ``yaw`` rad relative to the object,
    ``facade``: drawn with windows."""
    offset: tuple
    size: tuple
    surface: tuple
    yaw: float = 0.0
    facade: bool = False


def _rotate(xy, yaw):
    """Rotate 2D points (..., 2) by ``yaw`` rad about the origin."""
    cos, sin = np.cos(yaw), np.sin(yaw)
    return np.stack([cos * xy[..., 0] - sin * xy[..., 1], sin * xy[..., 0] + cos * xy[..., 1]], axis=-1)


def part_footprints(parts, position, yaw):
    """(P, 4, 2) xy corners of the parts of an object at ``position`` (x, y) with heading ``yaw``."""
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) / 2
    corners = []
    for part in parts:
        local = _rotate(signs * part.size[:2], part.yaw) + part.offset[:2]
        corners.append(_rotate(local, yaw) + position[:2])
    return np.stack(corners)


def object_length(parts):
    """Extent (m) of an object along its own x axis."""
    xs = part_footprints(parts, np.zeros(2), 0.0)[..., 0]
    return float(xs.max() - xs.min())


class StreetBuilder:
    """Collects boxes in the street frame (x along the street, y to its left, z up; metres).

    Objects placed with :meth:`place` reserve their xy bounding rectangle so that later objects do not overlap
    them; ground surfaces added with :meth:`add` reserve nothing.
    """

    def __init__(self, rng):
        self.rng = rng
        self.rows = []
        self.instances = 0
        self.reserved = np.zeros((0, 4))  # (K, 4) x_min, x_max, y_min, y_max

    def add(self, label, position, yaw, parts):
        """Add an object (a new instance id) whose ground point is ``position`` (x, y, z)."""
        self.instances += 1
        position = np.asarray(position, dtype=np.float64)
        for part in parts:
            center_xy = _rotate(np.asarray(part.offset[:2], dtype=np.float64), yaw) + position[:2]
            center = (center_xy[0], center_xy[1], position[2] + part.offset[2] + part.size[2] / 2)
            self.rows.append((center, part.size, yaw + part.yaw, part.surface[0], label, self.instances,
                              part.surface[1], part.facade))

    def is_free(self, rect, clearance=0.0):
        """Whether the rectangle (x_min, x_max, y_min, y_max) grown by ``clearance`` m overlaps nothing reserved."""
        rect = np.asarray(rect) + np.array([-clearance, clearance, -clearance, clearance])
        reserved = self.reserved
        return not np.any((reserved[:, 0] < rect[1]) & (rect[0] < reserved[:, 1]) &
                          (reserved[:, 2] < rect[3]) & (rect[2] < reserved[:, 3]))

    def reserve(self, rect):
        """Mark the rectangle (x_min, x_max, y_min, y_max) as occupied."""
        self.reserved = np.vstack([self.reserved, np.asarray(rect, dtype=np.float64)[None]])

    def place(self, objects, clearance=0.3):
        """Add ``objects`` [(label, position (x, y, z), yaw, parts)] (e.g. a tractor and its trailer) if their
        common footprint is free with ``clearance`` m; returns whether they were placed."""
        corners = np.concatenate([part_footprints(parts, np.asarray(position, dtype=np.float64), yaw).reshape(-1, 2)
                                  for _, position, yaw, parts in objects])
        rect = (corners[:, 0].min(), corners[:, 0].max(), corners[:, 1].min(), corners[:, 1].max())
        if not self.is_free(rect, clearance):
            return False
        self.reserve(rect)
        for label, position, yaw, parts in objects:
            self.add(label, position, yaw, parts)
        return True

    def build(self):
        """(Boxes, reflectivity (B,) float32, facade (B,) bool); box labels are lidarseg general indices."""
        centers, sizes, yaws, colors, labels, instances, reflectivity, facade = zip(*self.rows)
        boxes = Boxes(np.array(centers, dtype=np.float64), np.array(sizes, dtype=np.float64),
                      np.array(yaws, dtype=np.float64), np.array(colors, dtype=np.uint8),
                      np.array(labels, dtype=np.int64), np.array(instances, dtype=np.int64))
        return boxes, np.array(reflectivity, dtype=np.float32), np.array(facade, dtype=bool)


def _axles(rng, length, width, wheelbase_ratio=0.62, diameter=0.65):
    """Two boxes standing for the wheel pairs of a vehicle of ``length`` x ``width`` m."""
    tyre = paint(rng, 'tyre')
    return [Part((sign * wheelbase_ratio * length / 2, 0.0, 0.0), (diameter, width - 0.04, diameter), tyre)
            for sign in (-1, 1)]


def car(rng):
    """Car (sedan, hatchback or SUV): wheels, body, glass cabin."""
    length, width = rng.uniform(3.8, 4.9), rng.uniform(1.7, 1.95)
    body_height, cabin_height = rng.uniform(0.55, 0.85), rng.uniform(0.45, 0.65)
    cabin_length = length * rng.uniform(0.42, 0.6)
    body = paint(rng, 'car paint')
    return _axles(rng, length, width) + [
        Part((0.0, 0.0, 0.3), (length, width, body_height), body),
        Part((-length * rng.uniform(0.0, 0.12), 0.0, 0.3 + body_height), (cabin_length, width - 0.12, cabin_height),
             paint(rng, 'glass'))]


def truck(rng, cargo=True):
    """Box truck (``cargo``) or a semi-tractor: wheels, chassis, cab, cargo box."""
    width = rng.uniform(2.3, 2.5)
    cab_length, cab_height = rng.uniform(1.9, 2.4), rng.uniform(2.2, 2.7)
    length = cab_length + (rng.uniform(4.0, 7.5) if cargo else rng.uniform(3.0, 4.0))
    body = paint(rng, 'truck paint')
    parts = _axles(rng, length, width, 0.7, 0.95) + [
        Part((0.0, 0.0, 0.6), (length, width - 0.3, 0.5), paint(rng, 'metal')),
        Part((length / 2 - cab_length / 2, 0.0, 0.7), (cab_length, width, cab_height), body)]
    if cargo:
        cargo_length = length - cab_length - 0.2
        size = (cargo_length, width + 0.05, rng.uniform(2.4, 3.2))
        parts.append(Part((-length / 2 + cargo_length / 2, 0.0, 1.0), size, paint(rng, 'truck paint')))
    return parts


def trailer(rng):
    """Semi-trailer: a long box on a rear axle group."""
    length, width, height = rng.uniform(8.0, 13.0), 2.5, rng.uniform(2.5, 2.9)
    return [Part((-length / 2 + 1.5, 0.0, 0.0), (2.4, width - 0.04, 1.0), paint(rng, 'tyre')),
            Part((0.0, 0.0, 1.2), (length, width, height), paint(rng, 'truck paint'))]


def bus(rng):
    """Rigid city bus: wheels, body, a glass window band."""
    length, width, height = rng.uniform(10.5, 12.5), 2.55, rng.uniform(2.8, 3.1)
    return _axles(rng, length, width, 0.55, 1.0) + [
        Part((0.0, 0.0, 0.3), (length, width, height), paint(rng, 'bus paint')),
        Part((0.2, 0.0, 1.3), (length - 1.2, width + 0.04, 1.0), paint(rng, 'glass'))]


def construction_vehicle(rng, max_width=2.6):
    """Tracked excavator or roller no wider than ``max_width`` m."""
    yellow, tracks = paint(rng, 'construction paint'), paint(rng, 'tyre')
    width = min(rng.uniform(1.8, 2.6), max_width)
    length = rng.uniform(2.8, 4.2)
    if rng.random() < 0.3:  # roller: drum + body + cab
        return [Part((length / 2 - 0.6, 0.0, 0.0), (1.2, width, 1.2), paint(rng, 'metal')),
                Part((-0.4, 0.0, 0.3), (length - 1.2, width - 0.2, 1.3), yellow),
                Part((-0.6, 0.0, 1.6), (1.2, 1.2, 1.3), paint(rng, 'glass'))]
    boom_length = rng.uniform(2.2, 3.5)
    return [Part((0.0, sign * (width / 2 - 0.25), 0.0), (length, 0.5, 0.7), tracks) for sign in (-1, 1)] + [
        Part((0.0, 0.0, 0.7), (length * 0.8, width - 0.1, 1.0), yellow),
        Part((length * 0.1, width * 0.22, 1.7), (1.1, 0.9, 1.4), paint(rng, 'glass')),
        Part((length * 0.4 + boom_length / 2, -0.1, 2.3), (boom_length, 0.4, 0.45), yellow),
        Part((length * 0.4 + boom_length, -0.1, 0.4), (0.35, 0.35, 1.9), yellow),
        Part((length * 0.4 + boom_length, -0.1, 0.0), (0.7, 0.8, 0.5), paint(rng, 'metal'))]


def pedestrian(rng, worker=False):
    """Adult (or construction worker in a hi-vis vest): legs, torso, head."""
    height = rng.uniform(1.55, 1.9)
    legs, torso = 0.48 * height, 0.36 * height
    return [Part((0.0, 0.0, 0.0), (0.26, 0.34, legs), paint(rng, 'clothes')),
            Part((0.0, 0.0, legs), (0.3, 0.48, torso), paint(rng, 'hi-vis' if worker else 'clothes')),
            Part((0.0, 0.0, legs + torso), (0.2, 0.18, height - legs - torso), paint(rng, 'skin'))]


def bicycle(rng):
    """Bicycle: wheel plane, saddle post, handlebar."""
    frame = paint(rng, 'bicycle')
    return [Part((0.0, 0.0, 0.0), (1.75, 0.07, 0.68), paint(rng, 'tyre')),
            Part((-0.25, 0.0, 0.68), (0.3, 0.12, 0.28), frame),
            Part((0.45, 0.0, 0.68), (0.08, 0.58, 0.38), frame)]


def motorcycle(rng):
    """Motorcycle or scooter: wheels, body, seat, handlebar."""
    length = rng.uniform(1.8, 2.2)
    body = paint(rng, 'motorcycle')
    return [Part((0.0, 0.0, 0.0), (length, 0.16, 0.62), paint(rng, 'tyre')),
            Part((0.0, 0.0, 0.4), (length * 0.65, 0.5, 0.45), body),
            Part((-0.2, 0.0, 0.85), (0.75, 0.34, 0.15), paint(rng, 'tyre')),
            Part((length * 0.3, 0.0, 0.95), (0.1, 0.75, 0.2), body)]


def barrier(rng):
    """Jersey barrier (concrete or plastic), about 2 m long."""
    surface = paint(rng, 'barrier')
    length = rng.uniform(1.8, 2.2)
    return [Part((0.0, 0.0, 0.0), (length, 0.6, 0.35), surface),
            Part((0.0, 0.0, 0.35), (length, 0.26, rng.uniform(0.45, 0.65)), surface)]


def traffic_cone(rng):
    """Traffic cone: base plate and body."""
    surface = paint(rng, 'cone')
    return [Part((0.0, 0.0, 0.0), (0.4, 0.4, 0.04), surface),
            Part((0.0, 0.0, 0.04), (0.22, 0.22, rng.uniform(0.45, 0.7)), surface)]


def tree(rng):
    """Tree: trunk and two crossed canopy boxes."""
    trunk_height, crown = rng.uniform(1.8, 3.5), rng.uniform(3.0, 7.0)
    crown_height = crown * rng.uniform(0.8, 1.3)
    foliage = paint(rng, 'foliage')
    return [Part((0.0, 0.0, 0.0), (0.35, 0.35, trunk_height + 0.3), paint(rng, 'bark')),
            Part((0.0, 0.0, trunk_height), (crown, crown, crown_height * 0.7), foliage),
            Part((0.0, 0.0, trunk_height + crown_height * 0.3), (crown * 0.75, crown * 0.75, crown_height * 0.7),
                 foliage, np.pi / 4)]


def hedge(rng, length, max_width=1.2):
    """Hedge of ``length`` m along x, at most ``max_width`` m wide."""
    width = min(rng.uniform(0.6, 1.2), max_width)
    return [Part((0.0, 0.0, 0.0), (length, width, rng.uniform(0.8, 1.6)), paint(rng, 'foliage'))]


def street_light(rng):
    """Street light: pole, arm over the road (towards +y), lamp head."""
    height, arm = rng.uniform(6.0, 9.0), rng.uniform(1.2, 2.5)
    metal = paint(rng, 'metal')
    return [Part((0.0, 0.0, 0.0), (0.22, 0.22, height), metal),
            Part((0.0, arm / 2, height - 0.2), (0.12, arm, 0.12), metal),
            Part((0.0, arm, height - 0.35), (0.3, 0.6, 0.15), metal)]


def traffic_sign(rng):
    """Traffic sign: thin pole and a retro-reflective plate facing x."""
    height = rng.uniform(2.2, 3.0)
    return [Part((0.0, 0.0, 0.0), (0.08, 0.08, height), paint(rng, 'metal')),
            Part((0.05, 0.0, height - 0.1), (0.04, rng.uniform(0.5, 0.8), rng.uniform(0.5, 0.8)),
                 paint(rng, 'sign'))]


def traffic_light(rng):
    """Traffic light: pole and signal housing."""
    height = rng.uniform(2.8, 3.6)
    metal = paint(rng, 'metal')
    return [Part((0.0, 0.0, 0.0), (0.18, 0.18, height), metal),
            Part((0.0, 0.0, height), (0.35, 0.35, 1.0), (np.array([30, 32, 34], np.uint8), metal[1]))]


def bus_shelter(rng):
    """Bus shelter (open towards +y): roof, glass back wall, two posts."""
    length, depth = rng.uniform(3.5, 6.0), rng.uniform(1.4, 1.9)
    metal = paint(rng, 'metal')
    return [Part((0.0, 0.0, 2.4), (length, depth, 0.12), metal),
            Part((0.0, -depth / 2 + 0.05, 0.0), (length, 0.06, 2.3), paint(rng, 'glass'))] + [
        Part((sign * (length / 2 - 0.1), depth / 2 - 0.1, 0.0), (0.1, 0.1, 2.4), metal) for sign in (-1, 1)]


def building(rng, length, depth, height):
    """Building of ``length`` (along x) x ``depth`` x ``height`` m, sometimes with a set-back upper storey and a
    roof unit; its -y side faces away from the street."""
    facade = paint(rng, 'facade')
    parts = [Part((0.0, 0.0, 0.0), (length, depth, height), facade, facade=True)]
    if height > 8 and rng.random() < 0.35:
        upper = (length * rng.uniform(0.5, 0.9), depth * 0.6, rng.uniform(3.0, 9.0))
        parts.append(Part((0.0, -rng.uniform(1.0, 3.0), height), upper, facade, facade=True))
    elif rng.random() < 0.4:
        parts.append(Part((rng.uniform(-0.25, 0.25) * length, 0.0, height), (2.0, 2.0, 1.2), paint(rng, 'metal')))
    return parts


def wall(rng, length):
    """Garden wall or fence of ``length`` m along x."""
    return [Part((0.0, 0.0, 0.0), (length, 0.25, rng.uniform(1.0, 2.2)), paint(rng, 'concrete'))]
