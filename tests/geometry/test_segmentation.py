"""Geometric consistency sets: the Felzenszwalb core by hand, bent grids, real ScanNet / nuScenes samples and
SynthRooms meshes."""
import glob
import time

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hicl.geometry.segmentation import felzenszwalb_merge, segment_lidar, segment_mesh, segment_points, set_purity
from tests.conftest import unavailable

SPACING = 0.1  # metres between grid vertices


def extruded_profile(profile_xz, rows=11):
    """A triangle mesh sweeping the polyline ``profile_xz`` (P, 2) along y (``rows`` vertices, SPACING apart).

    Face normals are cross(profile tangent, +y) = (-dz, 0, dx): a profile walked towards +x faces +z.
    Returns vertices (P * rows, 3), faces (2 (P - 1) (rows - 1), 3); vertex (i, j) has index i * rows + j.
    """
    profile_xz = np.asarray(profile_xz, dtype=np.float64)
    i, j = np.meshgrid(np.arange(len(profile_xz)), np.arange(rows), indexing='ij')
    vertices = np.stack([profile_xz[i, 0], j * SPACING, profile_xz[i, 1]], axis=-1).reshape(-1, 3)
    v00 = (i[:-1, :-1] * rows + j[:-1, :-1]).reshape(-1)
    v10, v01 = v00 + rows, v00 + 1
    v11 = v10 + 1
    faces = np.concatenate([np.stack([v00, v10, v11], 1), np.stack([v00, v11, v01], 1)])
    return vertices, faces


def polyline(*corners, step=SPACING):
    """(P, 2) points every ``step`` metres along the straight segments between the given (x, z) corners."""
    pieces = []
    for start, end in zip(corners[:-1], corners[1:]):
        count = int(round(np.linalg.norm(np.subtract(end, start)) / step))
        pieces.append(np.linspace(start, end, count + 1)[:-1])
    return np.concatenate(pieces + [np.asarray([corners[-1]], dtype=np.float64)])


def bent_sheet(rise, rows=11):
    """Two 1 m x 1 m planes meeting along x = 0 with heights z = rise * |x| (rise < 0: ridge, > 0: valley).

    Normals face +z. Returns vertices, faces, and the x coordinate of every vertex.
    """
    x = np.linspace(-1.0, 1.0, 21)
    vertices, faces = extruded_profile(np.stack([x, rise * np.abs(x)], 1), rows)
    return vertices, faces, vertices[:, 0]


def assert_contiguous(ids, count):
    assert ids.shape == (count,) and ids.dtype == np.int64
    assert np.array_equal(np.unique(ids), np.arange(ids.max() + 1))
    first_seen = ids[np.sort(np.unique(ids, return_index=True)[1])]
    assert np.array_equal(first_seen, np.arange(ids.max() + 1)), 'ids numbered in order of first appearance'


def side_labels(ids, x):
    """The single segment id of the vertices with x <= -0.2 and of those with x >= 0.2 (asserting each is one)."""
    left, right = np.unique(ids[x <= -0.2]), np.unique(ids[x >= 0.2])
    assert len(left) == 1 and len(right) == 1
    return left[0], right[0]


# -------------------------------------------------------------------------------------------------- (d) the core
def test_core_threshold_grows_with_internal_weight():
    # sorted: (0,1) 0.004 -> merge, threshold 0.004 + 0.01/2 = 0.009; (2,3) 0.0055 -> merge, threshold 0.0105;
    # (1,2): merged iff its weight <= min(0.009, 0.0105). k / size alone (0.005) would reject 0.0085.
    edges = [[0, 1], [1, 2], [2, 3]]
    assert felzenszwalb_merge(4, edges, [0.004, 0.0085, 0.0055], k=0.01, min_size=1).tolist() == [0, 0, 0, 0]
    assert felzenszwalb_merge(4, edges, [0.004, 0.0095, 0.0055], k=0.01, min_size=1).tolist() == [0, 0, 1, 1]
    # a single node's threshold is k / 1: 0.01 merges, 0.011 does not
    assert felzenszwalb_merge(2, [[0, 1]], [0.01], k=0.01, min_size=1).tolist() == [0, 0]
    assert felzenszwalb_merge(2, [[0, 1]], [0.011], k=0.01, min_size=1).tolist() == [0, 1]


def test_core_ids_in_order_of_first_appearance_and_isolated_nodes():
    assert felzenszwalb_merge(5, [[4, 3]], [0.0], k=1.0, min_size=3).tolist() == [0, 1, 2, 3, 3]


