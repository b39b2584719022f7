"""Geometric consistency sets (paper 3.2.1): normal-based over-segmentation of meshes, indoor scans and LiDAR.

All three entry points build a graph over the points, weight each edge by how much the surface normal turns
across it, and merge it with one Felzenszwalb-Huttenlocher core (``_segment_sorted_graph``; ``felzenszwalb_merge``
for a graph given as edges and weights):

* ``segment_mesh``: ScanNet's Segmentator (ScanNet/Segmentator/segmentator.cpp) step for step, in float32 as
  the C++ tool computes: its vertex normals, its edge directions, its weights (see ``segment_mesh``).
* ``segment_points``: the same on a kNN graph with PCA normals, for scans given as points.
* ``segment_lidar``: sparse outdoor sweeps, in the spirit of VCCS supervoxels: a kNN graph without edges
  longer than ``max_gap`` (no set bridges a gap) and a distance term in the weight.

Edge weight (normal term): w = 1 - n_a . n_b, squared when the edge is convex, i.e. when
n_b . unit(p_b - p_a) > 0 (``segment_mesh``, as the C++) or > CONVEX_TOLERANCE (the point-cloud variants), with
a = the edge's first vertex and b = its second. Squaring lowers
w (w is in [0, 1] for consistently oriented normals), so convex edges merge more easily than concave edges of
the same angle. Units: metres; ids are int64, contiguous 0..S-1 in order of first appearance.
"""
import numpy as np
from numba import njit
from scipy.spatial import cKDTree

# n_b . unit(p_b - p_a) must exceed this to count as convex. An edge lying in b's tangent plane has a dot
# product of exactly 0 in exact arithmetic; the tolerance keeps float noise from flipping its sign.
CONVEX_TOLERANCE = 1e-6


# ----------------------------------------------------------------------------------------------------------------
# Felzenszwalb-Huttenlocher core
# ----------------------------------------------------------------------------------------------------------------

@njit(cache=True)
def _find_root(parent, node):
    """Root of ``node``'s component, halving the path on the way."""
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


@njit(cache=True)
def _join(parent, size, root_a, root_b):
    """Attach the smaller component to the larger (ties: b to a); returns the new root."""
    if size[root_a] < size[root_b]:
        root_a, root_b = root_b, root_a
    parent[root_b] = root_a
    size[root_a] += size[root_b]
    return root_a


@njit(cache=True)
def _merge_by_threshold(parent, size, threshold, order, src, dst, weights, k):
    """First pass over the edges in ``order`` (by weight): merge when the weight is <= both components'
    thresholds. ``size``, ``threshold``, ``weights`` and ``k`` share one float type, in which the new threshold
    w + k / size is computed (float32 for the Segmentator, as its C++ does)."""
    for e in order:
        root_a, root_b = _find_root(parent, src[e]), _find_root(parent, dst[e])
        if root_a != root_b and weights[e] <= threshold[root_a] and weights[e] <= threshold[root_b]:
            root = _join(parent, size, root_a, root_b)
            threshold[root] = weights[e] + k / size[root]


@njit(cache=True)
def _join_small_components(parent, size, order, src, dst, min_size):
    """Second pass over the edges in ``order``: join the two sides whenever either has fewer than min_size
    nodes."""
    for e in order:
        root_a, root_b = _find_root(parent, src[e]), _find_root(parent, dst[e])
        if root_a != root_b and (size[root_a] < min_size or size[root_b] < min_size):
            _join(parent, size, root_a, root_b)


def _segment_sorted_graph(num_nodes, order, src, dst, weights, k, min_size):
    """Both Felzenszwalb passes over the edges (src, dst, weights) visited in ``order``; component sizes and
    thresholds are kept in the weights' float type. Returns (N,) int64 contiguous ids."""
    float_type = weights.dtype.type
    parent = np.arange(num_nodes, dtype=np.int64)
    size = np.ones(num_nodes, dtype=weights.dtype)  # exact integers up to 2^24 even in float32
    threshold = np.full(num_nodes, k, dtype=weights.dtype)
    _merge_by_threshold(parent, size, threshold, order, src, dst, weights, float_type(k))
    _join_small_components(parent, size, order, src, dst, float_type(min_size))
    return relabel_by_first_appearance(_all_roots(parent))


@njit(cache=True)
def _all_roots(parent):
    """(N,) root of every node."""
    roots = np.empty(parent.shape[0], dtype=np.int64)
    for node in range(parent.shape[0]):
        roots[node] = _find_root(parent, node)
    return roots


def relabel_by_first_appearance(ids):
    """Map arbitrary (N,) ids to contiguous 0..S-1, numbered in order of first appearance."""
    _, first_index, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rank = np.empty(len(first_index), dtype=np.int64)
    rank[np.argsort(first_index, kind='stable')] = np.arange(len(first_index))
    return rank[inverse.reshape(-1)]


