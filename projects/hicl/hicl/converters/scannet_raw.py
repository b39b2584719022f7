"""Readers for ScanNet's raw layout (meshes, labels, SensReader frame exports).

Each reader checks what it reads and raises :class:`ScanNetFormatError` (or one of its subclasses) with a
message that names the file, says what is wrong and how to fix it. Units: metres, poses camera-to-world.
Only numpy, PIL and plyfile are used, so the module imports without mmcv/mmdet3d.
"""
import os

import numpy as np
import plyfile
from PIL import Image

from ..dataset_io import ScanNetFormatError, ScanNetMissingFileError, require_file

MESH_SUFFIX = '_vh_clean_2.ply'
LABELS_SUFFIX = '_vh_clean_2.labels.ply'
ROTATION_TOLERANCE = 1e-3  # pose files carry 6 decimals

_XYZ = ('x', 'y', 'z')
_RGB = ('red', 'green', 'blue')
_TRIANGLE_LISTS = {'face': {'vertex_indices': 3}}


class InvalidPoseError(ScanNetFormatError):
    """A pose file holds non-finite values: ScanNet's mark (-inf) for frames whose tracking failed."""


def _read_ply(path, what):
    """Parse a PLY file (triangle faces read memory-mapped); return ``plyfile.PlyData``."""
    require_file(path, what)
    try:
        return plyfile.PlyData.read(path, known_list_len=_TRIANGLE_LISTS)
    except plyfile.PlyElementParseError as err:
        if err.message == 'unexpected list length':
            raise ScanNetFormatError(
                f'{path}: face {err.row} is not a triangle; ScanNet meshes are triangle meshes, '
                'triangulate the mesh first') from err
        raise ScanNetFormatError(
            f'{path}: corrupt or truncated PLY ({err}); re-download or re-export the file') from err
    except (plyfile.PlyParseError, ValueError, OSError) as err:
        raise ScanNetFormatError(
            f'{path}: not a readable PLY file ({err}); re-download or re-export the file') from err


def _vertex_columns(ply, names, path):
    """Stack vertex properties ``names`` of ``ply`` into an (N, len(names)) array (no copy of dtype)."""
    if 'vertex' not in ply:
        raise ScanNetFormatError(f'{path}: PLY has no "vertex" element; expected a ScanNet mesh')
    vertex = ply['vertex']
    present = [prop.name for prop in vertex.properties]
    missing = [name for name in names if name not in present]
    if missing:
        raise ScanNetFormatError(
            f'{path}: vertex properties {missing} missing (found {present}); expected ScanNet\'s layout '
            'x y z red green blue [alpha]')
    return np.stack([np.asarray(vertex[name]) for name in names], axis=1)


def _read_xyz(ply, path):
    """(N, 3) float32 vertex coordinates; rejects NaN/inf."""
    xyz = _vertex_columns(ply, _XYZ, path).astype(np.float32)
    bad_rows = int((~np.isfinite(xyz)).any(axis=1).sum())
    if bad_rows:
        raise ScanNetFormatError(
            f'{path}: {bad_rows} of {len(xyz)} vertices have NaN/inf coordinates; the mesh is corrupt, '
            're-download it')
    return xyz


def _read_rgb(ply, path):
    """(N, 3) uint8 vertex colours; rejects values outside 0..255."""
    rgb = _vertex_columns(ply, _RGB, path)
    if rgb.size and (rgb.min() < 0 or rgb.max() > 255 or not np.issubdtype(rgb.dtype, np.integer)):
        raise ScanNetFormatError(
            f'{path}: vertex colours must be integers in 0..255 (uchar), got dtype {rgb.dtype} '
            f'range [{rgb.min()}, {rgb.max()}]')
    return rgb.astype(np.uint8)


def _read_faces(ply, num_vertices, path):
    """(F, 3) int32 triangle indices, or None when the PLY has no faces; rejects out-of-range indices."""
    if 'face' not in ply or ply['face'].count == 0:
        return None
    face = ply['face']
    if 'vertex_indices' not in [prop.name for prop in face.properties]:
        raise ScanNetFormatError(f'{path}: face element has no "vertex_indices" list property')
    faces = _as_triangles(face['vertex_indices'], path)
    out_of_range = int(((faces < 0) | (faces >= num_vertices)).any(axis=1).sum())
    if out_of_range:
        raise ScanNetFormatError(
            f'{path}: {out_of_range} faces index vertices outside 0..{num_vertices - 1}; the mesh is corrupt, '
            're-download it')
    return faces.astype(np.int32)


