"""Point colours (classes, sets, errors, score heatmaps) and the figure of intra-set label refinement (as the paper's
Fig. 3): sets, raw and refined 3D pseudo-labels, truth."""
from functools import lru_cache

import numpy as np

from .evaluation.refinement import majority_per_point, true_point_labels
from .fileio import atomic_write
from .label_sets import SCANNET20_CLASSES, SCANNET20_PALETTE

UNLABELLED_GREY = (0.75, 0.75, 0.75)
ERROR_WRONG = (228, 26, 28)  # uint8 RGB of error maps: wrong, correct, unlabelled points
ERROR_CORRECT = (200, 200, 200)
ERROR_UNLABELLED = (90, 90, 90)
HEATMAP_COLORMAP = 'viridis'


def label_colours(labels, palette=SCANNET20_PALETTE):
    """(N, 3) float RGB in [0, 1] of (N,) class ids; ids outside the palette (ignored) are grey."""
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


def draw_top_down(axis, xyz, colours, title, point_size=4):
    """Scatter the (N, 3) points (metres) seen from above on a matplotlib ``axis``, in their (N, 3) colours, with
    equal x and y scales and no frame. Points are drawn from low to high, so from above the highest point of each
    spot shows; ``point_size`` is the marker area in points^2."""
    order = np.argsort(xyz[:, 2], kind='stable')
    axis.scatter(xyz[order, 0], xyz[order, 1], c=colours[order], s=point_size, linewidths=0)
    axis.set_title(title, fontsize=10)
    axis.set_aspect('equal')
    axis.axis('off')


def render_top_down(xyz, panels, out_path, title=''):
    """Write a PNG with one top-down view (:func:`draw_top_down`) of the (N, 3) points per (panel title, (N, 3)
    colours) pair (:func:`~hicl.fileio.atomic_write`: a failed write leaves no partial file)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.8), squeeze=False)
    for axis, (panel_title, colours) in zip(axes[0], panels):
        draw_top_down(axis, xyz, colours, panel_title)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    try:
        atomic_write(out_path, lambda file: figure.savefig(file, format='png', dpi=120))
    finally:
        plt.close(figure)


def refinement_panels(results, num_classes=len(SCANNET20_CLASSES)):
    """The (title, (N, 3) colours) panels of one refined scene: sets, raw labels, refined labels, truth."""
    num_points = len(results['points'])
    raw = majority_per_point(results['pair_point_idx'], results['pair_label_raw'], num_points, num_classes)
    refined = majority_per_point(results['pair_point_idx'], results['pair_label'], num_points, num_classes)
    num_sets = len(np.unique(results['point_sets'][results['point_sets'] >= 0]))
    panels = [(f'sets ({num_sets})', set_colours(results['point_sets'])),
              ('raw 3D pseudo-labels', label_colours(raw)),
              (f'refined ({results["set_voting_changed"]} pair labels changed)', label_colours(refined))]
    truth = true_point_labels(results)
    if truth is not None:
        panels.append(('true labels', label_colours(truth)))
    return panels
