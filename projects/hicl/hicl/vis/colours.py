"""Point colours: classes (a label set's palette), geometric sets, prediction errors, score heatmaps."""
from functools import lru_cache

import numpy as np

UNLABELLED_GREY = (0.75, 0.75, 0.75)
ERROR_WRONG = (228, 26, 28)  # uint8 RGB of error maps: wrong, correct, unlabelled points
ERROR_CORRECT = (200, 200, 200)
ERROR_UNLABELLED = (90, 90, 90)
HEATMAP_COLORMAP = 'viridis'


def label_colours(labels, palette):
    """(N, 3) float RGB in [0, 1] of (N,) class ids, from the (C, 3) uint8 ``palette`` (the dataset's metainfo);
    ids outside the palette (ignored) are grey."""
    table = np.vstack([np.asarray(palette, dtype=np.float64) / 255.0, UNLABELLED_GREY])
    return table[np.where((labels >= 0) & (labels < len(palette)), labels, len(palette))]


def rgb8(colours):
    """(N, 3) uint8 of (N, 3) float RGB in [0, 1] (rounded)."""
    return np.round(np.clip(np.asarray(colours, dtype=np.float64), 0, 1) * 255).astype(np.uint8)


def error_colours(prediction, truth):
    """(N, 3) uint8: ERROR_WRONG where the (N,) predicted class differs from the (N,) true class, ERROR_CORRECT
    where they agree, ERROR_UNLABELLED where the truth is negative (unlabelled)."""
    prediction, truth = np.asarray(prediction), np.asarray(truth)
    if prediction.shape != truth.shape or prediction.ndim != 1:
        raise ValueError(f'prediction {prediction.shape} and truth {truth.shape} must be (N,) arrays of one length')
    colours = np.where((prediction == truth)[:, None], ERROR_CORRECT, ERROR_WRONG)
    colours[truth < 0] = ERROR_UNLABELLED
    return colours.astype(np.uint8)


@lru_cache(maxsize=1)
def _heatmap_lut():
    """(256, 3) uint8 table of HEATMAP_COLORMAP (matplotlib's, sampled evenly from 0 to 1)."""
    import matplotlib
    return rgb8(matplotlib.colormaps[HEATMAP_COLORMAP](np.linspace(0, 1, 256))[:, :3])


def heatmap_colours(scores, low=0.0, high=1.0):
    """(N, 3) uint8 perceptual colours (viridis: dark purple at ``low``, yellow at ``high``) of (N,) scores in
    [low, high], mapped linearly (``high == low``: all dark purple)."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = scores[np.isfinite(scores)]
    if scores.ndim != 1 or finite.size != scores.size or ((finite < low) | (finite > high)).any():
        value_range = f'[{finite.min():.3g}, {finite.max():.3g}]' if finite.size else 'none'
        raise ValueError(f'heatmap scores must be an (N,) array of finite values in [{low:.3g}, {high:.3g}]; got '
                         f'shape {scores.shape} with {scores.size - finite.size} NaN/infinite values and finite range '
                         f'{value_range}')
    shares = (scores - low) / (high - low) if high > low else np.zeros_like(scores)
    return _heatmap_lut()[np.round(shares * 255).astype(np.int64)]


def set_colours(point_sets, seed=0):
    """(N, 3) float RGB: one random colour per set id, grey for points without a set (-1)."""
    set_ids, set_of_point = np.unique(point_sets, return_inverse=True)
    table = np.random.default_rng(seed).uniform(0.1, 0.95, size=(len(set_ids), 3))
    table[set_ids < 0] = UNLABELLED_GREY
    return table[set_of_point.reshape(-1)]
