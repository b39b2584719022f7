"""Readers of ScanNet's raw layout: round trips, clear errors, and the real SensReader sample."""
import re

import numpy as np
import plyfile
import pytest
from PIL import Image

from hicl.converters.scannet_raw import (InvalidPoseError, list_frames, read_image_size, read_intrinsic, read_mesh,
                                         read_pose, read_vertex_labels)
from hicl.dataset_io import ScanNetFormatError, ScanNetMissingFileError, read_depth


def names(path):
    """Regex matching the file path inside an error message."""
    return re.escape(str(path))


@pytest.fixture
def mesh_file(tmp_path, layout):
    """A valid 3x3-grid mesh file and its arrays."""
    xyz, rgb, faces = layout.grid_mesh()
    path = tmp_path / 'scene_vh_clean_2.ply'
    layout.write_mesh(path, xyz, rgb, faces)
    return path, xyz, rgb, faces


def test_read_mesh_round_trip(mesh_file):
    path, xyz, rgb, faces = mesh_file
    mesh = read_mesh(str(path))
    assert mesh['xyz'].dtype == np.float32 and mesh['rgb'].dtype == np.uint8 and mesh['faces'].dtype == np.int32
    np.testing.assert_array_equal(mesh['xyz'], xyz)
    np.testing.assert_array_equal(mesh['rgb'], rgb)
    np.testing.assert_array_equal(mesh['faces'], faces)


def test_read_mesh_without_faces(tmp_path, layout):
    xyz, rgb, _ = layout.grid_mesh()
    layout.write_mesh(tmp_path / 'm.ply', xyz, rgb)
    assert read_mesh(str(tmp_path / 'm.ply'))['faces'] is None


def test_read_mesh_missing_file(tmp_path):
    path = tmp_path / 'absent_vh_clean_2.ply'
    with pytest.raises(FileNotFoundError, match=names(path)) as error:
        read_mesh(str(path))
    assert isinstance(error.value, ScanNetFormatError)


@pytest.mark.parametrize('cut', [10, 100, 300])
def test_read_mesh_truncated(mesh_file, cut):
    path = mesh_file[0]
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - cut])
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*(truncated|not a readable PLY)'):
        read_mesh(str(path))


def test_read_mesh_not_a_ply(tmp_path):
    path = tmp_path / 'm.ply'
    path.write_text('hello\n')
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*not a readable PLY'):
        read_mesh(str(path))


def test_read_mesh_missing_colour(tmp_path):
    vertex = np.zeros(3, dtype=[('x', 'f4'), ('y', 'f4'), ('z', 'f4')])
    path = tmp_path / 'm.ply'
    plyfile.PlyData([plyfile.PlyElement.describe(vertex, 'vertex')]).write(str(path))
    with pytest.raises(ScanNetFormatError, match=names(path) + r".*\['red', 'green', 'blue'\] missing"):
        read_mesh(str(path))


def test_read_mesh_nan_coordinates(tmp_path, layout):
    xyz, rgb, faces = layout.grid_mesh()
    xyz[2, 0] = np.nan
    xyz[5, 1] = np.inf
    path = tmp_path / 'm.ply'
    layout.write_mesh(path, xyz, rgb, faces)
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*2 of 9 vertices have NaN/inf'):
        read_mesh(str(path))


def test_read_mesh_face_out_of_range(tmp_path, layout):
    xyz, rgb, faces = layout.grid_mesh()
    faces[3] = [0, 1, 9]
    path = tmp_path / 'm.ply'
    layout.write_mesh(path, xyz, rgb, faces)
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*1 faces index vertices outside 0..8'):
        read_mesh(str(path))


def test_read_mesh_rejects_quads(tmp_path, layout):
    xyz, rgb, _ = layout.grid_mesh()
    path = tmp_path / 'm.ply'
    layout.write_mesh(path, xyz, rgb, np.array([[0, 1, 4, 3]], np.int32))
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*not a triangle'):
        read_mesh(str(path))


