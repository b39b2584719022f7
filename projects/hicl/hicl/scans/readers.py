"""Reading a user's own scan, whatever file it came in: one function, :func:`read_scan`, for point clouds and
meshes (their vertices), with the reader chosen by the file's extension and checked against its first bytes.

- .ply (binary or ASCII, points or mesh), with plyfile: vertex x y z; red green blue (or r g b) and intensity when
  present.
- .obj, .glb, .gltf, with trimesh: the vertices of every mesh (a scene's meshes in their placed frames); vertex
  colours when present. trimesh's OBJ reader keeps only the vertices that faces use.
- .npy, .npz, with numpy: an (N, 3), (N, 4) or (N, 6) numeric array, x y z [+ intensity] or x y z r g b; an .npz
  holds it as its only array or as ``points``. Pickled objects are refused.
- .bin, with numpy: float32 rows ``bin_columns`` wide: 5 for nuScenes ``*.pcd.bin`` (x y z intensity ring), else 4
  for KITTI / SemanticKITTI (x y z remission); 6 for mmdet3d's converted ScanNet / S3DIS points (x y z r g b).
- .txt, .xyz, with numpy: whitespace columns x y z [r g b ...] (S3DIS); columns after the sixth are ignored.
- .pcd (ASCII, binary, binary_compressed), with pypcd4: fields x y z; rgb (packed) or r g b, and intensity when
  present.
- .las, with laspy: the scaled x y z; red green blue (16-bit values scaled to 0..255) and intensity when present.
  LAZ needs a laspy LAZ backend (``pip install lazrs``).

Colours in [0, 1] floats are scaled to 0..255. Nothing is dropped or moved here: NaN points, axes and units are
:mod:`hicl.scans.conventions`' job.
"""
import os
from dataclasses import dataclass

import numpy as np

SUFFIXES = ('.ply', '.obj', '.glb', '.gltf', '.npy', '.npz', '.bin', '.txt', '.xyz', '.pcd', '.las', '.laz')
# The first bytes a file of each kind starts with (a file that does not is refused: it is not what its name says).
MAGIC = {'.ply': (b'ply',), '.glb': (b'glTF',), '.npy': (b'\x93NUMPY',), '.npz': (b'PK',), '.las': (b'LASF',),
         '.laz': (b'LASF',), '.pcd': (b'#', b'VERSION')}


class ScanFileError(ValueError):
    """A scan file that cannot be read as its extension says; the message names the file and the fix."""


@dataclass
class Scan:
    """A point cloud read from a file.

    xyz: (N, 3) float64 coordinates in the file's units and axes. rgb: (N, 3) uint8 colours, or None.
    intensity: (N,) float32 LiDAR intensity / remission as stored, or None. path: the file read.
    """
    xyz: np.ndarray
    rgb: np.ndarray = None
    intensity: np.ndarray = None
    path: str = ''


def scan_suffix(path):
    """The reader key of ``path``: its extension in lower case (``.bin`` also for ``*.pcd.bin``)."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise ScanFileError(f'{path}: unknown scan format {suffix or "(no extension)"!r}; readable: '
                            f'{", ".join(SUFFIXES)} (convert other formats to PLY, e.g. with CloudCompare)')
    return suffix


def scan_name(path):
    """The file name of ``path`` without its scan extension (``a.pcd.bin`` -> ``a``): the outputs' stem."""
    name = os.path.basename(os.fspath(path))
    for suffix in ('.pcd.bin',) + SUFFIXES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def check_magic(path, suffix):
    """Refuse a file whose first bytes are not those of its extension's format."""
    with open(path, 'rb') as file:
        head = file.read(8)
    if not head:
        raise ScanFileError(f'{path} is empty (0 bytes): nothing to segment')
    expected = MAGIC.get(suffix)
    if expected and not head.startswith(expected):  # (a tuple: any of them)
        raise ScanFileError(f'{path} is named {suffix} but does not start like one ({head[:8]!r} instead of '
                            f'{expected[0]!r}): check the file, or give it the extension of what it holds')


