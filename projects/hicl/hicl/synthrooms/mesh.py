"""Boxes -> one welded, scan-like triangle mesh with per-vertex colour, NYU40 label and instance id.

Each box surface is a lattice of vertices about ``spacing`` metres apart, shared along the box edges, with two
triangles per lattice cell (counter-clockwise seen from outside). A triangle is dropped when the air just in front
of it is not free (inside another box or outside the room interior), which removes the wall behind a door or a
bookshelf, the floor under a cabinet, the outside of the walls and so on, and when it faces down (the undersides a
scanner carried at head height does not see). Then the room is welded into one surface, as a reconstructed scan
is: a vertex of a box within ``WELD_RADIUS`` lattice spacings of a vertex of an earlier box (the shell first) is
merged into it, so furniture is joined to the floor it stands on, a picture or door panel to its wall, a pillow to
its bed; triangles that collapse are dropped. Then, as volumetric fusion does to a real scan, the surface is
smoothed (Laplacian steps round its edges and contact lines over a few centimetres) and every vertex moves by
scanner-like noise along its normal.
"""
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.spatial import cKDTree

from ..synthetic.shading import shade

# A triangle is kept when the air in front of it is free: EDGE_PROBE metres in front of its corners and GAP_PROBES
# metres in front of its lattice cell's centre. Surfaces behind gaps narrower than 3 cm (a wall behind a
# bookshelf) cannot be scanned, so they are dropped like the covered ones.
EDGE_PROBE = 1e-3
GAP_PROBES = np.array([1e-3, 0.01, 0.02, 0.03])
VERTEX_COLOR_NOISE = 4.0  # std of per-vertex colour noise, 0-255 scale
UNDERSIDE_NORMAL_Z = -0.5  # triangles whose unit normal points further down are not scanned (no ceiling here)
WELD_RADIUS = 0.75  # in lattice spacings: vertices of different boxes closer than this are merged
SCAN_NOISE = 0.002  # metres, std of each vertex's displacement along its normal
SMOOTHING_STEPS, SMOOTHING_RATE = 10, 0.5  # Laplacian steps x <- x + rate (mean of neighbours - x)

# The 6 faces of a box as (fixed axis, side, in-plane axis a, in-plane axis b) with e_a x e_b = outward normal.
BOX_FACES = ((0, 1, 1, 2), (0, 0, 2, 1), (1, 1, 2, 0), (1, 0, 0, 2), (2, 1, 0, 1), (2, 0, 1, 0))


@dataclass
class Mesh:
    """N vertices, F triangles: vertices (N, 3) float32 metres; faces (F, 3) int32 vertex indices; colors (N, 3)
    uint8; labels (N,) uint16 NYU40 ids; instances (N,) uint16 object ids (>= 1)."""
    vertices: np.ndarray
    faces: np.ndarray
    colors: np.ndarray
    labels: np.ndarray
    instances: np.ndarray


def box_lattice(size, spacing):
    """Surface lattice of a box of ``size`` (3,) metres centred at the origin, ~``spacing`` metres apart.

    Returns local vertex positions (V, 3) and the 6 faces as (grid (A + 1, B + 1) vertex indices, outward unit
    normal (3,)); grid cell (i, j) is the quad grid[i, j], grid[i + 1, j], grid[i + 1, j + 1], grid[i, j + 1],
    counter-clockwise seen from outside.
    """
    cells = np.maximum(1, np.round(np.asarray(size) / spacing).astype(np.int64))
    on_surface = np.zeros(cells + 1, dtype=bool)
    on_surface[[0, -1]] = True
    on_surface[:, [0, -1]] = True
    on_surface[:, :, [0, -1]] = True
    index = np.full(cells + 1, -1, dtype=np.int64)
    index[on_surface] = np.arange(on_surface.sum())
    vertices = (np.stack(np.nonzero(on_surface), axis=1) / cells - 0.5) * size
    faces = []
    for axis, side, axis_a, axis_b in BOX_FACES:
        grid = np.take(index, -side, axis=axis)  # remaining axes in increasing order
        normal = np.zeros(3)
        normal[axis] = 1.0 if side else -1.0
        faces.append((grid.T if axis_a > axis_b else grid, normal))
    return vertices, faces