def _check_graph(num_nodes, edges, weights):
    """Validated (E, 2) int64 edges and (E,) float64 weights."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(edges) != len(weights):
        raise ValueError(f'{len(edges)} edges but {len(weights)} weights')
    if len(edges) and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(f'edge endpoints must lie in 0..{num_nodes - 1}')
    if not np.isfinite(weights).all():
        raise ValueError('edge weights must be finite')
    return edges, weights


def felzenszwalb_merge(num_nodes, edges, weights, k, min_size):
    """Felzenszwalb-Huttenlocher graph segmentation.

    Edges are visited in increasing weight (stable sort: ties keep their input order). The components of an edge
    merge when its weight is <= the threshold of both; a component's threshold is k / 1 for a single node and
    w + k / size after the merge by an edge of weight w. A second pass over the sorted edges then joins every
    component smaller than ``min_size`` nodes to the component across its lightest edge.

    Args:
        num_nodes: N.
        edges: (E, 2) int node indices (directed or not; duplicates are harmless).
        weights: (E,) float dissimilarities.
        k: scale parameter (larger k, larger segments), same unit as the weights.
        min_size: minimum segment size in nodes (nodes without edges stay alone).
    Returns:
        (N,) int64 segment ids, contiguous 0..S-1 in order of first appearance.
    """
    edges, weights = _check_graph(num_nodes, edges, weights)
    order = np.argsort(weights, kind='stable')
    return _segment_sorted_graph(num_nodes, order, edges[:, 0].copy(), edges[:, 1].copy(), weights, k, min_size)


# ----------------------------------------------------------------------------------------------------------------
# Edge weights
# ----------------------------------------------------------------------------------------------------------------

def normalise_rows(vectors):
    """Rows scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def normal_edge_weights(points, normals, edges):
    """(E,) weights w = 1 - n_a . n_b, squared where the edge a -> b is convex (n_b . unit(p_b - p_a) > tol).

    Args:
        points: (N, 3) metres. normals: (N, 3) unit normals. edges: (E, 2) int, columns a and b.
    """
    src, dst = edges[:, 0], edges[:, 1]
    weights = 1.0 - np.einsum('ij,ij->i', normals[src], normals[dst])
    direction = normalise_rows(points[dst] - points[src])
    convex = np.einsum('ij,ij->i', normals[dst], direction) > CONVEX_TOLERANCE
    return np.where(convex, weights * weights, weights)


# ----------------------------------------------------------------------------------------------------------------
# Meshes
# ----------------------------------------------------------------------------------------------------------------

@njit(cache=True, error_model='numpy')
def segmentator_vertex_normals(vertices, faces):
    """(N, 3) float32 vertex normals as ScanNet's Segmentator computes them: each face's unit normal
    cross(p2 - p1, p3 - p1) (corners in file order) blended into its corners' normals by a running mean
    (lerp with weight 1 / (count + 1)), NOT renormalised afterwards, so a normal is shorter where its faces
    disagree. A degenerate face gives NaN, as in the C++ (its vertices' edges then never merge by weight).

    Args: vertices (N, 3) float32 metres; faces (F, 3) int vertex indices.
    """
    normals = np.zeros((vertices.shape[0], 3), dtype=np.float32)
    counts = np.zeros(vertices.shape[0], dtype=np.float32)
    one = np.float32(1.0)
    for face in range(faces.shape[0]):
        i1, i2, i3 = faces[face, 0], faces[face, 1], faces[face, 2]
        ux, uy, uz = (vertices[i2, 0] - vertices[i1, 0], vertices[i2, 1] - vertices[i1, 1],
                      vertices[i2, 2] - vertices[i1, 2])
        vx, vy, vz = (vertices[i3, 0] - vertices[i1, 0], vertices[i3, 1] - vertices[i1, 1],
                      vertices[i3, 2] - vertices[i1, 2])
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        length = np.sqrt(nx * nx + ny * ny + nz * nz)
        nx, ny, nz = nx / length, ny / length, nz / length
        for corner in (i1, i2, i3):  # in the C++ order; the counts grow after all three
            weight = one / (counts[corner] + one)
            keep = one - weight
            normals[corner, 0] = weight * nx + keep * normals[corner, 0]
            normals[corner, 1] = weight * ny + keep * normals[corner, 1]
            normals[corner, 2] = weight * nz + keep * normals[corner, 2]
        counts[i1] += one
        counts[i2] += one
        counts[i3] += one
    return normals