def colours_uint8(colours, path):
    """(N, 3) uint8 of colours stored as 0..255 integers or 0..1 floats."""
    colours = np.asarray(colours)
    if colours.dtype.kind == 'f':
        finite = colours[np.isfinite(colours)]
        if finite.size and finite.max() <= 1.0:
            colours = colours * 255.0
        colours = np.nan_to_num(colours)
    if colours.size and (colours.min() < 0 or colours.max() > 255):
        raise ScanFileError(f'{path}: colours outside 0..255 (range {colours.min()}..{colours.max()})')
    return np.rint(colours).astype(np.uint8)


def read_ply(path):
    from plyfile import PlyData, PlyHeaderParseError
    try:
        vertex = PlyData.read(path)['vertex'].data
    except (PlyHeaderParseError, KeyError, ValueError, EOFError) as err:
        raise ScanFileError(f'{path}: not a readable PLY with a vertex element ({err})') from err
    names = vertex.dtype.names
    if not {'x', 'y', 'z'} <= set(names):
        raise ScanFileError(f'{path}: its vertices have no x y z properties (they have {", ".join(names)})')
    xyz = np.stack([vertex[axis] for axis in 'xyz'], axis=1).astype(np.float64)
    channels = next((keys for keys in (('red', 'green', 'blue'), ('r', 'g', 'b'),
                                       ('diffuse_red', 'diffuse_green', 'diffuse_blue')) if set(keys) <= set(names)),
                    None)
    rgb = colours_uint8(np.stack([vertex[c] for c in channels], axis=1), path) if channels else None
    intensity = (np.asarray(vertex['intensity'], dtype=np.float32) if 'intensity' in names else None)
    return Scan(xyz, rgb, intensity, path)


def read_mesh(path):
    import trimesh
    try:
        loaded = trimesh.load(path, process=False)
    except Exception as err:  # trimesh raises many kinds for a broken file
        raise ScanFileError(f'{path}: trimesh could not read it ({type(err).__name__}: {err})') from err
    meshes = loaded.dump() if isinstance(loaded, trimesh.Scene) else [loaded]
    meshes = [mesh for mesh in meshes if len(getattr(mesh, 'vertices', ()))]
    if not meshes:
        raise ScanFileError(f'{path}: no vertices in it')
    xyz = np.concatenate([np.asarray(mesh.vertices, dtype=np.float64) for mesh in meshes])
    colours = [getattr(getattr(mesh, 'visual', None), 'vertex_colors', None) for mesh in meshes]
    has_colour = all(c is not None and len(c) == len(m.vertices) for c, m in zip(colours, meshes)) and any(
        getattr(m.visual, 'kind', None) == 'vertex' for m in meshes)
    rgb = np.concatenate([np.asarray(c)[:, :3] for c in colours]).astype(np.uint8) if has_colour else None
    return Scan(xyz, rgb, None, path)


def scan_from_array(array, path):
    """A Scan of an (N, 3) x y z, (N, 4) x y z intensity or (N, 6) x y z r g b array."""
    array = np.asarray(array)
    if array.ndim != 2 or array.shape[1] not in (3, 4, 6) or array.dtype.kind not in 'fiu':
        raise ScanFileError(f'{path}: expected a numeric (N, 3), (N, 4) or (N, 6) array (x y z [intensity | r g b]), '
                            f'got {array.dtype} {array.shape}')
    xyz = array[:, :3].astype(np.float64)
    if array.shape[1] == 6:
        return Scan(xyz, colours_uint8(array[:, 3:6], path), None, path)
    intensity = array[:, 3].astype(np.float32) if array.shape[1] == 4 else None
    return Scan(xyz, None, intensity, path)