def _as_triangles(vertex_lists, path):
    """(F, 3) int64 from a PLY list column (fixed-length when memory-mapped, object array otherwise)."""
    try:
        faces = np.stack(vertex_lists) if vertex_lists.dtype == object else np.asarray(vertex_lists)
    except ValueError:
        faces = None
    if faces is None or faces.ndim != 2 or faces.shape[1] != 3:
        raise ScanNetFormatError(f'{path}: faces are not all triangles; ScanNet meshes are triangle meshes')
    return faces.astype(np.int64)


def read_mesh(path):
    """Read a ScanNet ``<scene>_vh_clean_2.ply`` mesh.

    Returns dict(xyz=(N, 3) float32 metres (world frame), rgb=(N, 3) uint8, faces=(F, 3) int32 or None).
    """
    ply = _read_ply(path, 'mesh')
    xyz = _read_xyz(ply, path)
    if len(xyz) == 0:
        raise ScanNetFormatError(f'{path}: mesh has no vertices; re-download it')
    return dict(xyz=xyz, rgb=_read_rgb(ply, path), faces=_read_faces(ply, len(xyz), path))


def read_vertex_labels(path, num_vertices):
    """Read raw NYU40 ids from ``<scene>_vh_clean_2.labels.ply`` (vertex property ``label``): (N,) int64."""
    ply = _read_ply(path, 'label mesh')
    labels = _vertex_columns(ply, ('label',), path)[:, 0]
    if len(labels) != num_vertices:
        raise ScanNetFormatError(
            f'{path}: {len(labels)} labelled vertices but the mesh has {num_vertices}; the labels belong to '
            'another mesh version, use the matching _vh_clean_2.labels.ply')
    if not np.issubdtype(labels.dtype, np.integer):
        raise ScanNetFormatError(f'{path}: vertex property "label" has dtype {labels.dtype}, expected integers')
    return labels.astype(np.int64)


def read_vertex_instances(path, num_vertices):
    """(N,) int64 object ids of the vertices from the vertex property ``instance`` of a labels PLY (SynthRooms
    writes it; ScanNet keeps instances in its aggregation files instead), or None when the file has none."""
    ply = _read_ply(path, 'label mesh')
    if 'instance' not in ply['vertex'].data.dtype.names:
        return None
    instances = _vertex_columns(ply, ('instance',), path)[:, 0]
    if len(instances) != num_vertices:
        raise ScanNetFormatError(f'{path}: {len(instances)} vertices with an instance but the mesh has '
                                 f'{num_vertices}; use the labels file of this mesh')
    return instances.astype(np.int64)


def _read_matrix(path, what):
    """Whitespace-separated float matrix from a text file: 2-D float64 array."""
    require_file(path, what)
    try:
        matrix = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ScanNetFormatError(f'{path}: cannot parse {what} as a numeric matrix ({err})') from err
    return matrix


def read_pose(path):
    """Read a SensReader pose: (4, 4) float64 camera-to-world (metres).

    Raises :class:`InvalidPoseError` for non-finite entries (ScanNet writes -inf for lost tracking).
    """
    pose = _read_matrix(path, 'camera pose')
    if pose.shape != (4, 4):
        raise ScanNetFormatError(f'{path}: camera pose has shape {pose.shape}, expected 4x4 camera-to-world')
    if not np.isfinite(pose).all():
        raise InvalidPoseError(
            f'{path}: camera pose has {int((~np.isfinite(pose)).sum())} non-finite entries (ScanNet marks '
            'frames with failed tracking by -inf); skip this frame')
    _check_rigid(pose, path)
    return pose


