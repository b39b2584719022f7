"""nuScenes camera calibration chain and LiDAR <-> camera pairing (paper 3.1, nuScenes: 6 cameras, no depth maps).

The LiDAR frame plays the role of "world" in :mod:`hicl.geometry.projection`: camera poses are camera-to-LiDAR
4x4 matrices, so ``project_points(xyz_lidar, camera_to_world=cam2lidar, intrinsic)`` projects a sweep. Cameras
follow the OpenCV convention (x right, y down, z forward) as nuScenes does. Units: metres and pixels.
"""
from typing import NamedTuple

import numpy as np

from ..label_sets import IMAGE_IGNORE
from .projection import PointPixelPairs, pair_points_with_pixels, scale_intrinsic
from .projection import world_to_camera as invert_rigid

NUSCENES_CAMERAS = ('CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK', 'CAM_BACK_LEFT', 'CAM_BACK_RIGHT')
NUSCENES_IMAGE_SIZE = (1600, 900)  # (W, H) pixels of every nuScenes camera image


class NuScenesCameras(NamedTuple):
    """The V = 6 cameras of one sample, in ``NUSCENES_CAMERAS`` order."""
    names: tuple  # (V,) camera names
    cam2lidar: np.ndarray  # (V, 4, 4) camera-to-LiDAR poses
    intrinsic: np.ndarray  # (V, 3, 3) cam2img of the full-size images
    img_paths: tuple  # (V,) image file names as the info gives them
    image_size: tuple = NUSCENES_IMAGE_SIZE  # (W, H) pixels the intrinsics refer to


def lidar_to_camera(lidar2ego, ego2global_lidar, ego2global_cam, cam2ego):
    """4x4 LiDAR -> camera transform through the full chain.

    LiDAR -> ego (at the LiDAR timestamp) -> global -> ego (at the camera timestamp) -> camera. All inputs are
    rigid (..., 4, 4) matrices in metres; the two "to-ego"/"to-global" steps are inverted as rigid transforms.
    """
    lidar_to_global = np.asarray(ego2global_lidar, dtype=np.float64) @ np.asarray(lidar2ego, dtype=np.float64)
    global_to_cam = invert_rigid(cam2ego) @ invert_rigid(ego2global_cam)
    return global_to_cam @ lidar_to_global


def _matrix(entry, key, where, shape):
    """``entry[key]`` as a float64 array of ``shape``; a KeyError / ValueError names ``key`` and ``where``."""
    if key not in entry:
        raise KeyError(f'nuScenes info: {where} has no "{key}"')
    matrix = np.asarray(entry[key], dtype=np.float64)
    if matrix.shape != shape:
        raise ValueError(f'nuScenes info: {where} "{key}" must have shape {shape}, got {matrix.shape}')
    return matrix


def _camera_entry(info, camera):
    """The ``info['images'][camera]`` dict; KeyError naming the camera when it is missing."""
    images = info.get('images', {})
    if camera not in images:
        raise KeyError(f'nuScenes info has no camera "{camera}" in "images" (has {", ".join(sorted(images))})')
    return images[camera]


def lidar2cam_from_info(info, camera):
    """(4, 4) LiDAR -> camera transform of ``camera`` in an mmdet3d v1.x nuScenes info.

    Uses ``images[camera]['lidar2cam']`` when present (mmdet3d composes it from the full chain). Otherwise composes
    the chain from ``images[camera]['cam2ego']``, ``images[camera]['ego2global']`` (ego pose at the camera
    timestamp), ``lidar_points['lidar2ego']`` and the sample's ``ego2global`` (ego pose at the LiDAR timestamp).
    """
    image = _camera_entry(info, camera)
    if 'lidar2cam' in image:
        return _matrix(image, 'lidar2cam', f'camera {camera}', (4, 4))
    where = f'camera {camera} (no "lidar2cam", composing the chain)'
    cam2ego = _matrix(image, 'cam2ego', where, (4, 4))
    ego2global_cam = _matrix(image, 'ego2global', where, (4, 4))
    lidar2ego = _matrix(info.get('lidar_points', {}), 'lidar2ego', f'"lidar_points" for {where}', (4, 4))
    ego2global_lidar = _matrix(info, 'ego2global', f'the sample for {where}', (4, 4))
    return lidar_to_camera(lidar2ego, ego2global_lidar, ego2global_cam, cam2ego)


def camera_poses_from_info(info, cameras=NUSCENES_CAMERAS) -> NuScenesCameras:
    """Names, (V, 4, 4) camera-to-LiDAR poses, (V, 3, 3) intrinsics, image paths and image size of one nuScenes
    info entry. The size is the cameras' ``width`` / ``height`` (written by tools/create_data.py nuscenes;
    1600x900 when absent, as in mmdet3d's infos); cameras of different sizes raise ValueError."""
    lidar2cam = np.stack([lidar2cam_from_info(info, camera) for camera in cameras])
    entries = [_camera_entry(info, camera) for camera in cameras]
    intrinsic = np.stack([_matrix(entry, 'cam2img', f'camera {camera}', (3, 3))
                          for camera, entry in zip(cameras, entries)])
    sizes = {(entry.get('width', NUSCENES_IMAGE_SIZE[0]), entry.get('height', NUSCENES_IMAGE_SIZE[1]))
             for entry in entries}
    if len(sizes) > 1:
        raise ValueError(f'nuScenes info: the cameras have different image sizes {sorted(sizes)}')
    return NuScenesCameras(tuple(cameras), invert_rigid(lidar2cam), intrinsic,
                           tuple(entry.get('img_path') for entry in entries), sizes.pop())


def pair_lidar_with_cameras(points_xyz, info_or_cameras, label_images, min_depth=1.0,
                            ignore_label=IMAGE_IGNORE) -> PointPixelPairs:
    """Pairs (point, camera, pixel label) of a LiDAR sweep with the label images of its V cameras.

    Args:
        points_xyz: (N, 3) points in the LiDAR frame, metres.
        info_or_cameras: an mmdet3d v1.x nuScenes info entry (dict) or :class:`NuScenesCameras`.
        label_images: (V, H, W) integer labels in camera order, any size: the intrinsics are scaled from the
            camera image size (1600x900) to (W, H).
        min_depth: keep points with camera z > min_depth metres (nuScenes has no depth maps: 1 m).
        ignore_label: label-image value that gives no pair.
    """
    cameras = info_or_cameras if isinstance(info_or_cameras, NuScenesCameras) else \
        camera_poses_from_info(info_or_cameras)
    label_images = np.asarray(label_images)
    if label_images.ndim != 3 or len(label_images) != len(cameras.names):
        raise ValueError(f'label_images must be ({len(cameras.names)}, H, W), got shape {label_images.shape}')
    label_size = (label_images.shape[2], label_images.shape[1])
    intrinsic = np.stack([scale_intrinsic(k, cameras.image_size, label_size) for k in cameras.intrinsic])
    return pair_points_with_pixels(points_xyz, cameras.cam2lidar, label_images, intrinsic, min_depth=min_depth,
                                   ignore_label=ignore_label)