def test_core_rejects_bad_graphs():
    with pytest.raises(ValueError, match='endpoints'):
        felzenszwalb_merge(2, [[0, 2]], [0.0], 0.01, 1)
    with pytest.raises(ValueError, match='weights'):
        felzenszwalb_merge(2, [[0, 1]], [0.0, 1.0], 0.01, 1)


# --------------------------------------------------------------------------------------------- (b) size merging
def test_small_component_joins_across_its_lightest_edge():
    # {0,1,2,3} by 0-weight edges, {4} alone, {5,6}. Node 4 reaches 5 (weight 3) and 3 (weight 5): too heavy for
    # the first pass; with min_size 2 the second pass meets 4-5 first and joins 4 to {5,6}.
    edges = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6]]
    weights = [0.0, 0.0, 0.0, 5.0, 3.0, 0.0]
    assert felzenszwalb_merge(7, edges, weights, k=0.01, min_size=1).tolist() == [0, 0, 0, 0, 1, 2, 2]
    assert felzenszwalb_merge(7, edges, weights, k=0.01, min_size=2).tolist() == [0, 0, 0, 0, 1, 1, 1]


def test_mesh_strip_below_min_size_joins_the_floor():
    # a floor with a 1-row (11-vertex) vertical lip: a 90-degree edge splits it off, min_size joins it back
    vertices, faces = extruded_profile(polyline((0.0, 0.1), (0.0, 0.0), (1.0, 0.0)))
    assert segment_mesh(vertices, faces, k=0.01, min_size=1).max() + 1 >= 2
    assert np.all(segment_mesh(vertices, faces, k=0.01, min_size=20) == 0)


# ---------------------------------------------------------------------------------------------- (a) bent grids
def test_flat_grid_is_one_segment():
    vertices, faces, _ = bent_sheet(rise=0.0)
    assert np.all(segment_mesh(vertices, faces) == 0)


@pytest.mark.parametrize('name, corners', [
    ('convex box edge', [(-1.0, 0.0), (0.0, 0.0), (0.0, -1.0)]),  # top (+z) then side (+x), bending away
    ('concave floor-wall corner', [(0.0, 1.0), (0.0, 0.0), (1.0, 0.0)]),  # wall (+x) then floor (+z)
])
def test_right_angle_splits_both_convex_and_concave(name, corners):
    # At 90 degrees the corner-line normals sit at 45 degrees to each plane: w = 1 - cos 45 = 0.29, squared (convex)
    # 0.086; either is far above a plane's threshold k / size ~ 1e-4, so both planes stay apart. The 11-vertex
    # corner line is below min_size and joins one of them.
    vertices, faces = extruded_profile(polyline(*corners))
    ids = segment_mesh(vertices, faces, k=0.01, min_size=20)
    horizontal = (vertices[:, 2] == 0) & (np.abs(vertices[:, 0]) >= 0.2)
    vertical = (vertices[:, 0] == 0) & (np.abs(vertices[:, 2]) >= 0.2)
    assert len(np.unique(ids[horizontal])) == 1 and len(np.unique(ids[vertical])) == 1, name
    assert ids[horizontal][0] != ids[vertical][0], name
    assert ids.max() + 1 == 2, name


def test_gentle_bends_split_as_in_scannets_segmentator():
    # Planes 3 degrees off horizontal. ScanNet's C++ Segmentator (built from its source and run on these meshes)
    # splits both the ridge and the valley into their two planes at k 0.01 / min 20: its convexity test looks at
    # the second vertex of each directed edge (i1, i2), (i1, i3), (i3, i2), so on this grid the bend's edges are
    # not all squared. segment_mesh gives the same partitions (adjusted Rand index 1.0 against the C++ output).
    rise = np.tan(np.radians(3.0))
    for sign in (-1, 1):
        sheet, faces, x = bent_sheet(rise=sign * rise)
        ids = segment_mesh(sheet, faces, k=0.01, min_size=20)
        left, right = side_labels(ids, x)
        assert left != right and ids.max() + 1 == 2


