"""Synthetic inputs of the benchmarks: a ScanNet-size box room with cameras and depth, a bumpy grid mesh and a
nuScenes-like LiDAR sweep. Units: metres, pixels."""
import numpy as np

from ..synthetic import Boxes, render_view

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


def room_walls(thickness=0.1):
    """The 6 faces (floor, ceiling, 4 walls) of the ``ROOM_SIZE`` room as ``thickness``-m Boxes just outside it."""
    size = np.asarray(ROOM_SIZE)
    centers, sizes = [], []
    for axis in range(3):
        for side in (-thickness / 2, size[axis] + thickness / 2):
            center, extent = size / 2, size + 2 * thickness
            centers.append(np.where(np.arange(3) == axis, side, center))
            sizes.append(np.where(np.arange(3) == axis, thickness, extent))
    count = len(centers)
    return Boxes(centers=np.array(centers), sizes=np.array(sizes), yaws=np.zeros(count),
                 colors=np.zeros((count, 3), np.uint8), labels=np.zeros(count, np.int64),
                 instances=np.arange(1, count + 1))


def render_box_depth(camera_to_world, intrinsic, image_size):
    """(V, H, W) float32 depth maps (camera z, metres) of the inside of the ``ROOM_SIZE`` room, ray-cast with
    :func:`hicl.synthetic.render_view`."""
    walls = room_walls()
    return np.stack([render_view(walls, pose, intrinsic, image_size).depth for pose in camera_to_world])


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
