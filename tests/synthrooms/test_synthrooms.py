"""SynthRooms: determinism, ScanNet file layout, and geometric consistency of mesh, depth, poses and labels."""
import os

import numpy as np
import pytest
from PIL import Image
from plyfile import PlyData, PlyListProperty
from scipy.spatial import cKDTree

from hicl.label_sets import SCANNET20_NYU40_IDS
from hicl.synthrooms import generate_scene, generate_synthrooms, writer
from hicl.synthrooms.cameras import color_intrinsic, depth_intrinsic
from hicl.synthrooms.layout import ROOM_TYPE_ORDER, generate_layout

COLOR_SIZE, DEPTH_SIZE = (160, 120), (120, 90)
SMALL = dict(frames_per_scene=2, color_size=COLOR_SIZE, depth_size=DEPTH_SIZE)
COARSE = dict(SMALL, vertex_spacing=0.1)  # for the file-level tests: fewer vertices, faster


@pytest.fixture(scope='module')
def scene():
    return generate_scene('scene0000_00', (0, 0), room_type='bedroom', **SMALL)


@pytest.fixture(scope='module')
def dense_scene():
    """Vertices 2 cm apart, so the nearest vertex of a surface point is within ~1.4 cm."""
    return generate_scene('scene0001_00', (0, 1), room_type='bathroom', vertex_spacing=0.02, **SMALL)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthrooms') / 'raw')
    names = generate_synthrooms(root, num_train=1, num_val=1, num_test=1, seed=0, progress=False, **COARSE)
    return root, names


def _files(root):
    """{relative path: bytes} of every file under ``root``."""
    contents = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, 'rb') as file:
                contents[os.path.relpath(path, root)] = file.read()
    return contents


def _read_image(path):
    return np.array(Image.open(path))


def _backproject(depth_mm, intrinsic, pose):
    """World points (M, 3) of the valid pixels of a depth map, and their pixel coordinates (M, 2) as (u, v)."""
    v, u = np.nonzero(depth_mm)
    z = depth_mm[v, u] / 1000.0
    camera = np.stack([(u - intrinsic[0, 2]) * z / intrinsic[0, 0], (v - intrinsic[1, 2]) * z / intrinsic[1, 1], z], 1)
    return camera @ pose[:3, :3].T + pose[:3, 3], np.stack([u, v], 1)


def test_same_seed_gives_identical_scene_and_other_seed_differs(scene):
    again = generate_scene('scene0000_00', (0, 0), room_type='bedroom', **SMALL)
    for field in ('vertices', 'faces', 'colors', 'labels', 'instances'):
        np.testing.assert_array_equal(getattr(scene.mesh, field), getattr(again.mesh, field))
    for frame, frame_again in zip(scene.frames, again.frames):
        for field in ('pose', 'color', 'depth', 'label', 'instance'):
            np.testing.assert_array_equal(getattr(frame, field), getattr(frame_again, field))
    other = generate_scene('scene0000_00', (1, 0), room_type='bedroom', **SMALL)
    assert not np.array_equal(other.mesh.vertices, scene.mesh.vertices)
    assert not np.array_equal(other.frames[0].color, scene.frames[0].color)


def test_written_files_are_byte_identical_for_the_same_seed(dataset, tmp_path):
    root, _ = dataset
    generate_synthrooms(str(tmp_path), num_train=1, num_val=1, num_test=1, seed=0, progress=False, **COARSE)
    assert _files(root) == _files(str(tmp_path))


def test_scannet_file_layout_and_splits(dataset):
    root, names = dataset
    assert names == ['scene0000_00', 'scene0001_00', 'scene0002_00']
    assert open(os.path.join(root, 'scannetv2_train.txt')).read().split() == ['scene0000_00']
    assert open(os.path.join(root, 'scannetv2_val.txt')).read().split() == ['scene0001_00']
    assert open(os.path.join(root, 'scannetv2_test.txt')).read().split() == ['scene0002_00']
    assert sorted(os.listdir(os.path.join(root, 'scans'))) == ['scene0000_00', 'scene0001_00']
    assert os.listdir(os.path.join(root, 'scans_test')) == ['scene0002_00']  # test scans apart, as ScanNet's
    scene_dir = os.path.join(root, 'scans', 'scene0001_00')
    expected = {'scene0001_00_vh_clean_2.ply', 'scene0001_00_vh_clean_2.labels.ply', '.complete',
                'intrinsic/intrinsic_color.txt', 'intrinsic/intrinsic_depth.txt', 'intrinsic/extrinsic_color.txt',
                'intrinsic/extrinsic_depth.txt'}
    for i in range(2):
        expected |= {f'color/{i}.jpg', f'depth/{i}.png', f'pose/{i}.txt', f'label-filt/{i}.png',
                     f'instance-filt/{i}.png'}
    assert set(_files(scene_dir)) == expected


