"""The nuScenes sensor rig: LIDAR_TOP and six cameras with nuScenes-like extrinsics, intrinsics and timing.

Extrinsics are sensor-to-ego 4x4 matrices (ego: x forward, y left, z up, on the ground below the rear axle).
The LiDAR frame has x to the ego's right and y forward; cameras follow OpenCV (x right, y down, z forward).
Rotations below are rounded values of one real nuScenes calibration, made orthonormal on use.
"""
import numpy as np
from scipy.spatial.transform import Rotation

from ..geometry.nuscenes import NUSCENES_CAMERAS, NUSCENES_IMAGE_SIZE
from ..geometry.projection import scale_intrinsic

LIDAR = 'LIDAR_TOP'
CHANNELS = (LIDAR,) + NUSCENES_CAMERAS
# channel: (rotation rows, translation m)
EXTRINSICS = {
    LIDAR: (((0.002, 0.9997, 0.0242), (-1.0, 0.0022, -0.0058), (-0.0059, -0.0242, 0.9997)), (0.9437, 0.0, 1.8402)),
    'CAM_FRONT': (((0.0057, -0.0056, 1.0), (-1.0, -0.0008, 0.0057), (0.0008, -1.0, -0.0056)), (1.70, 0.016, 1.51)),
    'CAM_FRONT_RIGHT': (((-0.833, 0.0, 0.553), (-0.553, 0.016, -0.833), (-0.009, -1.0, -0.014)), (1.55, -0.49, 1.50)),
    'CAM_FRONT_LEFT': (((0.821, 0.0, 0.571), (-0.571, 0.003, 0.821), (-0.002, -1.0, 0.002)), (1.52, 0.49, 1.51)),
    'CAM_BACK': (((0.002, -0.017, -1.0), (1.0, -0.004, 0.002), (-0.004, -1.0, 0.017)), (0.03, 0.0, 1.58)),
    'CAM_BACK_LEFT': (((0.948, 0.009, -0.319), (0.319, -0.014, 0.948), (0.004, -1.0, -0.016)), (1.04, 0.48, 1.59)),
    'CAM_BACK_RIGHT': (((-0.935, 0.016, -0.355), (0.355, 0.011, -0.935), (-0.011, -1.0, -0.016)), (1.01, -0.48, 1.56)),
}
# (focal length, principal point x, y) in pixels of the 1600 x 900 images
INTRINSICS = {
    'CAM_FRONT': (1266.4, 816.3, 491.5), 'CAM_FRONT_RIGHT': (1260.8, 808.0, 495.3),
    'CAM_FRONT_LEFT': (1272.6, 826.6, 479.8), 'CAM_BACK': (809.2, 829.2, 481.8),
    'CAM_BACK_LEFT': (1256.7, 817.8, 452.0), 'CAM_BACK_RIGHT': (1259.5, 807.3, 501.2),
}
# Capture time relative to the LiDAR sweep's timestamp (microseconds): each camera fires when the spinning
# LiDAR sweeps across its field of view, as in nuScenes.
CAMERA_DELAYS = {'CAM_FRONT': -35500, 'CAM_FRONT_RIGHT': -27600, 'CAM_BACK_RIGHT': -20100, 'CAM_BACK': -10400,
                 'CAM_BACK_LEFT': -500, 'CAM_FRONT_LEFT': -43100}


def orthonormal(matrix):
    """The rotation (3, 3) nearest to ``matrix`` (polar decomposition by SVD)."""
    u, _, vt = np.linalg.svd(np.asarray(matrix, dtype=np.float64))
    return u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt


def sample_rig(rng, jitter_deg=0.2, jitter_m=0.01):
    """{channel: (4, 4) sensor-to-ego} of one vehicle: the nominal extrinsics with small random calibration
    differences (rotation ~``jitter_deg`` degrees, translation ~``jitter_m`` m)."""
    rig = {}
    for channel in CHANNELS:
        rotation, translation = EXTRINSICS[channel]
        jitter = Rotation.from_rotvec(np.deg2rad(rng.normal(0.0, jitter_deg, 3))).as_matrix()
        pose = np.eye(4)
        pose[:3, :3] = jitter @ orthonormal(rotation)
        pose[:3, 3] = np.asarray(translation) + rng.normal(0.0, jitter_m, 3)
        rig[channel] = pose
    return rig


def camera_intrinsic(channel, size):
    """(3, 3) intrinsics of camera ``channel`` for images of ``size`` = (W, H) pixels (scaled from 1600 x 900)."""
    focal, center_x, center_y = INTRINSICS[channel]
    full = np.array([[focal, 0.0, center_x], [0.0, focal, center_y], [0.0, 0.0, 1.0]])
    return scale_intrinsic(full, NUSCENES_IMAGE_SIZE, size)


def quaternion(rotation):
    """nuScenes quaternion [w, x, y, z] of a (3, 3) rotation, with w >= 0."""
    x, y, z, w = Rotation.from_matrix(rotation).as_quat()
    return [float(value) for value in (np.array([w, x, y, z]) * (1.0 if w >= 0 else -1.0))]