def read_numpy(path):
    try:
        if path.lower().endswith('.npz'):
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                key = 'points' if 'points' in keys else (keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise ScanFileError(f'{path}: holds the arrays {keys}; name the points array "points"')
                array = archive[key]
        else:
            array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise ScanFileError(f'{path}: not a readable numpy file without pickled objects ({err})') from err
    return scan_from_array(array, path)


def read_bin(path, bin_columns=None):
    """float32 rows of ``bin_columns`` values: 4 x y z intensity (KITTI, the default), 5 x y z intensity ring
    (nuScenes, the default for ``*.pcd.bin``) or 6 x y z r g b (mmdet3d's converted ScanNet / S3DIS points). A raw
    .bin says nothing of its width: a wrong one reads garbage, so give it when the file is not KITTI's."""
    columns = bin_columns or (5 if path.lower().endswith('.pcd.bin') else 4)
    if columns not in (4, 5, 6):
        raise ValueError(f'bin_columns must be 4, 5 or 6, got {bin_columns}')
    values = np.fromfile(path, dtype=np.float32)
    if values.size % columns:
        raise ScanFileError(f'{path}: {values.size} float32 values are not whole rows of {columns}; give the row '
                            'width (--bin-columns 4: x y z intensity, 5: + ring, 6: x y z r g b)')
    rows = values.reshape(-1, columns)
    if columns == 6:
        return Scan(rows[:, :3].astype(np.float64), colours_uint8(rows[:, 3:6], path), None, path)
    return Scan(rows[:, :3].astype(np.float64), None, rows[:, 3].copy(), path)


def read_text(path):
    try:
        array = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ScanFileError(f'{path}: not whitespace-separated numbers (x y z [r g b]) ({err})') from err
    if array.shape[1] > 6:  # e.g. S3DIS exports with extra label columns: x y z r g b first
        array = array[:, :6]
    return scan_from_array(array, path)


def read_pcd(path):
    from pypcd4 import PointCloud
    try:
        cloud = PointCloud.from_path(path)
    except Exception as err:  # pypcd4 raises several kinds for a malformed header or body
        raise ScanFileError(f'{path}: not a readable PCD ({type(err).__name__}: {err})') from err
    fields = set(cloud.fields)
    if not {'x', 'y', 'z'} <= fields:
        raise ScanFileError(f'{path}: its fields have no x y z (they are {", ".join(cloud.fields)})')
    xyz = cloud.numpy(('x', 'y', 'z')).astype(np.float64)
    rgb = None
    if 'rgb' in fields:
        rgb = PointCloud.decode_rgb(cloud.numpy(('rgb',))[:, 0]).astype(np.uint8)
    elif {'r', 'g', 'b'} <= fields:
        rgb = colours_uint8(cloud.numpy(('r', 'g', 'b')), path)
    intensity = cloud.numpy(('intensity',))[:, 0].astype(np.float32) if 'intensity' in fields else None
    return Scan(xyz, rgb, intensity, path)


def read_las(path):
    import laspy
    try:
        las = laspy.read(path)
    except Exception as err:  # laspy's errors (and a missing LAZ backend) name the problem
        raise ScanFileError(f'{path}: not a readable LAS/LAZ file ({type(err).__name__}: {err}); for LAZ install a '
                            'backend: pip install lazrs') from err
    xyz = np.stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)], axis=1).astype(np.float64)
    names = set(las.point_format.dimension_names)
    rgb = None
    if {'red', 'green', 'blue'} <= names:
        colours = np.stack([np.asarray(las.red), np.asarray(las.green), np.asarray(las.blue)], axis=1)
        rgb = (colours // 256 if colours.max() > 255 else colours).astype(np.uint8)  # LAS stores 16-bit colour
    intensity = np.asarray(las.intensity, dtype=np.float32) if 'intensity' in names else None
    return Scan(xyz, rgb, intensity, path)


READERS = {'.ply': read_ply, '.obj': read_mesh, '.glb': read_mesh, '.gltf': read_mesh, '.npy': read_numpy,
           '.npz': read_numpy, '.txt': read_text, '.xyz': read_text, '.pcd': read_pcd, '.las': read_las,
           '.laz': read_las}


def read_scan(path, bin_columns=None):
    """The :class:`Scan` in ``path`` (see the module docstring for the formats; ``bin_columns``: the row width of
    a .bin, see :func:`read_bin`). Raises FileNotFoundError for a missing file and :class:`ScanFileError` naming
    the file and the fix for an empty, unknown, mislabelled or malformed one."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} does not exist (or is a folder): give a scan file')
    suffix = scan_suffix(path)
    check_magic(path, suffix)
    scan = read_bin(path, bin_columns) if suffix == '.bin' else READERS[suffix](path)
    if len(scan.xyz) == 0:
        raise ScanFileError(f'{path}: holds no points')
    return scan
