"""Procedural street layouts: one straight street (optionally with a cross street) along which the ego drives.

The street frame has x along the street (the ego drives from x = 0 to x = ``length``), y to its left, z up, the
road surface at z = 0. Across the street, from the centre out on each side: an optional raised median (a paved
island, flat.other, or planted, terrain), driving lanes (driveable surface) with painted markings, an optional
parking lane, bike lane (flat.other), grass verge (terrain), a raised sidewalk (with its curb), an optional
front yard (terrain) and a row of buildings with gaps (trees, small parks, parking lots, walls, construction
sites), a second row of buildings behind, terrain everywhere else. Objects: trees and hedges, street lights,
signs, traffic lights, vehicles parked or standing in the lanes (the world is static), pedestrians, bicycles,
motorcycles, barriers and cones, a construction zone (barriers, cones, construction vehicle, workers), a bus
stop. Layouts are built for right-hand traffic and mirrored for left-hand traffic, then placed in the global
frame.
"""
from dataclasses import dataclass

import numpy as np

from ..synthetic.boxes import Boxes
from . import objects
from .categories import (BARRIER, BICYCLE, BUS, CAR, CONSTRUCTION_VEHICLE, CONSTRUCTION_WORKER, DRIVEABLE, MANMADE,
                         MOTORCYCLE, OTHER_FLAT, PEDESTRIAN, SIDEWALK, TERRAIN, TRAFFIC_CONE, TRAILER, TRUCK,
                         VEGETATION)
from .materials import paint
from .objects import Part, StreetBuilder

MARGIN = 60.0  # metres of street before the first and after the last ego position
MAX_LATERAL_EXTENT = 90.0  # metres: no box reaches farther than this from the street's centre line
EGO_HALF_WIDTH = 1.3  # metres kept free on both sides of the ego lane centre along the route
LARGE_VEHICLE_GAP = 4.0  # metres: buses, trucks and trailers stand before or after the route, not beside it
# Optional content that generate_synthstreet guarantees in some scenes, so that every class occurs.
FEATURES = ('construction_zone', 'bus_stop', 'trailer', 'bicycles', 'motorcycles')
# (label, parts function, weight) of the vehicles driving in the lanes
TRAFFIC = ((CAR, objects.car, 0.82), (TRUCK, objects.truck, 0.1), (BUS, objects.bus, 0.03),
           (MOTORCYCLE, objects.motorcycle, 0.05))
HEIGHT_STYLES = ((4.0, 10.0), (8.0, 20.0), (15.0, 36.0))  # building heights (m) of low, mid and high-rise streets


@dataclass
class StreetLayout:
    """A street scene in the global frame.

    boxes: every box (labels = nuScenes-lidarseg general index, instances = object id >= 1); reflectivity (B,)
    float32 LiDAR intensity of a head-on return; facade (B,) bool, drawn with windows; street_pose (4, 4) street
    frame -> global; ego_lane: y (m) of the ego lane centre in the street frame; driveable (K, 4, 2) global xy
    corners of the road surface boxes (for the map mask).
    """
    boxes: Boxes
    reflectivity: np.ndarray
    facade: np.ndarray
    street_pose: np.ndarray
    ego_lane: float
    driveable: np.ndarray


@dataclass
class Side:
    """Cross-section of one side of the street: distances |y| (m) from the street centre line."""
    curb: float  # outer edge of the road (driving lanes + parking lane)
    parking: float  # parking lane width (0 = none)
    bike: float  # bike lane width
    verge: float  # grass verge width
    sidewalk: float  # sidewalk width
    yard: float  # front yard width

    @property
    def sidewalk_start(self):
        """|y| of the sidewalk's curb side."""
        return self.curb + self.bike + self.verge

    @property
    def building_line(self):
        """|y| of the front of the first row of buildings."""
        return self.sidewalk_start + self.sidewalk + self.yard