def _visible_triangles(vertices, faces, boxes, candidates, room_size):
    """Triangles (T, 3) into ``vertices`` (V, 3, world metres) of the lattice ``faces`` (world normals) whose air
    in front is free: 1 mm in front of each corner and GAP_PROBES in front of the cell centre lie inside the room
    and strictly inside none of the boxes ``candidates``. Also returns their unit normals (T, 3)."""
    probes = []
    for grid, normal in faces:
        centres = (vertices[grid[:-1, :-1]] + vertices[grid[1:, 1:]]) / 2
        probes += [vertices[grid].reshape(-1, 3) + EDGE_PROBE * normal,
                   (centres[..., None, :] + np.outer(GAP_PROBES, normal)).reshape(-1, 3)]
    points = np.concatenate(probes)
    free = np.all((points >= 0) & (points <= room_size), axis=1) & ~boxes.contains(points, candidates)
    triangles, normals, offset = [], [], 0
    for grid, normal in faces:
        corner_free = free[offset:offset + grid.size].reshape(grid.shape)
        offset += grid.size
        cells = grid[:-1, :-1].shape
        cell_free = free[offset:offset + np.prod(cells) * len(GAP_PROBES)].reshape(cells + (-1,)).all(axis=2)
        offset += np.prod(cells) * len(GAP_PROBES)
        corners = (grid[:-1, :-1], grid[1:, :-1], grid[1:, 1:], grid[:-1, 1:])
        corner_ok = (corner_free[:-1, :-1], corner_free[1:, :-1], corner_free[1:, 1:], corner_free[:-1, 1:])
        for a, b, c in ((0, 1, 2), (0, 2, 3)):  # two triangles per cell
            keep = cell_free & corner_ok[a] & corner_ok[b] & corner_ok[c]
            triangles.append(np.stack([corners[a][keep], corners[b][keep], corners[c][keep]], axis=1))
            normals.append(np.broadcast_to(normal, (int(keep.sum()), 3)))
    return np.concatenate(triangles), np.concatenate(normals)


def build_mesh(boxes, room_size, spacing, light_direction, rng):
    """Welded mesh of ``boxes`` in a room of ``room_size`` (3,) metres with vertices ~``spacing`` metres apart.

    Vertex colours: the box base colours shaded with the vertex normals under ``light_direction`` (3,), plus
    Gaussian noise (std VERTEX_COLOR_NOISE) drawn from ``rng``, which also draws the scan noise (SCAN_NOISE).
    """
    vertices, faces, owners = box_surfaces(boxes, room_size, spacing)
    faces = faces[triangle_normals(vertices, faces)[:, 2] >= UNDERSIDE_NORMAL_Z]
    vertices, faces, owners = weld(vertices, faces, owners, WELD_RADIUS * spacing)
    vertices = laplacian_smoothing(vertices, faces, SMOOTHING_STEPS, SMOOTHING_RATE)
    normals = vertex_normals(vertices, faces)
    colors = boxes.colors[owners] * shade(normals, light_direction)[:, None]
    colors = np.clip(np.round(colors + rng.normal(0.0, VERTEX_COLOR_NOISE, colors.shape)), 0, 255).astype(np.uint8)
    vertices = vertices + normals * rng.normal(0.0, SCAN_NOISE, (len(vertices), 1))
    return Mesh(vertices=vertices.astype(np.float32), faces=faces.astype(np.int32), colors=colors,
                labels=boxes.labels[owners].astype(np.uint16), instances=boxes.instances[owners].astype(np.uint16))