def test_segmentator_graph_by_hand():
    # Faces (0, 1, 2) (normal +z) and (1, 3, 2) with p3 = (1, 1, -1) (normal (1, 1, 1) / sqrt 3). Vertices 1 and 2
    # blend both faces: n = ((0, 0, 1) + (1, 1, 1) / sqrt 3) / 2 = (0.2887, 0.2887, 0.7887), NOT renormalised
    # (|n|^2 = 0.7887). Edges per face: (i1, i2), (i1, i3), (i3, i2).
    # (0, 1): w = 1 - n0.n1 = 0.2113; convex (n1 . (1, 0, 0) = 0.29 > 0): squared 0.04466. (0, 2): the same.
    # (2, 1), (1, 2): w = 1 - |n1|^2 = 0.2113 (0 with renormalised normals); n . unit(p1 - p2) = 0: not squared.
    # (1, 3), (2, 3): w = 1 - n1.n3 = 1 - (0.5 + 0.2887) = 0.2113; n3 . unit(p3 - p1) = 0: not squared.
    from hicl.geometry.segmentation import segmentator_edges, segmentator_vertex_normals
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, -1]], np.float32)
    faces = np.array([[0, 1, 2], [1, 3, 2]])
    normals = segmentator_vertex_normals(vertices, faces)
    np.testing.assert_allclose(normals[1], [0.288675, 0.288675, 0.788675], atol=1e-6)
    src, dst, weights = segmentator_edges(vertices, normals, faces)
    assert src.tolist() == [0, 0, 2, 1, 1, 2] and dst.tolist() == [1, 2, 1, 3, 2, 3]
    squared = (0.5 - 0.5 / np.sqrt(3)) ** 2
    np.testing.assert_allclose(weights, [squared, squared] + [0.5 - 0.5 / np.sqrt(3)] * 4, atol=1e-6)
    assert weights.dtype == np.float32


@pytest.mark.parametrize('k, min_size', [(0.01, 20), (0.05, 50)])
def test_real_sensor_mesh_partition_equals_scannets_segmentator(shared_data, k, min_size):
    """The C++ tool's output on a real-sensor mesh (shared/data/segmentator_reference, SOURCES.md) is reproduced:
    adjusted Rand index 1.0 (the issue's bar: >= 0.99)."""
    import json

    import plyfile
    from sklearn.metrics import adjusted_rand_score
    folder = shared_data / 'segmentator_reference'
    ply = plyfile.PlyData.read(str(folder / 'scene0707_00_depth0.ply'))
    vertices = np.stack([ply['vertex'][axis] for axis in 'xyz'], axis=1)
    faces = np.stack(ply['face']['vertex_indices'])
    with open(folder / f'scene0707_00_depth0.{k:.6f}.segs.json') as file:
        reference = np.asarray(json.load(file)['segIndices'])
    ids = segment_mesh(vertices, faces, k=k, min_size=min_size)
    assert adjusted_rand_score(reference, ids) >= 0.99
    assert ids.max() + 1 == len(np.unique(reference))


# --------------------------------------------------------------------------------------------- (c) determinism
def test_deterministic_and_contiguous():
    rng = np.random.default_rng(0)
    vertices, faces, _ = bent_sheet(rise=0.3, rows=21)
    vertices = vertices + rng.normal(scale=0.01, size=vertices.shape)
    first, second = segment_mesh(vertices, faces, k=0.01, min_size=5), segment_mesh(vertices, faces, 0.01, 5)
    assert np.array_equal(first, second)
    assert_contiguous(first, len(vertices))
    points = rng.random((500, 3))
    assert np.array_equal(segment_points(points, min_size=5), segment_points(points, min_size=5))
    assert_contiguous(segment_points(points, min_size=5), 500)
    # ties are visited in input order (stable sort): lone node 1 joins whichever pair its first 5.0 edge reaches
    edges, weights = [[0, 3], [2, 4], [1, 0], [1, 2]], [0.0, 0.0, 5.0, 5.0]
    assert felzenszwalb_merge(5, edges, weights, k=0.01, min_size=2).tolist() == [0, 0, 1, 0, 1]
    assert felzenszwalb_merge(5, edges[:2] + edges[:1:-1], weights, k=0.01, min_size=2).tolist() == [0, 1, 1, 0, 1]


def test_point_edge_weights_square_where_the_second_normal_faces_along_the_edge():
    # a at the origin with n_a = +z; n_a . n_b = 0.5 for both b below, so w = 1 - 0.5 = 0.5, squared 0.25 when
    # convex: n_b . unit(p_b - p_a) > 0. Ridge: b = (1, 0, -0.5), n_b = (sin 60, 0, cos 60): n_b . (b - a) =
    # 0.866 - 0.25 > 0 (convex; n_a . (b - a) = -0.5 would say concave). Valley: b = (1, 0, 0.5), n_b = (-sin 60,
    # 0, cos 60): -0.866 + 0.25 < 0 (concave; n_a . (b - a) = 0.5 would say convex). Each edge also the other way:
    # there the second normal is n_a = +z, and n_a . (a - b) is 0.5 > 0 at the ridge, -0.5 at the valley.
    from hicl.geometry.segmentation import normal_edge_weights
    sin60, cos60 = np.sqrt(3) / 2, 0.5
    points = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, -0.5], [0.0, 0.0, 0.0], [1.0, 0.0, 0.5]])
    normals = np.array([[0.0, 0.0, 1.0], [sin60, 0.0, cos60], [0.0, 0.0, 1.0], [-sin60, 0.0, cos60]])
    edges = np.array([[0, 1], [1, 0], [2, 3], [3, 2]])
    np.testing.assert_allclose(normal_edge_weights(points, normals, edges), [0.25, 0.25, 0.5, 0.5], atol=1e-12)