def test_ply_files_have_scannet_properties(dataset):
    root, _ = dataset
    scene = generate_scene('scene0000_00', (0, 0), room_type=ROOM_TYPE_ORDER[0], **COARSE)
    prefix = os.path.join(root, 'scans', 'scene0000_00', 'scene0000_00_vh_clean_2')
    mesh_ply, labels_ply = PlyData.read(prefix + '.ply'), PlyData.read(prefix + '.labels.ply')
    rgba = [('x', 'f4'), ('y', 'f4'), ('z', 'f4'), ('red', 'u1'), ('green', 'u1'), ('blue', 'u1'), ('alpha', 'u1')]
    for ply, vertex_properties in ((mesh_ply, rgba), (labels_ply, rgba + [('label', 'u2'), ('instance', 'u2')])):
        assert not ply.text and ply.byte_order == '<'
        assert [element.name for element in ply.elements] == ['vertex', 'face']
        assert [(prop.name, prop.val_dtype) for prop in ply['vertex'].properties] == vertex_properties
        (face_property,) = ply['face'].properties
        assert isinstance(face_property, PlyListProperty) and face_property.name == 'vertex_indices'
        assert (face_property.len_dtype, face_property.val_dtype) == ('u1', 'i4')
        np.testing.assert_array_equal(np.stack(ply['face']['vertex_indices']), scene.mesh.faces)
    vertices = mesh_ply['vertex'].data
    np.testing.assert_array_equal(np.stack([vertices['x'], vertices['y'], vertices['z']], 1), scene.mesh.vertices)
    np.testing.assert_array_equal(np.stack([vertices['red'], vertices['green'], vertices['blue']], 1),
                                  scene.mesh.colors)
    np.testing.assert_array_equal(labels_ply['vertex']['label'], scene.mesh.labels)
    np.testing.assert_array_equal(labels_ply['vertex']['instance'], scene.mesh.instances)


def test_labels_are_nyu40_ids_of_the_20_classes(scene, dataset):
    valid = set(SCANNET20_NYU40_IDS)
    assert set(np.unique(scene.mesh.labels)) <= valid and {1, 2} <= set(np.unique(scene.mesh.labels))
    root, _ = dataset
    label_image = _read_image(os.path.join(root, 'scans', 'scene0000_00', 'label-filt', '0.png'))
    assert label_image.dtype == np.uint16 and set(np.unique(label_image)) <= valid | {0}
    # Over a few rooms of every type, every one of the 20 classes appears.
    seen = set()
    for index in range(3):
        for room_type in ROOM_TYPE_ORDER:
            seen |= set(generate_layout(np.random.default_rng((0, index)), room_type).boxes.labels.tolist())
    assert seen == valid


def test_mesh_is_a_dense_scan_like_surface_inside_the_room_with_instances(scene):
    mesh = scene.mesh
    assert 60_000 <= len(mesh.vertices) <= 160_000
    spacing, _ = cKDTree(mesh.vertices).query(mesh.vertices, k=2)
    assert 0.02 <= np.median(spacing[:, 1]) <= 0.035
    tolerance = 0.01  # scan noise (2 mm) and smoothing, which rounds edges and corners by a few centimetres
    assert np.all(mesh.vertices >= -3 * tolerance) and np.all(mesh.vertices <= scene.room_size + 3 * tolerance)
    floor = mesh.labels == 2
    assert np.mean(np.abs(mesh.vertices[floor, 2]) < tolerance) > 0.9  # the rest: rounded edges, near walls
    # Walls keep only their inner faces, on the room boundary.
    wall = mesh.vertices[mesh.labels == 1]
    distance_to_boundary = np.minimum(np.abs(wall[:, :2]), np.abs(scene.room_size[:2] - wall[:, :2])).min(1)
    assert np.mean(distance_to_boundary < tolerance) > 0.9
    assert len(np.unique(mesh.instances[mesh.labels == 1])) == 4 and len(np.unique(mesh.instances[floor])) == 1
    assert mesh.faces.min() == 0 and mesh.faces.max() == len(mesh.vertices) - 1


