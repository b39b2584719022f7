"""File readers and names shared by the offline converters and the runtime (datasets, transforms).

The runtime never imports :mod:`hicl.converters`; whatever both read or name lives here. Only numpy and PIL
are used, so the module imports without mmcv/mmdet3d. Units: metres.
"""
import os

import numpy as np
from PIL import Image

DEFAULT_DEPTH_SCALE = 1000.0  # ScanNet depth PNGs hold millimetres
NUM_POINT_FEATURES = 5  # nuScenes .pcd.bin: x y z intensity ring
INFO_FILE_PREFIXES = dict(scannet='hicl_infos', nuscenes='hicl_nuscenes_infos')


def info_file_name(split, dataset='scannet'):
    """File name of the info file of ``split`` written by the ``dataset`` converter ('scannet' for ScanNet and
    SynthRooms, 'nuscenes' for nuScenes and SynthStreet): 'hicl_infos_<split>.pkl' or
    'hicl_nuscenes_infos_<split>.pkl'."""
    if dataset not in INFO_FILE_PREFIXES:
        raise ValueError(f'unknown dataset {dataset!r} for an info file name: use one of {sorted(INFO_FILE_PREFIXES)}')
    return f'{INFO_FILE_PREFIXES[dataset]}_{split}.pkl'


class ScanNetFormatError(ValueError):
    """A raw ScanNet file is malformed; the message names the file and the fix."""


class ScanNetMissingFileError(ScanNetFormatError, FileNotFoundError):
    """A raw ScanNet file that the layout requires does not exist."""


def require_file(path, what):
    """Raise :class:`ScanNetMissingFileError` unless ``path`` is an existing file; ``what`` describes it."""
    if not os.path.isfile(path):
        raise ScanNetMissingFileError(f'{path}: {what} not found; check the path or re-export/re-download it')


def read_depth(path, depth_scale=DEFAULT_DEPTH_SCALE, size=None):
    """Read a 16-bit depth PNG: (H, W) float32 metres, 0 where the sensor had no reading.

    size: the expected [W, H] in pixels (the info file's ``camera.depth_size``), or None (not checked).
    """
    require_file(path, 'depth image')
    try:
        with Image.open(path) as image:
            mode = image.mode
            raw = np.asarray(image)
    except OSError as err:
        raise ScanNetFormatError(f'{path}: cannot decode depth image ({err}); re-export it') from err
    _check_depth_raw(raw, mode, path)
    if size is not None:
        check_image_size(path, [raw.shape[1], raw.shape[0]], size, 'depth image')
    return (raw.astype(np.float32) / np.float32(depth_scale))


def _check_depth_raw(raw, mode, path):
    """Raise unless ``raw`` is single-channel uint16 data (Pillow mode 'I;16*' or 'I' holding 0..65535)."""
    is_16bit = mode.startswith('I;16') or (mode == 'I' and raw.size and 0 <= raw.min() and raw.max() <= 65535)
    if raw.ndim != 2 or not is_16bit:
        raise ScanNetFormatError(
            f'{path}: depth image has mode {mode!r} and shape {raw.shape}; expected a single-channel 16-bit PNG '
            'in millimetres (SensReader export)')


def check_image_size(path, actual, expected, what):
    """Raise :class:`ScanNetFormatError` naming ``path`` unless its [W, H] ``actual`` equals ``expected``."""
    if list(actual) != list(expected):
        raise ScanNetFormatError(
            f'{path}: {what} is {actual[0]}x{actual[1]} pixels, but the scene\'s {what}s are {expected[0]}x'
            f'{expected[1]} (the size recorded when the scene was converted); re-export the frame, or convert the '
            'scene again if its frames were all re-exported at a new size')


def file_stamp(path):
    """[size in bytes, mtime in ns] of the file (or folder) at ``path``, or None when there is none: os.stat only,
    so cheap, and any rewrite of the file changes it. What the converter records of its inputs and the
    pseudo-label cache of the files each frame was labelled from."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def principal_point_off_centre(intrinsic, size):
    """Whether the principal point (cx, cy) of ``intrinsic`` (3x3 or 4x4 pinhole matrix, pixels) lies outside the
    middle half of an image of ``size`` = [W, H] pixels: |cx - W/2| > W/4 or |cy - H/2| > H/4. Real cameras have
    it within a few % of the centre; shrinking the images by 2 or more after their intrinsics were written puts
    it at the border or beyond."""
    (cx, cy), (width, height) = principal_point(intrinsic), size
    return abs(cx - width / 2) > width / 4 or abs(cy - height / 2) > height / 4


def principal_point(intrinsic):
    """(cx, cy) in pixels of a 3x3 or 4x4 pinhole matrix."""
    return float(intrinsic[0][2]), float(intrinsic[1][2])


class PointsFileError(ValueError):
    """A points file that does not hold usable points; the message names the file and the fix."""


def check_point_values(values, path, num_features, what, fix):
    """(N, num_features) view of the flat float32 ``values`` read from the points file ``path``.

    Raises :class:`PointsFileError` naming ``what`` (e.g. 'points file') and ``path``, followed by ``fix``, unless
    the values are a whole, non-zero number of points of ``num_features`` values, all of them finite.
    """
    if values.size % num_features:
        raise PointsFileError(f'{what} {path} holds {values.size} float32 values, not a multiple of {num_features} '
                              f'values per point (a truncated file, or points of another width): {fix}')
    points = values.reshape(-1, num_features)
    if not len(points):
        raise PointsFileError(f'{what} {path} holds no points: {fix}')
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        raise PointsFileError(f'{what} {path} has NaN or Inf values in {int(bad.sum())} of its {len(points)} points '
                              f'(the first: row {int(bad.argmax())}): {fix}')
    return points


def read_lidar_points(path, num_features=NUM_POINT_FEATURES):
    """(N, num_features) float32 points of a nuScenes ``.pcd.bin`` (x y z intensity ring, LiDAR frame, metres).

    Raises FileNotFoundError naming the file when it is missing, PointsFileError (``check_point_values``) when it
    is not a whole, non-zero number of points or holds NaN/Inf values.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'LiDAR file {path} not found: is the nuScenes root complete (samples/ and '
                                'sweeps/ of the blobs you use)?')
    return check_point_values(np.fromfile(path, dtype=np.float32), path, num_features, 'LiDAR file',
                              'the file is truncated or corrupt, or not a nuScenes .pcd.bin (x y z intensity ring): '
                              're-download it')


def lidar_stem(lidar_path):
    """The LiDAR file name without '.pcd.bin': the sample's id in the sets folder and pseudo-label cache."""
    name = os.path.basename(lidar_path)
    return name[:-len('.pcd.bin')] if name.endswith('.pcd.bin') else os.path.splitext(name)[0]
