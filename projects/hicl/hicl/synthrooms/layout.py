"""Room layout: the shell (floor + 4 walls), wall fixtures, then furniture placed without overlap.

World frame: metres, z up, the room interior is [0, L] x [0, W] x [0, H]; the floor box lies below z = 0 and the
wall boxes outside the interior, so only their inner faces are visible.
"""
from dataclasses import dataclass

import numpy as np

from ..synthetic.boxes import Boxes
from . import fixtures, furniture
from .palettes import pick_color
from .parts import NYU40_ID, Part, bounds, move, shade_color

WALL_THICKNESS = 0.1
PLACEMENT_ATTEMPTS = 40
FURNITURE_MARGIN = 0.03  # metres of free space kept between objects in plan

# Room types: plan size ranges (L, W) in metres and the items placed, as (item, min count, max count), biggest first.
ROOM_TYPES = {
    'bedroom': dict(size=((3.5, 5.5), (3.0, 4.5)), items=(
        ('bed', 1, 1), ('desk', 0, 1), ('bookshelf', 0, 1), ('cabinet', 1, 2), ('other furniture', 0, 2))),
    'kitchen': dict(size=((3.5, 6.0), (3.0, 5.0)), items=(
        ('counter with sink', 1, 1), ('counter', 0, 1), ('refrigerator', 1, 1), ('table', 1, 1), ('cabinet', 0, 2),
        ('other furniture', 0, 1))),
    'bathroom': dict(size=((2.8, 3.8), (2.4, 3.2)), items=(
        ('bathtub', 1, 1), ('toilet', 1, 1), ('sink', 1, 1), ('cabinet', 0, 1), ('other furniture', 0, 1))),
    'living room': dict(size=((4.0, 6.0), (3.5, 5.0)), items=(
        ('sofa', 1, 2), ('table', 0, 1), ('coffee table', 1, 1), ('bookshelf', 0, 1), ('cabinet', 1, 2),
        ('chair', 0, 2), ('other furniture', 1, 2))),
    'office': dict(size=((3.5, 6.0), (3.0, 5.0)), items=(
        ('desk', 1, 3), ('sofa', 0, 1), ('table', 0, 1), ('bookshelf', 1, 2), ('cabinet', 0, 2),
        ('other furniture', 0, 2))),
}
# Order in which generate_synthrooms cycles room types within each split, so every split covers all classes early.
ROOM_TYPE_ORDER = ('bedroom', 'kitchen', 'bathroom', 'living room', 'office')

# item -> (builder(rng) -> parts, placement): 'wall' = back against a wall, 'corner' = against a wall at its end,
# 'middle' = free-standing, axis-aligned; 'anywhere' = against a wall or free-standing at any angle.
ITEMS = {
    'bed': (furniture.bed, 'wall'),
    'desk': (furniture.desk, 'wall'),
    'bookshelf': (furniture.bookshelf, 'wall'),
    'cabinet': (furniture.cabinet, 'wall'),
    'sofa': (furniture.sofa, 'wall'),
    'table': (furniture.table_with_chairs, 'middle'),
    'coffee table': (lambda rng: furniture.table(rng, coffee=True), 'middle'),
    'chair': (furniture.chair, 'anywhere'),
    'counter with sink': (lambda rng: furniture.counter(rng, with_sink=True), 'corner'),
    'counter': (lambda rng: furniture.counter(rng, with_sink=False), 'corner'),
    'refrigerator': (furniture.refrigerator, 'wall'),
    'toilet': (furniture.toilet, 'wall'),
    'sink': (furniture.bathroom_sink, 'wall'),
    'bathtub': (furniture.bathtub, 'corner'),
    'other furniture': (furniture.other_furniture, 'anywhere'),
}


@dataclass
class Layout:
    """room_type; room_size (3,) interior L, W, H in metres; boxes of the whole scene; obstacles (K, 2, 3) world
    [min, max] bounds of every placed object (cameras stay out of them)."""
    room_type: str
    room_size: np.ndarray
    boxes: Boxes
    obstacles: np.ndarray