def _segments(start, stop, hole):
    """[(a, b)] pieces of the interval [start, stop] outside ``hole`` = (a, b) or None."""
    if hole is None:
        return [(start, stop)]
    return [(a, b) for a, b in ((start, min(stop, hole[0])), (max(start, hole[1]), stop)) if b - a > 0.5]


def _strip(builder, label, material, x_range, y_range, top, hole=None, bottom=-0.3):
    """Ground strip (street-frame box) over x_range, y_range with its top at ``top`` m, cut around ``hole``."""
    surface = paint(builder.rng, material)
    for a, b in _segments(*x_range, hole):
        builder.add(label, ((a + b) / 2, sum(y_range) / 2, bottom), 0.0,
                    [Part((0.0, 0.0, 0.0), (b - a, y_range[1] - y_range[0], top - bottom), surface)])


def _cross_section(rng, features):
    """Lane count, lane width, median width, whether the median is planted (terrain with hedges, else a paved
    traffic island), the two Sides (right = index 0, left = 1) and {feature: side index} of the zones."""
    lanes, lane_width = int(rng.choice([1, 1, 2, 2, 3])), rng.uniform(3.0, 3.6)
    median = rng.uniform(1.2, 3.5) if lanes > 1 and rng.random() < 0.4 else 0.0
    planted = median > 1.5 and rng.random() < 0.5
    sides = []
    for _ in range(2):
        parking = rng.uniform(2.1, 2.5) if rng.random() < 0.6 else 0.0
        sides.append(dict(parking=parking, bike=1.5 if rng.random() < 0.3 else 0.0,
                          verge=rng.uniform(1.0, 3.5) if rng.random() < 0.6 else 0.0,
                          sidewalk=rng.uniform(2.2, 5.0), yard=rng.uniform(2.0, 8.0) if rng.random() < 0.6 else 0.0))
    if (median == 0 or planted) and not any(side['bike'] for side in sides):
        sides[rng.integers(2)]['bike'] = 1.5  # every street has some flat.other
    if not any(side['verge'] or side['yard'] for side in sides):
        sides[rng.integers(2)]['verge'] = rng.uniform(0.8, 2.0)  # and some terrain next to it
    zone_sides = {feature: int(rng.integers(2)) for feature in ('construction_zone', 'bus_stop')}
    for feature, index in zone_sides.items():
        if feature in features:
            sides[index]['parking'] = rng.uniform(2.8, 3.2)
            sides[index]['sidewalk'] = max(sides[index]['sidewalk'], 3.0)
    result = []
    for side in sides:
        curb = median / 2 + lanes * lane_width + side['parking']
        result.append(Side(curb=curb, **side))
    return lanes, lane_width, median, planted, result, zone_sides


def _markings(builder, x_range, lanes, lane_width, median, sides, hole):
    """Painted lines: centre line, dashed lane dividers, edge lines of the parking lanes."""
    rng = builder.rng
    white, yellow = paint(rng, 'marking white'), paint(rng, 'marking yellow')

    def line(y, surface, dashed):
        for a, b in _segments(*x_range, hole):
            starts = np.arange(a, b - 3.0, 9.0) if dashed else [a]
            for start in starts:
                stop = start + 3.0 if dashed else b
                builder.add(DRIVEABLE, ((start + stop) / 2, y, -0.05), 0.0,
                            [Part((0.0, 0.0, 0.0), (stop - start, 0.12, 0.06), surface)])

    if median == 0:
        if rng.random() < 0.5:
            line(-0.1, yellow, False)
            line(0.1, yellow, False)
        else:
            line(0.0, white, True)
    for lane in range(1, lanes):
        for sign in (-1, 1):
            line(sign * (median / 2 + lane * lane_width), white, True)
    for sign, side in zip((-1, 1), sides):
        if side.parking:
            line(sign * (side.curb - side.parking), white, False)


