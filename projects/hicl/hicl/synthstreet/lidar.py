"""A rotating 32-beam LiDAR like nuScenes' Velodyne HDL-32E, ray-cast against the street's boxes.

Beams are evenly spaced from -30.67 to +10.67 degrees elevation; ring 0 is the top beam, ring 31 the bottom one.
The sensor spins clockwise seen from above: column k of a sweep is at azimuth ``phase - 2 pi k / azimuth_steps``
(azimuth = atan2(y, x) in the LiDAR frame). Each ray returns the nearest box surface (the slab test of
hicl.synthetic.render, as the camera renderer does), with range noise, dropout and an intensity from the surface's
reflectivity and incidence angle. Each box is only tested against the beams and columns that can reach it.
"""
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..synthetic.render import face_normal_table, slab_test

NUM_BEAMS = 32
ELEVATIONS = np.deg2rad(np.linspace(-30.67, 10.67, NUM_BEAMS))  # rad, ascending (ring = 31 - beam index)
MIN_RANGE, MAX_RANGE = 1.0, 70.0  # metres
RANGE_NOISE = 0.015  # metres, standard deviation
DROPOUT = 0.03  # fraction of returns lost at random; grazing returns (|cos| < 0.1) are lost 10x as often
_PAIRS = np.array(list(combinations(range(8), 2)))  # the 28 segments between box corners


@dataclass
class Sweep:
    """One LiDAR sweep: points (N, 5) float32 x y z (LiDAR frame, m) intensity (0-255) ring (0-31); labels (N,)
    uint8 nuScenes-lidarseg general index of each point."""
    points: np.ndarray
    labels: np.ndarray


def beam_directions(azimuth_steps, phase=0.0):
    """Unit ray directions (32, A, 3) in the LiDAR frame: beams by ascending elevation x firing columns."""
    azimuths = phase - 2 * np.pi * np.arange(azimuth_steps) / azimuth_steps
    cos_elevation = np.cos(ELEVATIONS)[:, None]
    return np.stack([cos_elevation * np.cos(azimuths), cos_elevation * np.sin(azimuths),
                     np.broadcast_to(np.sin(ELEVATIONS)[:, None], (NUM_BEAMS, azimuth_steps))], axis=-1)


def ray_windows(boxes, lidar_to_global, azimuth_steps, phase=0.0):
    """The rays that can hit each box: (B, 2) beam index range [start, stop), empty for boxes out of range, and
    (B, 2) first and last column (inclusive; taken modulo A, as the columns wrap around).

    Bounds come from the box corners in the LiDAR frame: the azimuth interval they span (the whole circle when
    they surround the sensor) and the extreme elevations over their vertical range and horizontal distance.
    """
    corners = (boxes.corners() - lidar_to_global[:3, 3]) @ lidar_to_global[:3, :3]  # (B, 8, 3) LiDAR frame
    xy, z = corners[..., :2], corners[..., 2]
    azimuths = np.sort(np.arctan2(xy[..., 1], xy[..., 0]), axis=1)
    gaps = np.diff(np.concatenate([azimuths, azimuths[:, :1] + 2 * np.pi], axis=1), axis=1)
    largest = np.argmax(gaps, axis=1)
    rows = np.arange(len(boxes))
    surrounded = gaps[rows, largest] <= np.pi  # the footprint contains the sensor's vertical axis
    start = azimuths[rows, (largest + 1) % 8]  # the interval runs counter-clockwise from here ...
    span = 2 * np.pi - gaps[rows, largest]  # ... over this many radians
    segment_start, segment = xy[:, _PAIRS[:, 0]], xy[:, _PAIRS[:, 1]] - xy[:, _PAIRS[:, 0]]
    length2 = np.maximum(np.sum(segment ** 2, axis=-1), 1e-12)
    along = np.clip(-np.sum(segment_start * segment, axis=-1) / length2, 0.0, 1.0)
    nearest = np.where(surrounded, 0.0, np.linalg.norm(segment_start + along[..., None] * segment, axis=-1).min(1))
    farthest = np.linalg.norm(xy, axis=-1).max(1)
    z_low, z_high = z.min(1), z.max(1)
    elevation_high = np.arctan2(z_high, np.where(z_high > 0, nearest, farthest))
    elevation_low = np.arctan2(z_low, np.where(z_low < 0, nearest, farthest))
    beams = np.stack([np.searchsorted(ELEVATIONS, elevation_low - 1e-6),
                      np.searchsorted(ELEVATIONS, elevation_high + 1e-6, side='right')], axis=1)
    beams[nearest > MAX_RANGE] = 0
    step = 2 * np.pi / azimuth_steps
    offset = np.mod(phase - start, 2 * np.pi)  # column k is inside when (offset - k step) mod 2 pi <= span
    columns = np.stack([np.ceil((offset - span) / step) - 1, np.floor(offset / step) + 1], axis=1).astype(np.int64)
    full = surrounded | (columns[:, 1] - columns[:, 0] + 1 >= azimuth_steps)
    columns[full] = (0, azimuth_steps - 1)
    return beams, columns