def room_walls(length, width):
    """The 4 walls as (origin (2,), direction (2,), inward normal (2,), length, yaw): a bundle with yaw ``yaw`` has
    its local +x along ``direction`` and its front (+y) along the inward normal."""
    return [(np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0]), length, 0.0),
            (np.array([length, 0.0]), np.array([0.0, 1.0]), np.array([-1.0, 0.0]), width, np.pi / 2),
            (np.array([length, width]), np.array([-1.0, 0.0]), np.array([0.0, -1.0]), length, np.pi),
            (np.array([0.0, width]), np.array([0.0, -1.0]), np.array([1.0, 0.0]), width, -np.pi / 2)]


def _shell(rng, length, width, height):
    """Floor and the 4 walls as parts in world coordinates (each its own bundle, hence its own instance)."""
    floor = Part(np.array([length / 2, width / 2, -WALL_THICKNESS / 2]),
                 np.array([length, width, WALL_THICKNESS]), pick_color(rng, 'floor'), NYU40_ID['floor'], 0)
    wall_color = pick_color(rng, 'wall')
    walls = []
    for origin, direction, normal, wall_length, yaw in room_walls(length, width):
        center = origin + direction * wall_length / 2 - normal * WALL_THICKNESS / 2
        walls.append(Part(np.array([center[0], center[1], height / 2]),
                          np.array([wall_length, WALL_THICKNESS, height]),
                          shade_color(wall_color, rng.uniform(0.97, 1.03)), NYU40_ID['wall'], 0, yaw))
    return [floor] + walls


def _group_bounds(parts):
    """{group: (2, 3) world [min, max]} of a placed bundle."""
    groups = sorted({part.group for part in parts})
    return {group: bounds([part for part in parts if part.group == group]) for group in groups}


def _overlaps(a, b, margin):
    """Whether bounds a, b (2, 3) overlap once grown by ``margin`` metres in plan."""
    grow = np.array([margin, margin, 0.0])
    return bool(np.all(a[0] < b[1] + grow) and np.all(b[0] < a[1] + grow))


class _Placer:
    """Places bundles one by one in a room, keeping the bounds of everything placed so far."""

    def __init__(self, rng, room_size):
        self.rng, self.room_size = rng, room_size
        self.walls = room_walls(room_size[0], room_size[1])
        self.occupied = []  # (2, 3) bounds that nothing else may overlap (objects and door clearances)
        self.objects = []  # (2, 3) bounds of placed objects only

    def _fits(self, group_bounds, on_wall):
        slack = 0.04 if on_wall else -0.001  # fixtures are half sunk into their wall
        for aabb in group_bounds.values():
            if np.any(aabb[0, :2] < -slack) or np.any(aabb[1, :2] > self.room_size[:2] + slack):
                return False
            if aabb[1, 2] > self.room_size[2] or any(_overlaps(aabb, other, FURNITURE_MARGIN)
                                                     for other in self.occupied):
                return False
        return True

    def _candidate(self, local_bounds, placement, fixture):
        """A random (x, y, yaw) for a bundle with local bounds (2, 3), or None if its wall is too short."""
        rng = self.rng
        if placement == 'anywhere':
            placement = 'wall' if rng.random() < 0.5 else 'free'
        if placement in ('middle', 'free'):
            yaw = rng.uniform(0, 2 * np.pi) if placement == 'free' else rng.integers(4) * np.pi / 2 + rng.normal(0, 0.1)
            x, y = (rng.uniform(0.4, size - 0.4) for size in self.room_size[:2])
            return x, y, yaw
        origin, direction, normal, wall_length, yaw = self.walls[rng.integers(4)]
        low, high = -local_bounds[0, 0] + 0.02, wall_length - local_bounds[1, 0] - 0.02
        if low > high:
            return None
        if placement == 'corner':
            along = low - 0.015 if rng.random() < 0.5 else high + 0.015
        else:
            along = rng.uniform(low, high)
        gap = 0.0 if fixture else rng.uniform(0.005, 0.025)  # < 3 cm: the wall behind is not meshed
        x, y = origin + direction * along + normal * (gap - local_bounds[0, 1])
        return x, y, yaw

    def place(self, parts, placement, fixture=False, clearance=None):
        """Try to place ``parts`` (bundle frame); returns the parts in world coordinates or None.

        clearance: optional parts (bundle frame) that must stay free of furniture, e.g. the door swing.
        """
        local_bounds = bounds(parts)
        for _ in range(PLACEMENT_ATTEMPTS):
            candidate = self._candidate(local_bounds, placement, fixture)
            if candidate is None:
                continue
            placed = move(parts, *candidate)
            group_bounds = _group_bounds(placed)
            if self._fits(group_bounds, fixture):
                self.occupied += list(group_bounds.values())
                self.objects += list(group_bounds.values())
                if clearance is not None:
                    self.occupied.append(bounds(move(clearance, *candidate)))
                return placed
        return None