def _ground(builder, x_range, extent, median, planted, sides, intersection):
    """Base terrain, road, median, bike lanes, verges, sidewalks, yards; the cross street when there is one."""
    rng = builder.rng
    x0, x1 = x_range
    _strip(builder, TERRAIN, 'grass' if rng.random() < 0.7 else 'soil', (x0 - 10, x1 + 10), (-extent, extent), -0.05,
           bottom=-0.4)
    _strip(builder, DRIVEABLE, 'asphalt', x_range, (-sides[0].curb, sides[1].curb), 0.0)
    hole = corridor = None
    if intersection is not None:
        center, width, sidewalk = intersection
        hole = (center - width / 2, center + width / 2)
        corridor = (hole[0] - sidewalk, hole[1] + sidewalk)
    if median:
        _strip(builder, *((TERRAIN, 'grass') if planted else (OTHER_FLAT, 'island')), x_range,
               (-median / 2, median / 2), 0.15, hole)
    for sign, side in zip((-1, 1), sides):
        spans = ((OTHER_FLAT, 'bike lane', side.curb, side.bike, 0.02),
                 (TERRAIN, 'grass', side.curb + side.bike, side.verge, 0.12),
                 (SIDEWALK, 'paving', side.sidewalk_start, side.sidewalk, 0.15),
                 (TERRAIN, 'grass', side.sidewalk_start + side.sidewalk, side.yard, 0.1))
        for label, material, start, width, top in spans:
            if width:
                y_range = sorted((sign * start, sign * (start + width)))
                _strip(builder, label, material, x_range, y_range, top, corridor)
        if intersection is not None:
            y_range = sorted((sign * side.curb, sign * extent))
            _strip(builder, DRIVEABLE, 'asphalt', hole, y_range, 0.0)
            for a, b in ((corridor[0], hole[0]), (hole[1], corridor[1])):
                _strip(builder, SIDEWALK, 'paving', (a, b), y_range, 0.15)
    return hole, corridor


def _crosswalks(builder, intersection, sides):
    """Zebra stripes across the main road on both sides of the cross street, with traffic lights at the corners."""
    center, width, _ = intersection
    white = paint(builder.rng, 'marking white')
    for sign in (-1, 1):
        x = center + sign * (width / 2 + 2.0)
        for y in np.arange(-sides[0].curb + 0.6, sides[1].curb - 0.5, 1.1):
            builder.add(DRIVEABLE, (x, y, -0.05), 0.0, [Part((0.0, 0.0, 0.0), (3.0, 0.5, 0.06), white)])
        for side_sign, side in zip((-1, 1), sides):
            position = (center + sign * (width / 2 + 0.6), side_sign * (side.sidewalk_start + 0.4), 0.15)
            builder.place([(MANMADE, position, 0.0, objects.traffic_light(builder.rng))], 0.1)


def _gap(builder, x_range, side_sign, line, features):
    """Fill a gap between buildings: trees, a parking lot with cars or a trailer, a wall, or a construction
    site."""
    rng = builder.rng
    a, b = x_range
    near, far = side_sign * line, side_sign * (line + rng.uniform(10.0, 18.0))
    y_range = sorted((near, far))
    kind = rng.choice(['trees', 'lot', 'wall', 'site'], p=[0.45, 0.2, 0.2, 0.15] if 'construction_zone' in features
                      else [0.5, 0.27, 0.23, 0.0])
    if kind in ('lot', 'site'):
        _strip(builder, OTHER_FLAT, 'lot', x_range, y_range, 0.02)
    if kind == 'lot' and b - a > 12 and rng.random() < 0.3:  # a parked semi-trailer
        load = objects.trailer(rng)
        builder.place([(TRAILER, ((a + b) / 2, side_sign * (line + 4.0), 0.02), rng.normal(0, 0.1), load)], 0.3)
    elif kind == 'lot':
        for x in np.arange(a + 1.5, b - 1.5, 2.8):
            if rng.random() < 0.6:
                builder.place([(CAR, (x, side_sign * (line + 4.0), 0.02), np.pi / 2 + rng.normal(0, 0.05),
                                objects.car(rng))], 0.2)
    elif kind == 'wall':
        builder.place([(MANMADE, ((a + b) / 2, near + side_sign * 0.3, -0.05), 0.0, objects.wall(rng, b - a - 0.5))])
    elif kind == 'site':
        for x in np.arange(a + 1.2, b - 1.2, 2.2):
            builder.place([(BARRIER, (x, near + side_sign * 0.6, 0.02), 0.0, objects.barrier(rng))], 0.05)
        builder.place([(CONSTRUCTION_VEHICLE, ((a + b) / 2, side_sign * (line + 6.0), 0.02), rng.uniform(0, np.pi),
                        objects.construction_vehicle(rng))], 0.3)
    for _ in range(int(rng.uniform(0.15, 0.4) * (b - a)) if kind in ('trees', 'wall') else 0):
        position = (rng.uniform(a + 1, b - 1), side_sign * (line + rng.uniform(2.0, 10.0)), -0.05)
        builder.place([(VEGETATION, position, rng.uniform(0, np.pi), objects.tree(rng))], 0.5)


