"""Point <-> pixel pairing by projection (paper 3.1), vectorised over points and views.

Conventions: camera frame x right, y down, z forward (OpenCV / ScanNet); poses are 4x4 camera-to-world;
intrinsics are 3x3 or 4x4 (K in the top-left); pixel centres sit at integer coordinates, so the pixel of a
projection (u, v) is (round(u), round(v)). Units: metres and pixels.
"""
from typing import NamedTuple

import numpy as np


class PointPixelPairs(NamedTuple):
    """P pairs: point index into the N points, view index into the V views, the pixel's label."""
    point_idx: np.ndarray  # (P,) int64
    view_idx: np.ndarray  # (P,) int64
    label: np.ndarray  # (P,) int64


def as_intrinsic_3x3(intrinsic):
    """(…, 3, 3) float64 view of 3x3 or 4x4 intrinsics; other shapes raise ValueError."""
    intrinsic = np.asarray(intrinsic, dtype=np.float64)
    if intrinsic.shape[-2:] == (4, 4):
        return intrinsic[..., :3, :3]
    if intrinsic.shape[-2:] == (3, 3):
        return intrinsic
    raise ValueError(f'intrinsics must be 3x3 or 4x4 matrices, got shape {intrinsic.shape}')


def scale_intrinsic(intrinsic, from_size, to_size):
    """Intrinsics (3x3) of the same camera for an image resized from ``from_size`` to ``to_size`` (W, H).

    Keeps pixel centres at integer coordinates: u' = (u + 0.5) * s - 0.5.
    """
    k = as_intrinsic_3x3(intrinsic).copy()
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    k[0, 0], k[0, 2] = k[0, 0] * sx, (k[0, 2] + 0.5) * sx - 0.5
    k[1, 1], k[1, 2] = k[1, 1] * sy, (k[1, 2] + 0.5) * sy - 0.5
    return k


def world_to_camera(camera_to_world):
    """Invert rigid 4x4 poses (V, 4, 4) without a general matrix inverse."""
    pose = np.asarray(camera_to_world, dtype=np.float64)
    rot_t = np.swapaxes(pose[..., :3, :3], -1, -2)
    inverse = np.zeros_like(pose)
    inverse[..., :3, :3] = rot_t
    inverse[..., :3, 3] = -np.einsum('...ij,...j->...i', rot_t, pose[..., :3, 3])
    inverse[..., 3, 3] = 1.0
    return inverse


def project_points(xyz, camera_to_world, intrinsic):
    """Project N world points into V cameras.

    Args:
        xyz: (N, 3) world coordinates, metres.
        camera_to_world: (V, 4, 4) poses.
        intrinsic: (3|4, 3|4) shared by all views, or (V, 3|4, 3|4).
    Returns:
        uv: (V, N, 2) pixel coordinates (undefined where z <= 0); z: (V, N) camera depth in metres.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    w2c = world_to_camera(camera_to_world)
    cam = xyz @ np.swapaxes(w2c[:, :3, :3], 1, 2) + w2c[:, None, :3, 3]  # (V, N, 3); matmul is ~5x einsum
    z = cam[..., 2]
    k = np.broadcast_to(as_intrinsic_3x3(intrinsic), (len(w2c), 3, 3))
    safe_z = np.where(z > 1e-9, z, 1.0)
    u = k[:, None, 0, 0] * cam[..., 0] / safe_z + k[:, None, 0, 2]
    v = k[:, None, 1, 1] * cam[..., 1] / safe_z + k[:, None, 1, 2]
    return np.stack([u, v], axis=-1), z


def pixel_lookup(uv, image_size):
    """Integer pixel (col, row) of each projection and whether it lies inside a (W, H) image."""
    col = np.rint(uv[..., 0]).astype(np.int64)
    row = np.rint(uv[..., 1]).astype(np.int64)
    inside = (col >= 0) & (col < image_size[0]) & (row >= 0) & (row < image_size[1])
    return np.where(inside, col, 0), np.where(inside, row, 0), inside


def depth_agrees(xyz, camera_to_world, depth_maps, depth_intrinsic, tolerance=0.05, relative_tolerance=None):
    """(V, N) bool: the point is in front of the depth camera, inside its image and the measured depth agrees.

    Agreement is |depth - z| <= tolerance (metres), or <= relative_tolerance * depth when that is given
    (OpenScene uses 0.25). Depth 0 means invalid and never agrees.
    """
    depth_maps = np.asarray(depth_maps)
    uv, z = project_points(xyz, camera_to_world, depth_intrinsic)
    col, row, inside = pixel_lookup(uv, (depth_maps.shape[2], depth_maps.shape[1]))
    measured = depth_maps[np.arange(len(depth_maps))[:, None], row, col]
    allowed = tolerance if relative_tolerance is None else relative_tolerance * measured
    return inside & (z > 0) & (measured > 0) & (np.abs(measured - z) <= allowed)


def pair_points_with_pixels(xyz, camera_to_world, label_images, label_intrinsic, visible=None, min_depth=0.0,
                            ignore_label=255) -> PointPixelPairs:
    """Pairs (point, view, pixel label) for points that land inside a labelled pixel of a view.

    Args:
        xyz: (N, 3) world points, metres.
        camera_to_world: (V, 4, 4) poses of the labelled images.
        label_images: (V, H, W) integer labels; ``ignore_label`` pixels give no pair.
        label_intrinsic: intrinsics of the label images, (3|4, 3|4) or (V, 3|4, 3|4).
        visible: optional (V, N) bool occlusion test (e.g. :func:`depth_agrees`); required for RGB-D data.
        min_depth: keep only points with camera z > min_depth metres (nuScenes: 1 m, no depth maps).
    """
    label_images = np.asarray(label_images)
    uv, z = project_points(xyz, camera_to_world, label_intrinsic)
    col, row, keep = pixel_lookup(uv, (label_images.shape[2], label_images.shape[1]))
    keep &= z > max(min_depth, 0.0)
    if visible is not None:
        keep &= visible
    view_idx, point_idx = np.nonzero(keep)
    label = label_images[view_idx, row[view_idx, point_idx], col[view_idx, point_idx]].astype(np.int64)
    labelled = label != ignore_label
    return PointPixelPairs(point_idx[labelled], view_idx[labelled], label[labelled])
