"""Synthetic inputs of the benchmarks: a ScanNet-size box room with cameras and depth, a bumpy grid mesh and a
nuScenes-like LiDAR sweep. Units: metres, pixels."""
import numpy as np

ROOM_SIZE = (6.0, 5.0, 3.0)  # metres, an axis-aligned box room with a corner at the origin
SCANNET_DEPTH_FOCAL = 577.87  # pixels, ScanNet's depth camera at 640x480


def box_room_points(num_points, rng):
    """(N, 3) points uniform over the 6 faces (walls, floor, ceiling) of the ``ROOM_SIZE`` box, metres."""
    size = np.asarray(ROOM_SIZE)
    face_axis = np.repeat([0, 1, 2], 2)  # the axis each face is normal to
    face_area = np.prod(size) / size[face_axis]
    face = rng.choice(6, size=num_points, p=face_area / face_area.sum())
    xyz = rng.random((num_points, 3)) * size
    xyz[np.arange(num_points), face_axis[face]] = np.where(face % 2 == 0, 0.0, size[face_axis[face]])
    return xyz


def room_cameras(num_frames, height=1.5):
    """(V, 4, 4) camera-to-world poses at the room centre, looking horizontally at evenly spaced yaws."""
    poses = np.tile(np.eye(4), (num_frames, 1, 1))
    for pose, yaw in zip(poses, np.linspace(0, 2 * np.pi, num_frames, endpoint=False)):
        forward = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        down = np.array([0.0, 0.0, -1.0])
        pose[:3, :3] = np.stack([np.cross(down, forward), down, forward], axis=1)  # columns: x right, y down, z
        pose[:3, 3] = [ROOM_SIZE[0] / 2, ROOM_SIZE[1] / 2, height]
    return poses


def render_box_depth(camera_to_world, intrinsic, image_size):
    """(V, H, W) float32 depth maps (camera z, metres) of the inside of the ``ROOM_SIZE`` box, by ray casting."""
    width, height = image_size
    col, row = np.meshgrid(np.arange(width), np.arange(height))
    rays = np.stack([(col - intrinsic[0, 2]) / intrinsic[0, 0], (row - intrinsic[1, 2]) / intrinsic[1, 1],
                     np.ones_like(col, dtype=np.float64)], axis=-1)  # camera frame, z = 1
    world_rays = np.einsum('vij,hwj->vhwi', camera_to_world[:, :3, :3], rays)
    centre = camera_to_world[:, None, None, :3, 3]
    bound = np.where(world_rays > 0, np.asarray(ROOM_SIZE), 0.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        steps = np.where(world_rays != 0, (bound - centre) / world_rays, np.inf)
    return steps.min(axis=-1).astype(np.float32)  # the ray's z is 1, so the step to the first face is its depth


def synthetic_pairing_scene(num_points, num_frames, image_size, num_classes=20, seed=0):
    """A ScanNet-like scene: points (N, 3), poses (V, 4, 4), depth (V, H, W) metres, labels (V, H, W) uint8,
    intrinsics (3, 3) of a 640x480-like camera scaled to ``image_size`` (W, H) pixels."""
    rng = np.random.default_rng(seed)
    focal = SCANNET_DEPTH_FOCAL * image_size[0] / 640
    intrinsic = np.array([[focal, 0, (image_size[0] - 1) / 2], [0, focal, (image_size[1] - 1) / 2], [0, 0, 1]])
    poses = room_cameras(num_frames)
    labels = rng.integers(0, num_classes, size=(num_frames, image_size[1], image_size[0]), dtype=np.uint8)
    return box_room_points(num_points, rng), poses, render_box_depth(poses, intrinsic, image_size), labels, intrinsic


def bumpy_grid_mesh(side, spacing=0.02, bump_height=0.05, bump_period=0.5):
    """A ``side`` x ``side`` vertex height-field mesh (metres): vertices (side^2, 3), faces (2 (side-1)^2, 3)."""
    x, y = np.meshgrid(np.arange(side) * spacing, np.arange(side) * spacing, indexing='ij')
    z = bump_height * np.sin(2 * np.pi * x / bump_period) * np.cos(2 * np.pi * y / bump_period)
    vertices = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    v00 = (np.arange(side - 1)[:, None] * side + np.arange(side - 1)[None]).reshape(-1)
    faces = np.concatenate([np.stack([v00, v00 + side, v00 + side + 1], 1),
                            np.stack([v00, v00 + side + 1, v00 + 1], 1)])
    return vertices, faces


def synthetic_lidar_sweep(num_rings=32, points_per_ring=1084, sensor_height=1.8, wall_radius=30.0):
    """A nuScenes-like sweep (num_rings * points_per_ring, 3), LiDAR frame, metres: rings from -30 to +10 degrees
    hitting a ground plane ``sensor_height`` below the sensor or a wavy cylindrical wall."""
    elevation, azimuth = np.meshgrid(np.radians(np.linspace(-30, 10, num_rings)),
                                     np.linspace(-np.pi, np.pi, points_per_ring, endpoint=False), indexing='ij')
    wall = wall_radius * (1 + 0.1 * np.sin(6 * azimuth))
    ground = np.where(elevation < 0, sensor_height / np.tan(-np.minimum(elevation, -1e-6)), np.inf)
    horizontal_range = np.minimum(ground, wall)
    xyz = np.stack([horizontal_range * np.cos(azimuth), horizontal_range * np.sin(azimuth),
                    horizontal_range * np.tan(elevation)], axis=-1)
    return xyz.reshape(-1, 3)