def _buildings(builder, x_range, side_sign, line, corridor, heights, features, back_row=False):
    """A row of buildings along x facing the street at |y| = ``line``, with gaps up to a small park's length
    (front row only)."""
    rng = builder.rng
    facing = 0.0 if side_sign < 0 else np.pi
    for a, b in _segments(*x_range, corridor):
        x = a + rng.uniform(0.0, 4.0)
        while b - x > 4.0:
            if not back_row and rng.random() < 0.4:
                gap = min(rng.uniform(15.0, 45.0) if rng.random() < 0.3 else rng.uniform(4.0, 14.0), b - x)
                _gap(builder, (x, x + gap), side_sign, line, features)
                x += gap
                continue
            width = min(rng.uniform(8.0, 30.0), b - x)
            depth = rng.uniform(8.0, 20.0)
            height = rng.uniform(*heights) * (1.3 if back_row else 1.0)
            front = line + (rng.uniform(0.0, 1.5) if not back_row else rng.uniform(0.0, 6.0))
            builder.add(MANMADE, (x + width / 2, side_sign * (front + depth / 2), -0.05), facing,
                        objects.building(rng, width, depth, height))
            x += width + (rng.uniform(0.0, 4.0) if back_row else 0.0)


def _street_furniture(builder, x_range, sides):
    """Street lights along both sidewalks and a few traffic signs."""
    rng = builder.rng
    for sign, side in zip((-1, 1), sides):
        facing = 0.0 if sign < 0 else np.pi
        for x in np.arange(x_range[0] + rng.uniform(0, 20), x_range[1], rng.uniform(25.0, 40.0)):
            builder.place([(MANMADE, (x, sign * (side.sidewalk_start + 0.4), 0.15), facing,
                            objects.street_light(rng))], 0.2)
    for _ in range(rng.integers(2, 7)):
        index = int(rng.integers(2))
        side, sign = sides[index], (-1, 1)[index]
        builder.place([(MANMADE, (rng.uniform(*x_range), sign * (side.sidewalk_start + 0.3), 0.15),
                        (0.0 if rng.random() < 0.5 else np.pi), objects.traffic_sign(rng))], 0.2)


def _trees(builder, x_range, sides, yards_hedged):
    """Rows of street trees (in the verge or in pits at the curb side of the sidewalk) and yard hedges."""
    rng = builder.rng
    rows = [rng.random() < 0.85 for _ in sides]
    if not any(rows):
        rows[rng.integers(2)] = True
    for sign, side, row, hedged in zip((-1, 1), sides, rows, yards_hedged):
        if row:
            y = side.curb + side.bike + side.verge / 2 if side.verge else side.sidewalk_start + 0.8
            z = 0.12 if side.verge else 0.15
            spacing = rng.uniform(6.0, 12.0)
            for x in np.arange(x_range[0] + rng.uniform(0, spacing), x_range[1], spacing):
                builder.place([(VEGETATION, (x + rng.normal(0, 0.5), sign * y, z), rng.uniform(0, np.pi),
                                objects.tree(rng))], 0.3)
        if side.yard and hedged:
            x = x_range[0]
            while x < x_range[1]:
                length = rng.uniform(5.0, 20.0)
                if rng.random() < 0.6:
                    builder.place([(VEGETATION, (x + length / 2, sign * (side.building_line - side.yard + 0.7), 0.1),
                                    0.0, objects.hedge(rng, length))], 0.1)
                x += length + rng.uniform(1.0, 6.0)