def test_image_sizes_intrinsics_and_poses(dataset):
    root, _ = dataset
    scene_dir = os.path.join(root, 'scans', 'scene0001_00')
    intrinsic_color = np.loadtxt(os.path.join(scene_dir, 'intrinsic', 'intrinsic_color.txt'))
    intrinsic_depth = np.loadtxt(os.path.join(scene_dir, 'intrinsic', 'intrinsic_depth.txt'))
    np.testing.assert_allclose(intrinsic_color, color_intrinsic(COLOR_SIZE), atol=1e-6)
    np.testing.assert_allclose(intrinsic_depth, depth_intrinsic(DEPTH_SIZE), atol=1e-6)
    for name in ('extrinsic_color.txt', 'extrinsic_depth.txt'):
        np.testing.assert_array_equal(np.loadtxt(os.path.join(scene_dir, 'intrinsic', name)), np.eye(4))
    # Colour and depth cameras see the same field of view despite different resolutions.
    for intrinsic, (width, height) in ((intrinsic_color, COLOR_SIZE), (intrinsic_depth, DEPTH_SIZE)):
        assert abs(intrinsic[0, 0] / width - 0.9) < 0.01 and intrinsic[0, 0] == intrinsic[1, 1]
        assert 0 < intrinsic[0, 2] < width and 0 < intrinsic[1, 2] < height
    for i in range(2):
        color = Image.open(os.path.join(scene_dir, 'color', f'{i}.jpg'))
        assert color.format == 'JPEG' and color.mode == 'RGB' and color.size == COLOR_SIZE
        depth = Image.open(os.path.join(scene_dir, 'depth', f'{i}.png'))
        assert depth.format == 'PNG' and depth.size == DEPTH_SIZE and np.array(depth).dtype == np.uint16
        for folder in ('label-filt', 'instance-filt'):
            image = Image.open(os.path.join(scene_dir, folder, f'{i}.png'))
            assert image.size == COLOR_SIZE and np.array(image).dtype == np.uint16
        pose = np.loadtxt(os.path.join(scene_dir, 'pose', f'{i}.txt'))
        rotation = pose[:3, :3]
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-5)
        assert np.linalg.det(rotation) > 0.99 and np.array_equal(pose[3], [0, 0, 0, 1])
        assert 1.2 <= pose[2, 3] <= 1.7 and pose[2, 2] < 0  # eye height, looking slightly down (camera z = forward)
        assert pose[2, 1] < 0  # camera y points down


def test_depth_backprojects_onto_the_mesh(dense_scene):
    tree = cKDTree(dense_scene.mesh.vertices)
    for frame in dense_scene.frames:
        assert np.mean(frame.depth > 0) > 0.9
        points, _ = _backproject(frame.depth, dense_scene.intrinsic_depth, frame.pose)
        distance, _ = tree.query(points)
        assert np.mean(distance < 0.02) > 0.95  # the mesh is smoothed like a fused scan: corners are rounded


def test_label_instance_and_colour_images_match_the_nearest_mesh_vertex(dense_scene):
    mesh = dense_scene.mesh
    tree = cKDTree(mesh.vertices)
    intrinsic = dense_scene.intrinsic_color
    for frame in dense_scene.frames:
        points, _ = _backproject(frame.depth, dense_scene.intrinsic_depth, frame.pose)
        _, nearest = tree.query(points)
        # Project the depth points into the colour camera (same pose, identity extrinsics).
        camera = (points - frame.pose[:3, 3]) @ frame.pose[:3, :3]
        u = np.round(intrinsic[0, 0] * camera[:, 0] / camera[:, 2] + intrinsic[0, 2]).astype(int)
        v = np.round(intrinsic[1, 1] * camera[:, 1] / camera[:, 2] + intrinsic[1, 2]).astype(int)
        inside = (u >= 0) & (u < COLOR_SIZE[0]) & (v >= 0) & (v < COLOR_SIZE[1])
        assert inside.mean() > 0.95
        assert np.mean(frame.label[v[inside], u[inside]] == mesh.labels[nearest[inside]]) > 0.95
        assert np.mean(frame.instance[v[inside], u[inside]] == mesh.instances[nearest[inside]]) > 0.95
        colour_difference = np.abs(frame.color[v[inside], u[inside]].astype(int) - mesh.colors[nearest[inside]]).mean(1)
        assert np.median(colour_difference) < 10  # same shading, only noise apart (0-255 scale)


