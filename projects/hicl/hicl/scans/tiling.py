"""Scans larger than a model can take at once: overlapping square tiles in the ground (x, y) plane.

The plane is cut into a grid of square **cores** of side ``tile_size`` metres; a tile is a core widened by
``margin`` metres on every side. Each tile runs alone, and each point takes the prediction of the tile whose core
holds it: of all tiles that contain the point, the one where it lies farthest from the border (at least
``margin`` in from it), so the net saw ``margin`` metres of context around every point it labels.

The budget is a number of points per pass (memory grows with it): the grid's side is chosen for the scan's mean
density (:func:`tile_size_for`), and a tile that still holds more points than the budget (a
dense corner) has its core split into four, again and again, until every tile fits. Memory is that of the largest
tile, not of the scan.
"""
import math
from dataclasses import dataclass

import numpy as np

# A core is not split below this side (metres): a tile that does not fit by then is mostly margin.
MIN_CORE_SIDE_M = 0.25


@dataclass
class Tile:
    """One tile: ``points`` (M,) indices into the scan of the points it runs on (core and margin), ``core`` (M,)
    bool, True for the points it labels; ``low`` (2,) the x, y corner (metres) and ``side`` the side of its core."""
    low: np.ndarray
    side: float
    points: np.ndarray
    core: np.ndarray


class TileBudgetError(ValueError):
    """The scan cannot be cut into tiles of at most the budget: the message names the options to change."""


def tile_size_for(xyz, max_points, margin):
    """The core side (metres) that keeps a tile of the scan's mean density under ``max_points`` with its margin:
    (side + 2 margin)^2 * density <= max_points, density = points per square metre of the scan's xy box. Where the
    scan is denser than its mean (rooms with space between them), :func:`make_tiles` splits the tiles that do not
    fit."""
    extent = np.ptp(xyz[:, :2], axis=0)
    density = len(xyz) / max(float(extent[0] * extent[1]), 1e-6)
    side = math.sqrt(max_points / density) - 2 * margin
    if side <= 0:
        raise TileBudgetError(f'a tile of {max_points} points at this scan\'s density ({density:.0f} points/m^2) is '
                              f'narrower than twice the margin ({margin} m): raise --points-per-pass or lower '
                              '--tile-margin')
    return side


def make_tiles(xyz, tile_size, margin, max_points=None):
    """The non-empty tiles of the (N, 3) points (see the module docstring), in grid order; every point is in the
    core of exactly one tile, and with ``max_points`` no tile holds more points than that (cores split in four
    until they fit; :class:`TileBudgetError` when a core of MIN_CORE_SIDE_M still does not)."""
    origin = xyz[:, :2].min(0)
    cells = np.floor((xyz[:, :2] - origin) / tile_size).astype(np.int64)
    cell_ids, cell_of_point = np.unique(cells, axis=0, return_inverse=True)
    order = np.argsort(cell_of_point.reshape(-1), kind='stable')
    starts = np.searchsorted(cell_of_point.reshape(-1)[order], np.arange(len(cell_ids) + 1))
    tiles = []
    for index, cell in enumerate(cell_ids):
        core_points = order[starts[index]:starts[index + 1]]
        tiles += _fitting_tiles(xyz, origin + cell * tile_size, tile_size, core_points, margin, max_points)
    return tiles


def _fitting_tiles(xyz, low, side, core_points, margin, max_points):
    """The tiles of the core [low, low + side)^2 holding the (K,) scan indices ``core_points``: itself, or the
    tiles of its four quarters when it holds more than ``max_points`` with its margin."""
    inside = np.flatnonzero(((xyz[:, :2] >= low - margin) & (xyz[:, :2] < low + side + margin)).all(1))
    inside = np.union1d(inside, core_points)  # a core point on the border by rounding stays in its tile
    if max_points is None or len(inside) <= max_points:
        core = np.isin(inside, core_points, assume_unique=True)
        return [Tile(low, side, inside, core)]
    half = side / 2
    if half < MIN_CORE_SIDE_M:
        raise TileBudgetError(f'{len(inside)} points lie within {margin} m of a {side:.2f} m square at x, y = '
                              f'{low[0]:.2f}, {low[1]:.2f}: more than --points-per-pass {max_points} even for the '
                              'smallest tile; raise --points-per-pass or lower --tile-margin')
    quarter = np.clip(np.floor((xyz[core_points, :2] - low) / half), 0, 1).astype(np.int64)
    tiles = []
    for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)):
        quarter_points = core_points[(quarter[:, 0] == i) & (quarter[:, 1] == j)]
        if len(quarter_points):
            tiles += _fitting_tiles(xyz, low + half * np.array([i, j]), half, quarter_points, margin, max_points)
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