def _place_anywhere(builder, make, tries=40, clearance=0.2):
    """Place the objects ``make()`` returns (a new draw each try) at the first free spot; returns success."""
    return any(builder.place(make(), clearance) for _ in range(tries))


def _motorcycle_group(rng, position, yaw):
    """1-3 motorcycles side by side from ``position`` (x, y, z) towards +x, parked across ``yaw``."""
    x, y, z = position
    return [(MOTORCYCLE, (x + 1.0 * k, y, z), yaw + np.pi / 2 + rng.normal(0, 0.1), objects.motorcycle(rng))
            for k in range(rng.integers(1, 4))]


def _roadside(builder, x_range, route, median, planted, sides, hole):
    """Hedges on a planted median; sometimes a row of barriers along a sidewalk's curb or a few cones."""
    rng = builder.rng
    if planted:
        for a, b in _segments(*x_range, hole):
            x = a + rng.uniform(0, 4)
            while b - x > 3:
                length = min(rng.uniform(3.0, 15.0), b - x - 0.5)
                builder.place([(VEGETATION, (x + length / 2, 0.0, 0.15), 0.0,
                                objects.hedge(rng, length, median - 0.4))], 0.05)
                x += length + rng.uniform(2.0, 8.0)
    if rng.random() < 0.35:
        index = int(rng.integers(2))
        sign, side = (-1, 1)[index], sides[index]
        start = rng.uniform(route[0] - 30, route[1] + 10)
        for x in np.arange(start, start + rng.uniform(10.0, 40.0), 2.1):
            builder.place([(BARRIER, (x, sign * (side.sidewalk_start + 0.4), 0.15), 0.0, objects.barrier(rng))], 0.02)
    if rng.random() < 0.3:
        index = int(rng.integers(2))
        sign, side = (-1, 1)[index], sides[index]
        x = rng.uniform(route[0] - 10, route[1] + 20)
        for k in range(rng.integers(2, 6)):
            builder.place([(TRAFFIC_CONE, (x + 1.5 * k, sign * (side.curb - 0.4), 0.0), 0.0,
                            objects.traffic_cone(rng))], 0.05)


def _beside_route(route, start, stop):
    """Whether the x interval [start, stop] comes within LARGE_VEHICLE_GAP of the route."""
    return start < route[1] + LARGE_VEHICLE_GAP and stop > route[0] - LARGE_VEHICLE_GAP


def _off_route(rng, route, length):
    """Start x of an object of ``length`` m placed 0-25 m before or after the route's LARGE_VEHICLE_GAP."""
    distance = LARGE_VEHICLE_GAP + rng.uniform(0.0, 25.0)
    return route[0] - distance - length if rng.random() < 0.5 else route[1] + distance