def test_complete_scenes_are_skipped_and_incomplete_ones_redone(tmp_path):
    root = str(tmp_path)
    options = dict(num_train=2, num_val=0, num_test=0, seed=5, progress=False, **COARSE)
    generate_synthrooms(root, **options)
    first = _files(root)
    mesh_path = os.path.join(root, 'scans', 'scene0000_00', 'scene0000_00_vh_clean_2.ply')
    with open(mesh_path, 'wb') as file:  # a scene marked complete is not touched again...
        file.write(b'edited')
    os.remove(os.path.join(root, 'scans', 'scene0001_00', '.complete'))  # ...an unmarked one is regenerated
    os.remove(os.path.join(root, 'scans', 'scene0001_00', 'color', '1.jpg'))
    generate_synthrooms(root, **options)
    second = _files(root)
    assert second[os.path.relpath(mesh_path, root)] == b'edited'
    assert {path: data for path, data in second.items() if 'scene0000_00_vh_clean_2.ply' not in path} == {
        path: data for path, data in first.items() if 'scene0000_00_vh_clean_2.ply' not in path}
    generate_synthrooms(root, overwrite=True, **options)
    assert _files(root) == first


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'sub' / 'file.bin')
    writer.atomic_write(path, b'old')

    def failing_replace(source, destination):
        raise OSError('disk full')

    monkeypatch.setattr(writer.os, 'replace', failing_replace)
    with pytest.raises(OSError, match='disk full'):
        writer.atomic_write(path, b'new contents')
    assert open(path, 'rb').read() == b'old'
    assert os.listdir(tmp_path / 'sub') == ['file.bin']


def test_the_room_is_one_welded_surface_whose_sets_cross_objects(scene):
    """Furniture stands on the floor, fixtures continue their wall: far fewer connected pieces than boxes, and
    the Segmentator's sets are not all pure (a picture or door panel flush with its wall joins the wall's set)."""
    import scipy.sparse
    import scipy.sparse.csgraph

    from hicl.geometry.segmentation import segment_mesh, set_purity
    mesh = scene.mesh
    faces = mesh.faces.astype(np.int64)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    graph = scipy.sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(mesh.vertices),) * 2)
    pieces = scipy.sparse.csgraph.connected_components(graph, directed=False)[0]
    assert pieces <= len(scene.boxes) // 4
    sets = segment_mesh(mesh.vertices, mesh.faces, k=0.01, min_size=20)
    assert 0.9 < set_purity(sets, mesh.instances.astype(np.int64)) < 0.995
    picture_vertices = np.flatnonzero(mesh.labels == 11)  # NYU40 picture
    wall_vertices = mesh.labels == 1
    touching = wall_vertices[faces[np.isin(faces, picture_vertices).any(1)]].any()
    assert len(picture_vertices) == 0 or touching  # a picture shares triangles with its wall


def test_weld_merges_into_earlier_boxes_only_and_drops_collapsed_triangles():
    from hicl.synthrooms.mesh import weld
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0],  # box 0: one triangle
                         [0.004, 0, 0], [1, 1, 0], [0.004, 0.003, 0],  # box 1: two corners within 1 cm of (0, 0, 0)
                         [0.5, 0.5, 0], [0.505, 0.5, 0], [0.5, 0.6, 0]], dtype=float)  # box 2: own close pair
    faces = np.array([[0, 1, 2], [3, 4, 1], [3, 5, 4], [6, 7, 8]])
    owners = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    welded, welded_faces, welded_owners = weld(vertices, faces, owners, radius=0.01)
    # vertices 3 and 5 merge into vertex 0 (so triangle [3, 5, 4] collapses); 6 and 7 (same box) stay apart
    assert len(welded) == 7 and welded_owners.tolist() == [0, 0, 0, 1, 2, 2, 2]
    corners = {tuple(sorted(map(tuple, welded[face]))) for face in welded_faces}
    assert corners == {tuple(sorted(map(tuple, vertices[face]))) for face in ([0, 1, 2], [0, 4, 1], [6, 7, 8])}


def test_laplacian_smoothing_keeps_a_plane_and_rounds_a_spike():
    from hicl.synthrooms.mesh import laplacian_smoothing
    x, y = np.meshgrid(np.arange(5.0), np.arange(5.0), indexing='ij')
    vertices = np.stack([x.ravel(), y.ravel(), np.zeros(25)], 1)
    cells = (np.arange(4)[:, None] * 5 + np.arange(4)[None]).ravel()
    faces = np.concatenate([np.stack([cells, cells + 5, cells + 6], 1), np.stack([cells, cells + 6, cells + 1], 1)])
    assert np.allclose(laplacian_smoothing(vertices, faces, 5, 0.5)[:, 2], 0)
    vertices[12, 2] = 1.0  # the centre vertex, 6 neighbours at height 0
    once = laplacian_smoothing(vertices, faces, 1, 0.5)
    # the spike moves half way to its neighbours' mean (0); a neighbour (6 neighbours) a sixth of half of it up
    assert once[12, 2] == pytest.approx(0.5) and once[7, 2] == pytest.approx(0.5 / 6)
