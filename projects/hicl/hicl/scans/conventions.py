"""What real scan files disagree on, brought to what the models were trained with: z up, metres, finite points, no
exact duplicates. Each step returns a new :class:`~hicl.scans.readers.Scan` and says what it did.

- Up axis: phone and photogrammetry exports are often y-up (glTF's convention); ``up='y'`` rotates +y to +z
  (x stays, right-handed), ``'-y'`` rotates -y to +z, ``'z'`` keeps the file's axes.
- Units: ``scale`` multiplies the coordinates (0.001 for millimetres). An extent that suggests millimetres
  (over :data:`MAX_ROOM_EXTENT_M`) or a model far too small (under :data:`MIN_EXTENT_M`) gives a warning naming
  ``--scale``.
- NaN / Inf coordinates or intensity: the point is dropped and counted.
- Intensity: ``intensity_scale`` multiplies it (255 for KITTI-style remission in [0, 1] given to a model trained on
  nuScenes' 0..255; :func:`hicl.inference.scans.scan_points` warns when the ranges disagree).
- Exact duplicates (same x y z): kept once (the first), counted; they carry no information and skew voxel means.
"""
import warnings
from dataclasses import replace

import numpy as np

from .readers import ScanFileError

# Rotations taking the named axis to +z (proper rotations: det = +1).
UP_ROTATIONS = {
    'z': np.eye(3),
    'y': np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),  # (x, y, z) -> (x, -z, y)
    '-y': np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]),  # (x, y, z) -> (x, z, -y)
}
MAX_ROOM_EXTENT_M = 1000.0  # a larger extent is more likely millimetres than a scene
MIN_EXTENT_M = 0.05  # a smaller one is more likely a model in kilometres (or a unit cube) than a scene


def check_points(scan, minimum=2):
    """Refuse a scan of fewer than ``minimum`` points (nothing to segment), naming the file."""
    if len(scan.xyz) < minimum:
        raise ScanFileError(f'{scan.path}: {len(scan.xyz)} point(s) after cleaning; a scan needs at least {minimum}')


def drop_non_finite(scan):
    """(scan without points whose coordinates or intensity hold NaN or Inf, number dropped)."""
    keep = np.isfinite(scan.xyz).all(axis=1)
    if scan.intensity is not None:
        keep &= np.isfinite(scan.intensity)
    return select(scan, keep), int((~keep).sum())


def drop_duplicates(scan):
    """(scan keeping the first of each exactly repeated x y z, number dropped); the order of the kept points is
    the file's."""
    _, first = np.unique(scan.xyz, axis=0, return_index=True)
    keep = np.zeros(len(scan.xyz), dtype=bool)
    keep[first] = True
    return select(scan, keep), int(len(scan.xyz) - len(first))


def select(scan, keep):
    """The scan's points where the (N,) bool ``keep`` is True (colours and intensity alike)."""
    return replace(scan, xyz=scan.xyz[keep], rgb=None if scan.rgb is None else scan.rgb[keep],
                   intensity=None if scan.intensity is None else scan.intensity[keep])


def to_z_up(scan, up='z'):
    """The scan rotated so that its ``up`` axis ('z', 'y' or '-y') becomes +z."""
    if up not in UP_ROTATIONS:
        raise ValueError(f"up must be one of {sorted(UP_ROTATIONS)}, got {up!r}")
    return replace(scan, xyz=scan.xyz @ UP_ROTATIONS[up].T)


def to_metres(scan, scale=1.0):
    """The scan's coordinates times ``scale``; warns when the extent then looks like millimetres or kilometres."""
    if not scale > 0:
        raise ValueError(f'scale must be > 0, got {scale}')
    scan = replace(scan, xyz=scan.xyz * scale)
    extent = float((scan.xyz.max(0) - scan.xyz.min(0)).max()) if len(scan.xyz) else 0.0
    if extent > MAX_ROOM_EXTENT_M:
        warnings.warn(f'{scan.path}: the scan spans {extent:.0f} m; if its units are millimetres, pass --scale 0.001')
    elif 0 < extent < MIN_EXTENT_M:
        warnings.warn(f'{scan.path}: the scan spans {extent:.3g} m; if its units are kilometres, pass --scale 1000')
    return scan


def normalise_scan(scan, up='z', scale=1.0, intensity_scale=1.0):
    """Apply every convention: finite points, no duplicates, ``up`` to +z, metres, intensity times
    ``intensity_scale``. Returns (scan, report) with report = dict(points_read, non_finite, duplicates, points)."""
    read = len(scan.xyz)
    scan, non_finite = drop_non_finite(scan)
    scan, duplicates = drop_duplicates(scan)
    check_points(scan)
    scan = to_metres(to_z_up(scan, up), scale)
    if scan.intensity is not None and intensity_scale != 1.0:
        scan = replace(scan, intensity=(scan.intensity * intensity_scale).astype(np.float32))
    return scan, dict(points_read=read, non_finite=non_finite, duplicates=duplicates, points=len(scan.xyz))