def _parked(builder, x_range, route, sides):
    """Parallel-parked cars, some trucks and motorcycles, in the parking lanes."""
    rng = builder.rng
    occupancy = rng.uniform(0.15, 0.6)
    for sign, side in zip((-1, 1), sides):
        if not side.parking:
            continue
        yaw = 0.0 if sign < 0 else np.pi  # parked in the direction of the traffic on that side
        y = sign * (side.curb - side.parking / 2)
        x = x_range[0] + rng.uniform(0, 6)
        while x < x_range[1]:
            kind = rng.choice(['car', 'truck', 'motorcycles'], p=[0.88, 0.06, 0.06])
            if rng.random() > occupancy:
                x += rng.uniform(3.0, 8.0)
            elif kind == 'motorcycles':
                group = _motorcycle_group(rng, (x + 0.5, y, 0.0), yaw)
                builder.place(group, 0.1)
                x += len(group) + 1.5
            else:
                label, parts = (TRUCK, objects.truck(rng)) if kind == 'truck' else (CAR, objects.car(rng))
                length = objects.object_length(parts)
                if label == CAR or not _beside_route(route, x, x + length):
                    builder.place([(label, (x + length / 2, y, 0.0), yaw, parts)], 0.3)
                x += length + rng.uniform(0.8, 3.0)


def _tractor_trailer(rng, x, y, yaw):
    """A semi-tractor (TRUCK) pulling a trailer (TRAILER) along ``yaw`` (0 or pi), the pair starting at x."""
    tractor, load = objects.truck(rng, cargo=False), objects.trailer(rng)
    tractor_length, load_length = objects.object_length(tractor), objects.object_length(load)
    overlap = 1.2  # the trailer's front rests on the tractor's rear
    if yaw:  # driving towards -x: the tractor leads at the low-x end
        return [(TRUCK, (x + tractor_length / 2, y, 0.0), yaw, tractor),
                (TRAILER, (x + tractor_length - overlap + load_length / 2, y, 0.0), yaw, load)]
    return [(TRAILER, (x + load_length / 2, y, 0.0), yaw, load),
            (TRUCK, (x + load_length - overlap + tractor_length / 2, y, 0.0), yaw, tractor)]


def _traffic(builder, x_range, route, lanes, lane_width, median, ego_lane, features):
    """Vehicles standing in the driving lanes (the ego lane is kept free along the route by a reservation)."""
    rng = builder.rng
    lane_ys = [sign * (median / 2 + (lane + 0.5) * lane_width) for lane in range(lanes) for sign in (-1, 1)]
    if 'trailer' in features:
        def tractor_trailer():
            y = lane_ys[rng.integers(len(lane_ys))]
            return _tractor_trailer(rng, _off_route(rng, route, 18.0), y, 0.0 if y < 0 else np.pi)
        _place_anywhere(builder, tractor_trailer, clearance=0.5)
    labels, functions, weights = zip(*TRAFFIC)
    weights = np.array(weights) / np.sum(weights)
    for y in lane_ys:
        yaw = 0.0 if y < 0 else np.pi
        x = x_range[0] + rng.uniform(0, 25)
        while x < x_range[1]:
            index = rng.choice(len(labels), p=weights)
            label, parts = labels[index], functions[index](rng)
            length = objects.object_length(parts)
            if label not in (TRUCK, BUS) or not _beside_route(route, x, x + length):
                builder.place([(label, (x + length / 2, y + rng.normal(0, 0.15), 0.0), yaw + rng.normal(0, 0.02),
                                parts)], 0.5)
            x += length + rng.uniform(10.0, 60.0)


def _sidewalk_spot(rng, sides, x_range, offset_range):
    """(x, y, z) on a random sidewalk, x uniform in ``x_range``, ``offset_range`` (m) from its curb side."""
    index = int(rng.integers(2))
    side = sides[index]
    offset = rng.uniform(offset_range[0], min(offset_range[1], side.sidewalk - 0.4))
    return rng.uniform(*x_range), (-1, 1)[index] * (side.sidewalk_start + offset), 0.15