def test_points_with_given_normals_split_a_box_edge():
    vertices, faces = extruded_profile(polyline((-1.0, 0.0), (0.0, 0.0), (0.0, -1.0)))
    normals = np.where((vertices[:, 2] == 0)[:, None], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0])
    ids = segment_points(vertices, k_neighbours=8, normals=normals)
    assert len(np.unique(ids[vertices[:, 0] <= -0.2])) == 1 and len(np.unique(ids[vertices[:, 2] <= -0.2])) == 1
    assert ids[vertices[:, 0] <= -0.2][0] != ids[vertices[:, 2] <= -0.2][0]


# ------------------------------------------------------------------------------------ (e) real ScanNet sample
def test_points_on_real_scannet_sample(shared_data):
    points = np.fromfile(shared_data / 'tiny/scannet/points/scene0000_00.bin', np.float32).reshape(-1, 6)
    labels = np.fromfile(shared_data / 'tiny/scannet/semantic_mask/scene0000_00.bin', np.int64)
    for min_size in (20, 5):
        ids = segment_points(points, min_size=min_size)
        assert_contiguous(ids, 100)
        print(f'scannet tiny (100 pts, ~0.5 m apart), min_size={min_size}: {ids.max() + 1} sets, '
              f'purity {set_purity(ids, labels):.3f}')


# ----------------------------------------------------------------------------------------------- (f) SynthRooms
def test_synthrooms_mesh_and_points_purity(synthrooms_tiny):
    from hicl.converters.scannet_raw import read_mesh
    scene = sorted(p.name for p in (synthrooms_tiny / 'raw' / 'scans').iterdir())[0]
    mesh = read_mesh(str(synthrooms_tiny / 'raw' / 'scans' / scene / f'{scene}_vh_clean_2.ply'))
    points = np.fromfile(synthrooms_tiny / 'points' / f'{scene}.bin', np.float32).reshape(-1, 6)
    labels = np.fromfile(synthrooms_tiny / 'semantic_mask' / f'{scene}.bin', np.int64)
    assert len(points) == len(mesh['xyz']) == len(labels)
    mesh_ids = segment_mesh(mesh['xyz'], mesh['faces'])
    point_ids = segment_points(points)
    mesh_purity, point_purity = set_purity(mesh_ids, labels), set_purity(point_ids, labels)
    print(f'synthrooms {scene} ({len(labels)} vertices): mesh {mesh_ids.max() + 1} sets purity {mesh_purity:.4f}; '
          f'points {point_ids.max() + 1} sets purity {point_purity:.4f}')
    # welded, smoothed scan-like rooms (issue 14): the sets are mostly pure but cross objects here and there
    assert 0.85 <= mesh_purity < 0.99
    assert 0.85 <= point_purity < 0.99


# ----------------------------------------------------------------------------------------- (g) real LiDAR sweep
def count_gap_free_components(points, ids, max_gap):
    """Connected components of the graph linking same-set points closer than max_gap (metres)."""
    pairs = cKDTree(points).query_pairs(max_gap, output_type='ndarray')
    pairs = pairs[ids[pairs[:, 0]] == ids[pairs[:, 1]]]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(points),) * 2)
    return connected_components(graph, directed=False)[0]


def test_lidar_sets_never_bridge_gaps(shared_data):
    sweeps = glob.glob(str(shared_data / 'nuscenes_demo' / '*.pcd.bin'))
    if not sweeps:
        unavailable(f"no nuScenes sweep (*.pcd.bin) in {shared_data / 'nuscenes_demo'}")
    points = np.fromfile(sweeps[0], np.float32).reshape(-1, 5)[:, :3].astype(np.float64)
    segment_lidar(points[:100])  # compile outside the timing
    start = time.perf_counter()
    ids = segment_lidar(points, max_gap=0.5)
    seconds = time.perf_counter() - start
    assert_contiguous(ids, len(points))
    # every set is one connected piece of the max_gap-radius graph restricted to it
    assert count_gap_free_components(points, ids, 0.5) == ids.max() + 1
    sizes = np.bincount(ids)
    print(f'nuScenes demo sweep: {len(points)} points -> {len(sizes)} sets ({np.sum(sizes >= 10)} with >= 10 '
          f'points, {np.sum(sizes == 1)} isolated) in {seconds:.3f} s')
