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

:class:`ScanReport` keeps, for every point of the file, the row of the cleaned scan that stands for it, so that
outputs can be given per point of the file.
"""
import warnings
from dataclasses import dataclass, replace

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


@dataclass
class ScanReport:
    """What :func:`normalise_scan` did to a file's points.

    points_read: points in the file; non_finite, duplicates: points dropped as NaN/Inf and as exact repeats;
    points: points left. file_rows: (points_read,) int64, for each point of the file the row of the cleaned scan
    that stands for it (a repeated point: its first copy), -1 for a dropped NaN/Inf point.
    """
    points_read: int
    non_finite: int
    duplicates: int
    points: int
    file_rows: np.ndarray


def drop_non_finite(scan):
    """(scan without points whose coordinates or intensity hold NaN or Inf, (N,) bool mask of the kept points)."""
    keep = np.isfinite(scan.xyz).all(axis=1)
    if scan.intensity is not None:
        keep &= np.isfinite(scan.intensity)
    return select(scan, keep), keep


def drop_duplicates(scan):
    """(scan keeping the first of each exactly repeated x y z, (N,) int64 row of the kept scan standing for each
    point); the order of the kept points is the file's."""
    _, first, copy_of = np.unique(scan.xyz, axis=0, return_index=True, return_inverse=True)
    keep = np.zeros(len(scan.xyz), dtype=bool)
    keep[first] = True
    kept_row = np.cumsum(keep) - 1
    return select(scan, keep), kept_row[first[copy_of.reshape(-1)]].astype(np.int64)


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
    ``intensity_scale``. Returns (scan, :class:`ScanReport`)."""
    read = len(scan.xyz)
    scan, finite = drop_non_finite(scan)
    scan, rows = drop_duplicates(scan)
    check_points(scan)
    scan = to_metres(to_z_up(scan, up), scale)
    if scan.intensity is not None and intensity_scale != 1.0:
        scan = replace(scan, intensity=(scan.intensity * intensity_scale).astype(np.float32))
    file_rows = np.full(read, -1, dtype=np.int64)
    file_rows[finite] = rows
    return scan, ScanReport(points_read=read, non_finite=int(read - finite.sum()),
                            duplicates=int(finite.sum() - len(scan.xyz)), points=len(scan.xyz), file_rows=file_rows)
