"""Coloured point clouds as binary PLY files, which MeshLab, Open3D and CloudCompare open: one ``vertex`` element
with x y z (float32, metres), red green blue (uint8) and optional per-point scalar fields (e.g. a class id, a
query score; CloudCompare shows them as scalar fields)."""
import os

import numpy as np

from ..fileio import atomic_write


def colours_as_bytes(colours):
    """(N, 3) uint8 of colours given as uint8 or as floats in [0, 1]."""
    colours = np.asarray(colours)
    if colours.dtype == np.uint8:
        return colours
    return np.clip(np.round(colours * 255.0), 0, 255).astype(np.uint8)


def write_point_ply(path, xyz, colours, **fields):
    """Write ``path`` (binary little-endian PLY; temporary file, then rename).

    Args:
        xyz: (N, 3) coordinates in metres (finite).
        colours: (N, 3) uint8, or floats in [0, 1].
        fields: name -> (N,) int (written as int32) or float (float32) values.
    Returns the file size in bytes.
    """
    from plyfile import PlyData, PlyElement
    xyz = np.asarray(xyz, dtype=np.float32)
    colours = colours_as_bytes(colours)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or colours.shape != xyz.shape:
        raise ValueError(f'{path}: need (N, 3) points and (N, 3) colours, got {xyz.shape} and {colours.shape}')
    if not np.isfinite(xyz).all():
        raise ValueError(f'{path}: {int((~np.isfinite(xyz)).any(1).sum())} points have NaN or infinite coordinates')
    columns = [('x', 'f4'), ('y', 'f4'), ('z', 'f4'), ('red', 'u1'), ('green', 'u1'), ('blue', 'u1')]
    values = {}
    for name, value in fields.items():
        value = np.asarray(value)
        if value.shape != (len(xyz),):
            raise ValueError(f'{path}: field {name!r} has shape {value.shape}, expected ({len(xyz)},)')
        columns.append((name, 'i4' if np.issubdtype(value.dtype, np.integer) else 'f4'))
        values[name] = value
    vertices = np.empty(len(xyz), dtype=columns)
    for axis, name in enumerate('xyz'):
        vertices[name] = xyz[:, axis]
    for channel, name in enumerate(('red', 'green', 'blue')):
        vertices[name] = colours[:, channel]
    for name, value in values.items():
        vertices[name] = value
    ply = PlyData([PlyElement.describe(vertices, 'vertex')], byte_order='<')
    atomic_write(path, ply.write)
    return os.path.getsize(path)
