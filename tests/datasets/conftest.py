"""Fixtures for the dataset tests: the real sample folder and a writer of tiny ScanNet-layout scenes."""
import os
import types
from pathlib import Path

import numpy as np
import plyfile
import pytest
from PIL import Image

COLOR_SIZE = (8, 6)  # W, H of the tiny colour frames
DEPTH_SIZE = (4, 3)  # W, H of the tiny depth frames
INTRINSIC_COLOR = np.array([[10.0, 0, 4, 0], [0, 10.0, 3, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
INTRINSIC_DEPTH = np.array([[5.0, 0, 2, 0], [0, 5.0, 1.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])


def grid_mesh(size=3, offset=0.0):
    """A size x size vertex grid: xyz (N, 3) float32, rgb (N, 3) uint8, faces (F, 3) int32 triangles."""
    u, v = np.meshgrid(np.arange(size), np.arange(size), indexing='ij')
    xyz = np.stack([u.ravel() * 0.5 + offset, v.ravel() * 0.25, (u * v).ravel() * 0.1], 1).astype(np.float32)
    rgb = ((np.arange(len(xyz))[:, None] * np.array([7, 13, 29])) % 256).astype(np.uint8)
    corner = (u[:-1, :-1] * size + v[:-1, :-1]).ravel()
    faces = np.concatenate([np.stack([corner, corner + size, corner + 1], 1),
                            np.stack([corner + 1, corner + size, corner + size + 1], 1)]).astype(np.int32)
    return xyz, rgb, faces


def _vertex_element(xyz, rgb, extra=()):
    """plyfile vertex element in ScanNet's layout (float x y z, uchar red green blue alpha) plus ``extra``."""
    fields = [('x', 'f4'), ('y', 'f4'), ('z', 'f4'), ('red', 'u1'), ('green', 'u1'), ('blue', 'u1'),
              ('alpha', 'u1')] + [(name, values.dtype.str) for name, values in extra]
    vertex = np.zeros(len(xyz), dtype=fields)
    for axis, name in enumerate('xyz'):
        vertex[name] = xyz[:, axis]
    for channel, name in enumerate(('red', 'green', 'blue')):
        vertex[name] = rgb[:, channel]
    vertex['alpha'] = 255
    for name, values in extra:
        vertex[name] = values
    return plyfile.PlyElement.describe(vertex, 'vertex')


def _face_element(faces):
    """plyfile face element with ScanNet's ``list uchar int vertex_indices``."""
    face = np.zeros(len(faces), dtype=[('vertex_indices', 'i4', (faces.shape[1],))])
    face['vertex_indices'] = faces
    return plyfile.PlyElement.describe(face, 'face', len_types={'vertex_indices': 'u1'},
                                       val_types={'vertex_indices': 'i4'})


def write_mesh(path, xyz, rgb, faces=None):
    """Write a binary ScanNet-style ``_vh_clean_2.ply``."""
    elements = [_vertex_element(xyz, rgb)] + ([] if faces is None else [_face_element(faces)])
    plyfile.PlyData(elements, byte_order='<').write(str(path))


def write_labels(path, xyz, labels, faces=None):
    """Write a ScanNet-style ``_vh_clean_2.labels.ply`` (vertex ``label`` ushort)."""
    rgb = np.zeros((len(xyz), 3), np.uint8)
    elements = [_vertex_element(xyz, rgb, [('label', np.asarray(labels, np.uint16))])]
    elements += [] if faces is None else [_face_element(faces)]
    plyfile.PlyData(elements, byte_order='<').write(str(path))


def write_depth(path, depth_mm):
    """Write a uint16 depth PNG (millimetres)."""
    Image.fromarray(np.asarray(depth_mm, np.uint16)).save(path)


def write_pose(path, pose):
    """Write a 4x4 (or any 2-D) matrix as SensReader text."""
    np.savetxt(path, np.atleast_2d(pose), fmt='%f')


def camera_pose(index):
    """A rigid camera-to-world pose that varies with ``index``."""
    angle = 0.1 * index
    pose = np.eye(4)
    pose[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    pose[:3, 3] = [index * 0.25, 1.0, 1.5]
    return pose


def write_frames(frames_dir, num_frames, label_frames=()):
    """SensReader export: color/depth/pose per frame, intrinsics, label-filt/instance-filt for ``label_frames``."""
    for folder in ('color', 'depth', 'pose', 'intrinsic', 'label-filt', 'instance-filt'):
        os.makedirs(os.path.join(frames_dir, folder), exist_ok=True)
    for index in range(num_frames):
        Image.new('RGB', COLOR_SIZE, (index * 40, 90, 200)).save(os.path.join(frames_dir, 'color', f'{index}.jpg'))
        depth = np.full(DEPTH_SIZE[::-1], 1000 + index, np.uint16)
        write_depth(os.path.join(frames_dir, 'depth', f'{index}.png'), depth)
        write_pose(os.path.join(frames_dir, 'pose', f'{index}.txt'), camera_pose(index))
    for index in label_frames:
        label = np.full(COLOR_SIZE[::-1], 5, np.uint16)
        Image.fromarray(label).save(os.path.join(frames_dir, 'label-filt', f'{index}.png'))
        Image.fromarray(label).save(os.path.join(frames_dir, 'instance-filt', f'{index}.png'))
    write_pose(os.path.join(frames_dir, 'intrinsic', 'intrinsic_color.txt'), INTRINSIC_COLOR)
    write_pose(os.path.join(frames_dir, 'intrinsic', 'intrinsic_depth.txt'), INTRINSIC_DEPTH)


def write_scene(root, scene_id, num_frames=2, labels=True, scans='scans', frames_root=None, label_frames=(0,)):
    """A tiny ScanNet-layout scene under ``root/<scans>/<scene_id>``; returns the arrays written.

    Frames go to ``frames_root/<scene_id>`` (default: the scan folder).
    """
    scene_dir = Path(root) / scans / scene_id
    scene_dir.mkdir(parents=True, exist_ok=True)
    xyz, rgb, faces = grid_mesh(offset=float(sum(map(ord, scene_id)) % 7))
    write_mesh(scene_dir / f'{scene_id}_vh_clean_2.ply', xyz, rgb, faces)
    raw_labels = (np.arange(len(xyz)) * 3 % 41).astype(np.int64)
    if labels:
        write_labels(scene_dir / f'{scene_id}_vh_clean_2.labels.ply', xyz, raw_labels, faces)
    frames_dir = scene_dir if frames_root is None else Path(frames_root) / scene_id
    write_frames(str(frames_dir), num_frames, label_frames)
    return dict(scene_dir=scene_dir, frames_dir=frames_dir, xyz=xyz, rgb=rgb, faces=faces, labels=raw_labels)


def write_split(root, split, scene_ids):
    """Write ``root/scannetv2_<split>.txt``."""
    Path(root, f'scannetv2_{split}.txt').write_text(''.join(f'{scene_id}\n' for scene_id in scene_ids))


@pytest.fixture
def layout():
    """The tiny-scene writers, as a namespace."""
    return types.SimpleNamespace(
        grid_mesh=grid_mesh, write_mesh=write_mesh, write_labels=write_labels, write_depth=write_depth,
        write_pose=write_pose, camera_pose=camera_pose, write_frames=write_frames, write_scene=write_scene,
        write_split=write_split, COLOR_SIZE=COLOR_SIZE, DEPTH_SIZE=DEPTH_SIZE,
        INTRINSIC_COLOR=INTRINSIC_COLOR, INTRINSIC_DEPTH=INTRINSIC_DEPTH)
