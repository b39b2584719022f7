"""Camera intrinsics and posed viewpoints inside a room, in ScanNet's conventions.

Poses are 4x4 camera-to-world matrices; camera axes are OpenCV's: x right, y down, z forward. Intrinsics are 4x4
[[fx, 0, cx, 0], [0, fy, cy, 0], [0, 0, 1, 0], [0, 0, 0, 1]] in pixels, pixel (u, v) centred at integer (u, v).
"""
import numpy as np

from ..synthetic.render import render_view

# Focal length / image width (ScanNet: 1170.2 / 1296 = 0.903 for colour, 577.9 / 640 = 0.903 for depth).
COLOR_FOCAL_RATIO = 0.9
DEPTH_FOCAL_RATIO = 0.905
PREVIEW_SIZE = (32, 24)  # pixels of the preview render that rates candidate views
OPEN_VIEW_DEPTH = 1.3  # metres


def intrinsic_matrix(size, focal_ratio, principal_offset):
    """4x4 intrinsics for an image ``size`` = (width, height) pixels with fx = fy = focal_ratio * width and the
    principal point at (width / 2 + principal_offset, height / 2 + principal_offset)."""
    width, height = size
    focal = focal_ratio * width
    return np.array([[focal, 0.0, width / 2 + principal_offset, 0.0],
                     [0.0, focal, height / 2 + principal_offset, 0.0],
                     [0.0, 0.0, 1.0, 0.0],
                     [0.0, 0.0, 0.0, 1.0]])


def color_intrinsic(size):
    """Colour camera intrinsics for ``size`` = (width, height): ScanNet-like, principal point at centre - 0.25."""
    return intrinsic_matrix(size, COLOR_FOCAL_RATIO, -0.25)


def depth_intrinsic(size):
    """Depth camera intrinsics for ``size`` = (width, height): ScanNet-like, principal point at centre - 0.5."""
    return intrinsic_matrix(size, DEPTH_FOCAL_RATIO, -0.5)


def camera_pose(position, yaw, pitch, roll=0.0):
    """4x4 camera-to-world pose at ``position`` (3,) metres looking along heading ``yaw`` (rad from world +x),
    tilted by ``pitch`` (rad, negative = down) and rolled by ``roll`` (rad) about the viewing axis."""
    forward = np.array([np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch), np.sin(pitch)])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    right, down = (np.cos(roll) * right + np.sin(roll) * down, -np.sin(roll) * right + np.cos(roll) * down)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, position
    return pose


def _view_score(boxes, pose):
    """How open a view is: the median depth in metres of a tiny preview render, or minus the fraction of pixels
    closer than 0.7 m when more than 10% are (the camera is up against something)."""
    depth = render_view(boxes, pose, color_intrinsic(PREVIEW_SIZE), PREVIEW_SIZE).depth
    too_close = np.mean((depth > 0) & (depth < 0.7))
    return float(np.median(depth)) if too_close <= 0.1 else -float(too_close)


def sample_poses(rng, boxes, room_size, obstacles, count):
    """``count`` camera-to-world poses (count, 4, 4): headings spread around the circle, 1.2-1.7 m high, pitched
    8-30 degrees down, outside every obstacle (K, 2, 3) bounds (with 0.25 m clearance), preferring views whose
    median depth is at least OPEN_VIEW_DEPTH metres (the most open of up to 30 candidates otherwise)."""
    poses = []
    phase = rng.uniform(0, 2 * np.pi)
    for index in range(count):
        heading = phase + 2 * np.pi * index / count
        best, best_score = None, -np.inf
        for _ in range(30):
            position = np.array([rng.uniform(0.35, room_size[0] - 0.35), rng.uniform(0.35, room_size[1] - 0.35),
                                 rng.uniform(1.2, 1.7)])
            if np.any(np.all((obstacles[:, 0] - 0.25 < position) & (position < obstacles[:, 1] + 0.25), axis=1)):
                continue
            pose = camera_pose(position, heading + rng.uniform(-0.4, 0.4), -np.deg2rad(rng.uniform(8, 30)),
                               np.deg2rad(rng.normal(0, 2)))
            score = _view_score(boxes, pose)
            if score > best_score:
                best, best_score = pose, score
            if score >= OPEN_VIEW_DEPTH:
                break
        if best is None:  # the room is packed: fall back to the room centre at eye height
            best = camera_pose(np.array([room_size[0] / 2, room_size[1] / 2, 1.5]), heading, -np.deg2rad(15))
        poses.append(best)
    return np.stack(poses)