def cast_rays(boxes, lidar_to_global, azimuth_steps, phase=0.0):
    """Nearest hit of every ray: distance (32, A) float32 metres (inf = no hit) and box_face (32, A) int32 =
    6 * box index + face code (see hicl.synthetic.render.face_normal_table; -1 = no hit)."""
    directions = beam_directions(azimuth_steps, phase) @ lidar_to_global[:3, :3].T  # world frame
    directions = directions.astype(np.float32)
    distance = np.full((NUM_BEAMS, azimuth_steps), np.inf, dtype=np.float32)
    box_face = np.full((NUM_BEAMS, azimuth_steps), -1, dtype=np.int32)
    origin = lidar_to_global[:3, 3]
    local_origins = np.einsum('bj,bjk->bk', origin - boxes.centers, boxes.rotations).astype(np.float32)
    halves = (boxes.sizes / 2).astype(np.float32)
    cos, sin = np.cos(boxes.yaws).astype(np.float32), np.sin(boxes.yaws).astype(np.float32)
    beams, columns = ray_windows(boxes, lidar_to_global, azimuth_steps, phase)
    for b in np.flatnonzero(beams[:, 1] > beams[:, 0]):
        window = (slice(beams[b, 0], beams[b, 1]), np.arange(columns[b, 0], columns[b, 1] + 1) % azimuth_steps)
        rays = directions[window]
        x, y = rays[..., 0], rays[..., 1]
        local_rays = (cos[b] * x + sin[b] * y, cos[b] * y - sin[b] * x, rays[..., 2])
        t_enter, t_exit, face = slab_test(local_rays, local_origins[b], halves[b])
        current = distance[window]
        closer = (t_enter <= t_exit) & (t_enter > 0) & (t_enter < current)
        distance[window] = np.where(closer, t_enter, current)
        box_face[window] = np.where(closer, face.astype(np.int32) + 6 * b, box_face[window])
    return distance, box_face


def simulate_sweep(layout, lidar_to_global, rng, azimuth_steps=1084):
    """One sweep of the LiDAR at pose ``lidar_to_global`` (4, 4) through ``layout`` (a StreetLayout)."""
    phase = rng.uniform(0, 2 * np.pi)
    distance, box_face = cast_rays(layout.boxes, lidar_to_global, azimuth_steps, phase)
    # firing order: column by column, top beam (ring 0) first
    distance, box_face = distance[::-1].T.reshape(-1), box_face[::-1].T.reshape(-1)
    directions = beam_directions(azimuth_steps, phase)[::-1].transpose(1, 0, 2).reshape(-1, 3)
    rings = np.tile(np.arange(NUM_BEAMS), azimuth_steps)
    hit = np.flatnonzero(box_face >= 0)
    box, face = box_face[hit] // 6, box_face[hit] % 6
    normals = face_normal_table(layout.boxes)[box, face]
    incidence = np.abs(np.sum((directions[hit] @ lidar_to_global[:3, :3].T) * normals, axis=1))
    ranges = distance[hit] + rng.normal(0.0, RANGE_NOISE, len(hit))
    kept = ((rng.random(len(hit)) >= DROPOUT * np.where(incidence < 0.1, 10.0, 1.0)) &
            (ranges >= MIN_RANGE) & (ranges <= MAX_RANGE))
    brightness = layout.reflectivity[box] * incidence
    intensity = np.clip(np.round(brightness + rng.normal(0.0, 1.0 + 0.08 * brightness)), 0, 255)
    points = np.column_stack([directions[hit] * ranges[:, None], intensity, rings[hit]])[kept]
    return Sweep(points.astype(np.float32), layout.boxes.labels[box][kept].astype(np.uint8))