def _sidewalk_objects(builder, x_range, route, sides, features):
    """Pedestrians (most of them near the route), bicycles and motorcycles parked on the sidewalks."""
    rng = builder.rng
    near = (route[0] - 20, route[1] + 25)

    def person():
        spot = _sidewalk_spot(rng, sides, near if rng.random() < 0.7 else x_range, (0.4, 5.0))
        return [(PEDESTRIAN, spot, rng.uniform(-np.pi, np.pi), objects.pedestrian(rng))]
    for _ in range(rng.integers(4, 22)):
        _place_anywhere(builder, person, 4, 0.15)
    bicycles = rng.integers(2, 6) if 'bicycles' in features else (rng.integers(1, 3) if rng.random() < 0.3 else 0)
    for _ in range(bicycles):
        _place_anywhere(builder, lambda: [(BICYCLE, _sidewalk_spot(rng, sides, near, (0.5, 1.0)),
                                           rng.normal(0, 0.1) + rng.choice([0.0, np.pi]), objects.bicycle(rng))],
                        clearance=0.1)
    if 'motorcycles' in features:
        _place_anywhere(builder, lambda: _motorcycle_group(rng, _sidewalk_spot(rng, sides, near, (1.2, 1.3)), 0.0),
                        clearance=0.1)


def _construction_zone(builder, route, side_sign, side):
    """A closed parking lane: barriers along the lane edge, cone tapers, a compact construction vehicle, workers."""
    rng = builder.rng
    edge = side.curb - side.parking  # |y| of the lane edge
    y_range = sorted((side_sign * edge, side_sign * side.curb))
    for _ in range(40):
        length, start = rng.uniform(14.0, 24.0), rng.uniform(route[0] - 5, route[1] + 10)
        if builder.is_free((start, start + length, *y_range), 0.5):
            break
    for x in np.arange(start + 3.0, start + length - 3.0, 2.15):
        builder.place([(BARRIER, (x + 1.0, side_sign * (edge + 0.35), 0.0), 0.0, objects.barrier(rng))], 0.02)
    for end, direction in ((start, 1.0), (start + length, -1.0)):
        for k in range(5):
            fraction = k / 4
            y = side_sign * (side.curb - 0.4 - fraction * (side.parking - 0.8))  # from the curb to the lane edge
            builder.place([(TRAFFIC_CONE, (end + direction * 2.6 * fraction, y, 0.0), 0.0,
                            objects.traffic_cone(rng))], 0.05)
    interior = side.parking - 0.8
    builder.place([(CONSTRUCTION_VEHICLE, (start + length / 2, side_sign * (edge + 0.7 + interior / 2), 0.0),
                    rng.choice([0.0, np.pi]), objects.construction_vehicle(rng, interior - 0.1))], 0.03)
    for _ in range(rng.integers(1, 4)):
        position = (rng.uniform(start + 3, start + length - 3), side_sign * (edge + 0.7 + rng.uniform(0.2, 1.2)), 0.0)
        builder.place([(CONSTRUCTION_WORKER, position, rng.uniform(-np.pi, np.pi),
                        objects.pedestrian(rng, worker=True))], 0.1)


def _bus_stop(builder, route, side_sign, side):
    """A bus standing at the curb next to a shelter on the sidewalk, with people waiting."""
    rng = builder.rng
    facing = 0.0 if side_sign < 0 else np.pi

    spot = {}

    def stop():
        spot['x'] = x = _off_route(rng, route, 12.0) + 6.0  # the bus's centre
        shelter = objects.bus_shelter(rng)
        y = side.sidewalk_start + side.sidewalk - shelter[0].size[1] / 2 - 0.1
        return [(MANMADE, (x, side_sign * y, 0.15), facing, shelter),
                (BUS, (x, side_sign * (side.curb - 1.4), 0.0), facing, objects.bus(rng))]
    if _place_anywhere(builder, stop):
        for _ in range(rng.integers(1, 4)):
            position = (spot['x'] + rng.uniform(-4, 4), side_sign * (side.sidewalk_start + rng.uniform(0.4, 1.2)),
                        0.15)
            builder.place([(PEDESTRIAN, position, rng.uniform(-np.pi, np.pi), objects.pedestrian(rng))], 0.1)