def box_surfaces(boxes, room_size, spacing):
    """The visible lattice triangles of every box, box after box: vertices (V, 3) metres, faces (F, 3) and the
    box index owning each vertex (V,); each box's vertices are its own (nothing welded yet)."""
    aabbs = boxes.aabbs()
    rotations = boxes.rotations
    reach = GAP_PROBES.max()
    vertex_blocks, face_blocks, owner_blocks = [], [], []
    offset = 0
    for b in range(len(boxes)):
        local_vertices, local_faces = box_lattice(boxes.sizes[b], spacing)
        world_vertices = local_vertices @ rotations[b].T + boxes.centers[b]
        faces = [(grid, rotations[b] @ normal) for grid, normal in local_faces]
        touching = np.all((aabbs[:, 0] <= aabbs[b, 1] + reach) & (aabbs[b, 0] - reach <= aabbs[:, 1]), axis=1)
        touching[b] = False
        triangles, _ = _visible_triangles(world_vertices, faces, boxes, np.flatnonzero(touching), room_size)
        used = np.unique(triangles)
        remap = np.full(len(world_vertices), -1, dtype=np.int64)
        remap[used] = np.arange(len(used)) + offset
        vertex_blocks.append(world_vertices[used])
        face_blocks.append(remap[triangles])
        owner_blocks.append(np.full(len(used), b, dtype=np.int64))
        offset += len(used)
    return np.concatenate(vertex_blocks), np.concatenate(face_blocks), np.concatenate(owner_blocks)


def triangle_normals(vertices, faces):
    """(F, 3) unit normals of the triangles (counter-clockwise corners seen from the front)."""
    cross = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    return cross / np.maximum(np.linalg.norm(cross, axis=1, keepdims=True), 1e-12)


def vertex_normals(vertices, faces):
    """(V, 3) unit vertex normals: the normalised sum of the unit normals of the triangles around each vertex."""
    normals = np.zeros_like(vertices, dtype=np.float64)
    face_normals = triangle_normals(vertices, faces)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_normals)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)


def laplacian_smoothing(vertices, faces, steps, rate):
    """``steps`` times move every vertex by ``rate`` towards the mean of its edge neighbours (V, 3) metres."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.concatenate([edges, edges[:, ::-1]])
    adjacency = scipy.sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])),
                                        shape=(len(vertices),) * 2).tocsr()
    adjacency.data[:] = 1.0  # an edge shared by two triangles counts once
    degree = np.asarray(adjacency.sum(axis=1))
    smoothed = np.asarray(vertices, dtype=np.float64)
    for _ in range(steps):
        smoothed = smoothed + rate * (adjacency @ smoothed / np.maximum(degree, 1) - smoothed)
    return smoothed


def weld(vertices, faces, owners, radius):
    """Merge each vertex into the nearest vertex of an EARLIER owner (lower box index) within ``radius`` metres.

    Vertices of one owner never merge with each other, so a box keeps its own lattice; merged vertices take the
    position, label and colour of the one they merge into. Triangles with two corners merged together and
    duplicates of another triangle are dropped, as are vertices no triangle uses. Returns (vertices, faces,
    owners) of the welded mesh.
    """
    pairs = cKDTree(vertices).query_pairs(radius, output_type='ndarray')
    pairs = pairs[owners[pairs[:, 0]] != owners[pairs[:, 1]]]
    later = np.where(owners[pairs[:, 0]] > owners[pairs[:, 1]], pairs[:, 0], pairs[:, 1])
    earlier = np.where(owners[pairs[:, 0]] > owners[pairs[:, 1]], pairs[:, 1], pairs[:, 0])
    distance = np.linalg.norm(vertices[later] - vertices[earlier], axis=1)
    order = np.lexsort((distance, later))  # per later vertex, its nearest earlier one first
    later, earlier = later[order], earlier[order]
    first = np.r_[True, later[1:] != later[:-1]]
    target = np.arange(len(vertices))
    target[later[first]] = earlier[first]
    while True:  # follow merges into vertices that merged themselves (owners strictly decrease, so this ends)
        resolved = target[target]
        if np.array_equal(resolved, target):
            break
        target = resolved
    faces = target[faces]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    faces = np.unique(faces, axis=0)
    used, faces = np.unique(faces, return_inverse=True)
    return vertices[used], faces.reshape(-1, 3), owners[used]