@njit(cache=True, error_model='numpy')
def segmentator_edges(vertices, normals, faces):
    """The Segmentator's graph: per face (i1, i2, i3) the directed edges (i1, i2), (i1, i3), (i3, i2) (every
    interior edge twice, once per face, not deduplicated), weighted in float32 by w = 1 - n_a . n_b, squared
    when n_b . unit(p_b - p_a) > 0 (convex). Returns src (3F,) int64, dst (3F,) int64, weights (3F,) float32."""
    num_edges = 3 * faces.shape[0]
    src = np.empty(num_edges, dtype=np.int64)
    dst = np.empty(num_edges, dtype=np.int64)
    weights = np.empty(num_edges, dtype=np.float32)
    for face in range(faces.shape[0]):
        i1, i2, i3 = faces[face, 0], faces[face, 1], faces[face, 2]
        src[3 * face], dst[3 * face] = i1, i2
        src[3 * face + 1], dst[3 * face + 1] = i1, i3
        src[3 * face + 2], dst[3 * face + 2] = i3, i2
    for e in range(num_edges):
        a, b = src[e], dst[e]
        dx, dy, dz = (vertices[b, 0] - vertices[a, 0], vertices[b, 1] - vertices[a, 1],
                      vertices[b, 2] - vertices[a, 2])
        length = np.sqrt(dx * dx + dy * dy + dz * dz)
        dx, dy, dz = dx / length, dy / length, dz / length
        dot = normals[a, 0] * normals[b, 0] + normals[a, 1] * normals[b, 1] + normals[a, 2] * normals[b, 2]
        convexity = normals[b, 0] * dx + normals[b, 1] * dy + normals[b, 2] * dz
        weight = np.float32(1.0) - dot
        weights[e] = weight * weight if convexity > 0 else weight
    return src, dst, weights


@njit(cache=True)
def float32_sort_order(values):
    """Stable order (E,) int64 of float32 ``values`` by a two-pass LSD radix sort on their bit patterns (made
    order-preserving: negatives reversed), O(E); NaNs sort last."""
    bits = values.view(np.uint32)
    keys = np.where(bits >> 31 == 1, ~bits, bits | np.uint32(0x80000000))
    order = np.arange(values.shape[0])
    scratch = np.empty_like(order)
    for shift in (0, 16):
        counts = np.zeros(65537, dtype=np.int64)
        for index in order:
            counts[((keys[index] >> shift) & 0xFFFF) + 1] += 1
        for bucket in range(65536):
            counts[bucket + 1] += counts[bucket]
        for index in order:
            digit = (keys[index] >> shift) & 0xFFFF
            scratch[counts[digit]] = index
            counts[digit] += 1
        order, scratch = scratch, order
    return order


def segment_mesh(vertices, faces, k=0.01, min_size=20):
    """ScanNet's Segmentator: over-segment a triangle mesh by its vertex normals.

    Follows ScanNet/Segmentator/segmentator.cpp step for step, in float32 as it computes:
    :func:`segmentator_vertex_normals` (not renormalised), :func:`segmentator_edges` (its edge directions and
    weights, interior edges twice), edges visited in increasing weight (a stable sort; the C++ std::sort orders
    ties arbitrarily), merges while w <= both thresholds, threshold = w + k / size, then one pass joining
    components below ``min_size``. On a real-sensor mesh the partition equals the C++ tool's (adjusted Rand index
    1.0 at k 0.01 / min 20 and 0.05 / min 50: tests/geometry/test_segmentation.py, tools/benchmark.py).

    Args:
        vertices: (N, 3) metres. faces: (F, 3) int vertex indices, consistently wound (normals from the right-hand
            rule point to the observed side, as in ScanNet meshes).
        k: merge scale (ScanNet uses 0.01). min_size: minimum segment size in vertices.
    Returns:
        (N, ) int64 segment ids, contiguous 0..S-1.
    """
    vertices = np.ascontiguousarray(vertices, dtype=np.float32)
    faces = np.ascontiguousarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f'face indices must lie in 0..{len(vertices) - 1}')
    src, dst, weights = segmentator_edges(vertices, segmentator_vertex_normals(vertices, faces), faces)
    return _segment_sorted_graph(len(vertices), float32_sort_order(weights), src, dst, weights, k, min_size)


# ----------------------------------------------------------------------------------------------------------------
# Point clouds
# ----------------------------------------------------------------------------------------------------------------

def knn(points, k_neighbours):
    """(N, K) distances (metres) and indices of each point's K nearest other points, K = min(k, N - 1)."""
    num_neighbours = min(k_neighbours, len(points) - 1)
    distances, indices = cKDTree(points).query(points, k=num_neighbours + 1)
    return distances[:, 1:], indices[:, 1:]