def street_pose(center, heading, length):
    """(4, 4) street frame -> global transform placing the street's middle (x = length / 2) at ``center`` (x, y)
    with the street's x axis at ``heading`` rad."""
    pose = np.eye(4)
    cos, sin = np.cos(heading), np.sin(heading)
    pose[:2, :2] = [[cos, -sin], [sin, cos]]
    pose[:2, 3] = np.asarray(center, dtype=np.float64) - pose[:2, :2] @ np.array([length / 2, 0.0])
    return pose


def generate_layout(rng, length, center, heading, drive_left=False, features=()):
    """A street for a route of ``length`` m, placed so that its middle is at global ``center`` (x, y) m with its
    axis at ``heading`` rad; ``drive_left`` mirrors it for left-hand traffic; ``features`` (subset of FEATURES)
    are guaranteed, the others occur by chance."""
    features = set(features) | {feature for feature in FEATURES if rng.random() < 0.1}
    builder = StreetBuilder(rng)
    lanes, lane_width, median, planted, sides, zone_sides = _cross_section(rng, features)
    x_range, route = (-MARGIN, length + MARGIN), (0.0, length)
    ego_lane = -(median / 2 + (rng.integers(lanes) + 0.5) * lane_width)
    builder.reserve((-8.0, length + 10.0, ego_lane - EGO_HALF_WIDTH, ego_lane + EGO_HALF_WIDTH))
    intersection = None
    if rng.random() < 0.4:
        intersection = (rng.uniform(0.2, 0.8) * length, rng.uniform(8.0, 14.0), rng.uniform(2.5, 4.0))
    heights = HEIGHT_STYLES[rng.integers(len(HEIGHT_STYLES))]
    lines = [side.building_line for side in sides]
    back = [line + rng.uniform(22.0, 30.0) for line in lines]
    extent = min(max(back) + 25.0, MAX_LATERAL_EXTENT)
    hole, corridor = _ground(builder, x_range, extent, median, planted, sides, intersection)
    if intersection is not None:  # crosswalks; then keep the mouth of the cross street free
        _crosswalks(builder, intersection, sides)
        for sign, side in zip((-1, 1), sides):
            builder.reserve((corridor[0] - 1.0, corridor[1] + 1.0, *sorted((sign * (side.curb - side.parking),
                                                                           sign * extent))))
    _markings(builder, x_range, lanes, lane_width, median, sides, hole)
    if 'construction_zone' in features:
        _construction_zone(builder, route, (-1, 1)[zone_sides['construction_zone']],
                           sides[zone_sides['construction_zone']])
    if 'bus_stop' in features:
        _bus_stop(builder, route, (-1, 1)[zone_sides['bus_stop']], sides[zone_sides['bus_stop']])
    _street_furniture(builder, x_range, sides)
    _trees(builder, x_range, sides, [rng.random() < 0.5 for _ in sides])
    _roadside(builder, x_range, route, median, planted, sides, hole)
    _traffic(builder, x_range, route, lanes, lane_width, median, ego_lane, features)
    _parked(builder, x_range, route, sides)
    _sidewalk_objects(builder, x_range, route, sides, features)
    for sign, line, back_line in zip((-1, 1), lines, back):
        _buildings(builder, x_range, sign, line, corridor, heights, features)
        _buildings(builder, x_range, sign, back_line, corridor, heights, features, back_row=True)
    boxes, reflectivity, facade = builder.build()
    if drive_left:
        boxes.centers[:, 1] *= -1
        boxes.yaws = -boxes.yaws
        ego_lane = -ego_lane
    pose = street_pose(center, heading, length)
    boxes.centers = boxes.centers @ pose[:3, :3].T + pose[:3, 3]
    boxes.yaws = boxes.yaws + heading
    road = boxes.labels == DRIVEABLE
    corners = boxes.corners()[road][:, ::2, :2]  # the 4 bottom corners (z bit 0), in corner-index order
    driveable = corners[:, [0, 1, 3, 2]]  # around the rectangle
    return StreetLayout(boxes, reflectivity, facade, pose, float(ego_lane), driveable)