def test_read_vertex_labels(tmp_path, layout):
    xyz, _, faces = layout.grid_mesh()
    labels = np.array([0, 1, 2, 3, 39, 40, 14, 7, 1])
    path = tmp_path / 'labels.ply'
    layout.write_labels(path, xyz, labels, faces)
    read = read_vertex_labels(str(path), len(xyz))
    assert read.dtype == np.int64
    np.testing.assert_array_equal(read, labels)
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*9 labelled vertices but the mesh has 10'):
        read_vertex_labels(str(path), 10)


def test_read_vertex_labels_without_label_property(mesh_file):
    path = mesh_file[0]
    with pytest.raises(ScanNetFormatError, match=names(path) + r".*\['label'\] missing"):
        read_vertex_labels(str(path), 9)


def test_read_pose(tmp_path, layout):
    path = tmp_path / 'pose.txt'
    pose = layout.camera_pose(3)
    layout.write_pose(path, pose)
    read = read_pose(str(path))
    assert read.shape == (4, 4) and read.dtype == np.float64
    np.testing.assert_allclose(read, pose, atol=1e-6)


def test_read_pose_invalid_marker(tmp_path, layout):
    path = tmp_path / 'pose.txt'
    layout.write_pose(path, np.full((4, 4), -np.inf))
    with pytest.raises(InvalidPoseError, match=names(path) + '.*16 non-finite'):
        read_pose(str(path))


@pytest.mark.parametrize('matrix, message', [
    (np.eye(4)[:3], 'shape \\(3, 4\\), expected 4x4'),
    (np.diag([2.0, 1.0, 1.0, 1.0]), 'not rigid'),
    (np.diag([1.0, 1.0, -1.0, 1.0]), 'not rigid'),
    (np.vstack([np.eye(4)[:3], [0, 0, 1, 1]]), 'last row'),
])
def test_read_pose_rejects(tmp_path, layout, matrix, message):
    path = tmp_path / 'pose.txt'
    layout.write_pose(path, matrix)
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*' + message):
        read_pose(str(path))


def test_read_pose_unparseable(tmp_path):
    path = tmp_path / 'pose.txt'
    path.write_text('1 0 0 x\n')
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*cannot parse'):
        read_pose(str(path))


def test_read_intrinsic_accepts_4x4_and_3x3(tmp_path, layout):
    layout.write_pose(tmp_path / 'k4.txt', layout.INTRINSIC_COLOR)
    layout.write_pose(tmp_path / 'k3.txt', layout.INTRINSIC_COLOR[:3, :3])
    np.testing.assert_allclose(read_intrinsic(str(tmp_path / 'k4.txt')), layout.INTRINSIC_COLOR)
    np.testing.assert_allclose(read_intrinsic(str(tmp_path / 'k3.txt')), layout.INTRINSIC_COLOR)


@pytest.mark.parametrize('shape', [(3, 4), (2, 2), (1, 4)])
def test_read_intrinsic_wrong_shape(tmp_path, layout, shape):
    path = tmp_path / 'intrinsic_color.txt'
    layout.write_pose(path, np.ones(shape))
    with pytest.raises(ScanNetFormatError, match=names(path) + '.*shape ' + re.escape(str(shape)) + '.*expected 4x4'):
        read_intrinsic(str(path))


def test_read_depth(tmp_path, layout):
    depth_mm = np.array([[0, 1, 65535], [1500, 2999, 42]], np.uint16)
    layout.write_depth(tmp_path / 'd.png', depth_mm)
    depth = read_depth(str(tmp_path / 'd.png'))
    assert depth.dtype == np.float32 and depth.shape == (2, 3)
    np.testing.assert_array_equal(depth, depth_mm.astype(np.float32) / np.float32(1000))
    np.testing.assert_array_equal(read_depth(str(tmp_path / 'd.png'), depth_scale=1.0), depth_mm)


@pytest.mark.parametrize('mode', ['L', 'RGB'])
def test_read_depth_rejects_8bit(tmp_path, mode):
    path = tmp_path / 'd.png'
    Image.new(mode, (4, 3)).save(path)
    with pytest.raises(ScanNetFormatError, match=names(path) + f".*mode '{mode}'.*16-bit"):
        read_depth(str(path))