def _door_clearance(door_parts):
    """The free space a door needs in front of it: 1 m deep, 0.2 m wider than the door on each side."""
    width = bounds(door_parts)[1, 0] * 2
    return [Part(np.array([0.0, 0.5, 1.0]), np.array([width + 0.4, 1.0, 2.0]), np.zeros(3, np.uint8), 0)]


def _to_boxes(bundles):
    """Bundles (lists of world-frame parts) -> Boxes; every (bundle, group) becomes one instance, numbered from 1."""
    rows, instances = [], 0
    for parts in bundles:
        groups = sorted({part.group for part in parts})
        rows += [(part, instances + 1 + groups.index(part.group)) for part in parts]
        instances += len(groups)
    return Boxes(centers=np.array([p.center for p, _ in rows], dtype=np.float64),
                 sizes=np.array([p.size for p, _ in rows], dtype=np.float64),
                 yaws=np.array([p.yaw for p, _ in rows], dtype=np.float64),
                 colors=np.array([p.color for p, _ in rows], dtype=np.uint8),
                 labels=np.array([p.label for p, _ in rows], dtype=np.int64),
                 instances=np.array([i for _, i in rows], dtype=np.int64))


def generate_layout(rng, room_type=None):
    """Sample one room: its type (random if None), size, shell, door, window(s) with curtains, furniture and
    pictures -> Layout."""
    if room_type is None:
        room_type = ROOM_TYPE_ORDER[rng.integers(len(ROOM_TYPE_ORDER))]
    spec = ROOM_TYPES[room_type]
    (length_low, length_high), (width_low, width_high) = spec['size']
    room_size = np.array([rng.uniform(length_low, length_high), rng.uniform(width_low, width_high),
                          rng.uniform(2.5, 3.0)])
    placer = _Placer(rng, room_size)
    bundles = [[part] for part in _shell(rng, *room_size)]

    door = fixtures.door(rng)
    bundles.append(placer.place(door, 'wall', fixture=True, clearance=_door_clearance(door)))
    for _ in range(1 if room_type == 'bathroom' else rng.integers(1, 3)):
        bundles.append(placer.place(fixtures.window(rng, room_size[2], small=room_type == 'bathroom'), 'wall',
                                    fixture=True))
    for item, low, high in spec['items']:
        builder, placement = ITEMS[item]
        for _ in range(rng.integers(low, high + 1)):
            bundles.append(placer.place(builder(rng), placement))
    for _ in range(rng.integers(1, 3)):
        bundles.append(placer.place(fixtures.picture(rng), 'wall', fixture=True))

    bundles = [bundle for bundle in bundles if bundle is not None]
    return Layout(room_type, room_size, _to_boxes(bundles), np.array(placer.objects).reshape(-1, 2, 3))