def _check_rigid(pose, path):
    """Raise unless ``pose`` is a rigid transform: orthonormal rotation with det +1, last row 0 0 0 1."""
    rotation = pose[:3, :3]
    orthonormal_error = np.abs(rotation.T @ rotation - np.eye(3)).max()
    determinant = np.linalg.det(rotation)
    if orthonormal_error > ROTATION_TOLERANCE or abs(determinant - 1) > ROTATION_TOLERANCE:
        raise ScanNetFormatError(
            f'{path}: camera pose is not rigid (|R^T R - I| max {orthonormal_error:.3g}, det {determinant:.4g}); '
            'expected a 4x4 camera-to-world matrix with a rotation block')
    if not np.allclose(pose[3], (0, 0, 0, 1)):
        raise ScanNetFormatError(f'{path}: camera pose last row is {pose[3].tolist()}, expected [0, 0, 0, 1]')


def read_intrinsic(path):
    """Read a SensReader intrinsic matrix: (4, 4) float64 (a 3x3 file is embedded into the top-left)."""
    matrix = _read_matrix(path, 'camera intrinsics')
    if matrix.shape == (3, 3):
        matrix = embed_intrinsic(matrix)
    if matrix.shape != (4, 4):
        raise ScanNetFormatError(
            f'{path}: camera intrinsics have shape {matrix.shape}, expected 4x4 (SensReader) or 3x3; '
            're-export the intrinsic/ folder')
    if not np.isfinite(matrix).all() or matrix[0, 0] <= 0 or matrix[1, 1] <= 0:
        raise ScanNetFormatError(
            f'{path}: camera intrinsics need finite values and positive focal lengths, got '
            f'fx={matrix[0, 0]}, fy={matrix[1, 1]}')
    return matrix


def embed_intrinsic(matrix3):
    """Embed a (3, 3) pinhole matrix into the (4, 4) layout SensReader writes."""
    matrix = np.eye(4)
    matrix[:3, :3] = matrix3
    return matrix


def read_image_size(path, what='image'):
    """Return [width, height] of an image, reading only its header."""
    require_file(path, what)
    try:
        with Image.open(path) as image:
            return list(image.size)
    except OSError as err:
        raise ScanNetFormatError(f'{path}: cannot read {what} header ({err})') from err


def frame_paths(scene_dir, frame_id):
    """Paths of one SensReader frame: dict(color=..jpg, depth=..png, pose=..txt)."""
    return dict(color=os.path.join(scene_dir, 'color', f'{frame_id}.jpg'),
                depth=os.path.join(scene_dir, 'depth', f'{frame_id}.png'),
                pose=os.path.join(scene_dir, 'pose', f'{frame_id}.txt'))


def intrinsic_paths(scene_dir):
    """Paths of the SensReader intrinsics: dict(color=..., depth=...)."""
    return dict(color=os.path.join(scene_dir, 'intrinsic', 'intrinsic_color.txt'),
                depth=os.path.join(scene_dir, 'intrinsic', 'intrinsic_depth.txt'))


def list_frames(scene_dir):
    """Frame ids of a SensReader export, numerically sorted (['0', '1', ..., '10']).

    Every colour frame must have its depth PNG and pose file.
    """
    color_dir = os.path.join(scene_dir, 'color')
    if not os.path.isdir(color_dir):
        raise ScanNetMissingFileError(
            f'{color_dir}: colour frame folder not found; export the frames with ScanNet\'s SensReader')
    stems = [name[:-4] for name in os.listdir(color_dir) if name.endswith('.jpg')]
    non_numeric = [stem for stem in stems if not stem.isdigit()]
    if non_numeric:
        raise ScanNetFormatError(
            f'{color_dir}: frame names must be integers (<i>.jpg), found {sorted(non_numeric)[:5]}')
    frame_ids = sorted(stems, key=int)
    for frame_id in frame_ids:
        _check_frame_complete(scene_dir, frame_id)
    return frame_ids


def _check_frame_complete(scene_dir, frame_id):
    """Raise :class:`ScanNetMissingFileError` when frame ``frame_id`` lacks its depth or pose file."""
    paths = frame_paths(scene_dir, frame_id)
    for kind in ('depth', 'pose'):
        if not os.path.isfile(paths[kind]):
            raise ScanNetMissingFileError(
                f'{paths[kind]}: scene {os.path.basename(os.path.normpath(scene_dir))} frame {frame_id} has a '
                f'colour image but no {kind} file; re-export the frames with SensReader')