def pca_normals(points, neighbour_idx):
    """(N, 3) unit normals: the eigenvector of the smallest eigenvalue of each point's local covariance, over
    the point and its (N, K) neighbours. Sign arbitrary."""
    neighbourhood = np.concatenate([points[:, None], points[neighbour_idx]], axis=1)  # (N, K + 1, 3)
    centred = neighbourhood - neighbourhood.mean(axis=1, keepdims=True)
    covariance = np.einsum('nki,nkj->nij', centred, centred)
    _, eigenvectors = np.linalg.eigh(covariance)  # eigenvalues ascending
    return eigenvectors[:, :, 0]


def orient_towards(points, normals, viewpoint):
    """Flip normals so that each points towards ``viewpoint`` (3,), metres."""
    facing_away = np.einsum('ij,ij->i', normals, np.asarray(viewpoint) - points) < 0
    return np.where(facing_away[:, None], -normals, normals)


def knn_edges(neighbour_idx):
    """(N * K, 2) directed edges point -> each of its K neighbours."""
    num_points, num_neighbours = neighbour_idx.shape
    return np.stack([np.repeat(np.arange(num_points), num_neighbours), neighbour_idx.reshape(-1)], axis=1)


def segment_points(points, k_neighbours=10, k=0.01, min_size=20, normals=None, viewpoint=None):
    """Segmentator on a point cloud: kNN graph, PCA normals, the mesh edge weights and merging.

    Orientation: PCA normals are flipped to face ``viewpoint``, by default the centroid of the points. Inside a
    room scan the centroid is in free space, so walls, floor and ceiling face the room as ScanNet mesh normals
    do (floor-wall corners test concave); objects' faces turned away from the centroid come out flipped.

    Args:
        points: (N, 3+) metres (extra columns, e.g. colours, are ignored).
        k_neighbours: neighbours per point for the graph and the normals.
        k: merge scale. min_size: minimum segment size in points.
        normals: optional (N, 3) normals to use instead of PCA ones (used as given, no re-orientation).
        viewpoint: optional (3,) point the PCA normals are turned towards, metres.
    Returns:
        (N,) int64 segment ids, contiguous 0..S-1.
    """
    xyz = np.asarray(points, dtype=np.float64)[:, :3]
    _, neighbour_idx = knn(xyz, k_neighbours)
    if normals is None:
        centre = xyz.mean(axis=0) if viewpoint is None else viewpoint
        normals = orient_towards(xyz, pca_normals(xyz, neighbour_idx), centre)
    edges = knn_edges(neighbour_idx)
    weights = normal_edge_weights(xyz, normalise_rows(np.asarray(normals, dtype=np.float64)), edges)
    return felzenszwalb_merge(len(xyz), edges, weights, k, min_size)


def segment_lidar(points, k_neighbours=8, k=0.05, min_size=10, max_gap=0.5, distance_weight=0.1,
                  sensor_origin=(0.0, 0.0, 0.0)):
    """Supervoxel-like sets for a sparse LiDAR sweep (VCCS in spirit).

    Graph: each point to its ``k_neighbours`` nearest points, dropping edges longer than ``max_gap``; sets are
    unions along graph edges only, so no set bridges a gap wider than ``max_gap`` (isolated points stay alone).
    Normals: PCA over the same neighbours, turned towards the sensor. Weight: the normal term of
    ``normal_edge_weights`` plus ``distance_weight * length / max_gap``, so that, as in VCCS, spatially distant
    neighbours are less alike.

    Args:
        points: (N, 3+) LiDAR-frame points, metres (intensity etc. ignored).
        k: merge scale. min_size: minimum set size in points (reached only where the graph allows).
        max_gap: longest edge, metres. distance_weight: weight of the normalised edge length.
        sensor_origin: (3,) sensor position in the points' frame, metres.
    Returns:
        (N,) int64 segment ids, contiguous 0..S-1.
    """
    xyz = np.asarray(points, dtype=np.float64)[:, :3]
    distances, neighbour_idx = knn(xyz, k_neighbours)
    normals = orient_towards(xyz, pca_normals(xyz, neighbour_idx), sensor_origin)
    short = distances.reshape(-1) <= max_gap
    edges = knn_edges(neighbour_idx)[short]
    lengths = distances.reshape(-1)[short]
    weights = normal_edge_weights(xyz, normals, edges) + distance_weight * lengths / max_gap
    return felzenszwalb_merge(len(xyz), edges, weights, k, min_size)


def set_purity(segment_ids, labels):
    """Fraction of points whose segment's majority label equals their own label (ties: the smallest label)."""
    segment_ids, labels = np.asarray(segment_ids), np.asarray(labels)
    _, label_idx = np.unique(labels, return_inverse=True)
    counts = np.zeros((segment_ids.max() + 1, label_idx.max() + 1), dtype=np.int64)
    np.add.at(counts, (segment_ids, label_idx), 1)
    return counts.max(axis=1).sum() / len(labels)