def test_read_depth_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match=names(tmp_path / 'd.png')):
        read_depth(str(tmp_path / 'd.png'))


def test_list_frames_numeric_order(tmp_path, layout):
    layout.write_frames(str(tmp_path), 11)
    assert list_frames(str(tmp_path)) == [str(index) for index in range(11)]


@pytest.mark.parametrize('kind, path', [('depth', 'depth/1.png'), ('pose', 'pose/1.txt')])
def test_list_frames_missing_depth_or_pose(tmp_path, layout, kind, path):
    scene = tmp_path / 'scene0001_00'
    layout.write_frames(str(scene), 2)
    (scene / path).unlink()
    with pytest.raises(ScanNetMissingFileError, match=names(scene / path) + f'.*scene0001_00 frame 1 .*no {kind}'):
        list_frames(str(scene))


def test_list_frames_without_color_folder(tmp_path):
    with pytest.raises(ScanNetMissingFileError, match=names(tmp_path / 'color')):
        list_frames(str(tmp_path))


def back_project(depth, intrinsic, cam_to_world):
    """World points (M, 3) of the valid depth pixels (pixel centres at integer coordinates)."""
    rows, cols = np.nonzero(depth > 0)
    z = depth[rows, cols].astype(np.float64)
    x = (cols - intrinsic[0, 2]) * z / intrinsic[0, 0]
    y = (rows - intrinsic[1, 2]) * z / intrinsic[1, 1]
    return (cam_to_world @ np.stack([x, y, z, np.ones_like(z)]))[:3].T


def reprojection_errors(points, depth, intrinsic, cam_to_world):
    """|projected z - observed depth| (metres) for points landing on valid pixels of ``depth``."""
    cam = (np.linalg.inv(cam_to_world) @ np.c_[points, np.ones(len(points))].T)[:3]
    in_front = cam[2] > 0.1
    cam = cam[:, in_front]
    cols = np.round(intrinsic[0, 0] * cam[0] / cam[2] + intrinsic[0, 2]).astype(int)
    rows = np.round(intrinsic[1, 1] * cam[1] / cam[2] + intrinsic[1, 2]).astype(int)
    inside = (cols >= 0) & (cols < depth.shape[1]) & (rows >= 0) & (rows < depth.shape[0])
    observed = depth[rows[inside], cols[inside]]
    valid = observed > 0
    return np.abs(cam[2][inside][valid] - observed[valid])


def test_real_sample_depth_reprojects_across_frames(shared_data):
    scene = shared_data / 'scannet_rgbd_scene0707_00'
    assert list_frames(str(scene)) == ['0', '1', '2']
    intrinsic = read_intrinsic(str(scene / 'intrinsic' / 'intrinsic_depth.txt'))
    assert read_intrinsic(str(scene / 'intrinsic' / 'intrinsic_color.txt'))[0, 0] == pytest.approx(1165.723022)
    assert read_image_size(str(scene / 'color' / '0.jpg')) == [1296, 968]
    depth0, depth2 = (read_depth(str(scene / 'depth' / f'{index}.png')) for index in (0, 2))
    assert depth0.shape == (480, 640) and 0.8 < (depth0 > 0).mean() < 1.0 and depth0.max() < 10
    pose0, pose2 = (read_pose(str(scene / 'pose' / f'{index}.txt')) for index in (0, 2))
    points = back_project(depth0, intrinsic, pose0)
    errors = reprojection_errors(points, depth2, intrinsic, pose2)  # frames 0 and 2 are only 1.6 cm apart
    assert len(errors) > 0.5 * len(points)
    assert np.median(errors) < 0.02
    shifted_pose2 = pose2.copy()
    shifted_pose2[:3, 3] += pose2[:3, 2] * 0.1  # camera moved 10 cm along its optical axis
    assert np.median(reprojection_errors(points, depth2, intrinsic, shifted_pose2)) > 0.05
