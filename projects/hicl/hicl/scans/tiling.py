"""Scans larger than a model can take at once: overlapping square tiles in the ground (x, y) plane.

The plane is cut into a grid of square **cores** of side ``tile_size`` metres; a tile is a core widened by
``margin`` metres on every side. Each tile runs alone, and each point takes the prediction of the tile whose core
holds it: of all tiles that contain the point, the one where it lies farthest from the border (at least
``margin`` in from it), so the net saw ``margin`` metres of context around every point it labels. Memory is that
of the largest tile, not of the scan.
"""
import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Tile:
    """One tile: ``points`` (M,) indices into the scan of the points it runs on (core and margin), ``core`` (M,)
    bool, True for the points it labels; ``cell``: its (i, j) in the grid."""
    cell: tuple
    points: np.ndarray
    core: np.ndarray


def tile_size_for(xyz, max_points, margin):
    """The core side (metres) that keeps a tile of uniform density under ``max_points`` with its margin:
    (side + 2 margin)^2 * density <= max_points, density = points per square metre of the scan's xy box."""
    extent = np.ptp(xyz[:, :2], axis=0)
    density = len(xyz) / max(float(extent[0] * extent[1]), 1e-6)
    side = math.sqrt(max_points / density) - 2 * margin
    if side <= 0:
        raise ValueError(f'a tile of {max_points} points at this scan\'s density ({density:.0f} points/m^2) is '
                         f'narrower than twice the margin ({margin} m): raise --max-points or lower --tile-margin')
    return side


def make_tiles(xyz, tile_size, margin):
    """The non-empty tiles of the (N, 3) points (see the module docstring), in grid order; every point is in the
    core of exactly one tile."""
    origin = xyz[:, :2].min(0)
    cells = np.floor((xyz[:, :2] - origin) / tile_size).astype(np.int64)
    tiles = []
    for cell in np.unique(cells, axis=0):
        low = origin + cell * tile_size - margin
        high = low + tile_size + 2 * margin
        inside = np.flatnonzero(((xyz[:, :2] >= low) & (xyz[:, :2] < high)).all(1))
        core = (cells[inside] == cell).all(1)
        tiles.append(Tile(tuple(int(c) for c in cell), inside, core))
    return tiles


def predict_tiled(predict, num_points, tiles, progress=None):
    """Run ``predict(point indices) -> (M, ...)`` array on every tile and gather, per point, the rows of the tile
    whose core holds it. Returns the (N, ...) array. ``progress``: a function wrapping the tile iterable (tqdm)."""
    result = None
    for tile in (progress(tiles) if progress else tiles):
        rows = predict(tile.points)
        if result is None:
            result = np.empty((num_points,) + rows.shape[1:], dtype=rows.dtype)
        result[tile.points[tile.core]] = rows[tile.core]
    return result
