"""Figures of intra-set label refinement (as the paper's Fig. 3): sets, raw and refined 3D pseudo-labels, truth."""
import numpy as np

from .evaluation.refinement import majority_per_point, true_point_labels
from .label_sets import SCANNET20_CLASSES, SCANNET20_PALETTE

UNLABELLED_GREY = (0.75, 0.75, 0.75)


def label_colours(labels, palette=SCANNET20_PALETTE):
    """(N, 3) float RGB in [0, 1] of (N,) class ids; ids outside the palette (ignored) are grey."""
    table = np.vstack([np.asarray(palette, dtype=np.float64) / 255.0, UNLABELLED_GREY])
    return table[np.where((labels >= 0) & (labels < len(palette)), labels, len(palette))]


def set_colours(point_sets, seed=0):
    """(N, 3) float RGB: one random colour per set id, grey for points without a set (-1)."""
    set_ids, set_of_point = np.unique(point_sets, return_inverse=True)
    table = np.random.default_rng(seed).uniform(0.1, 0.95, size=(len(set_ids), 3))
    table[set_ids < 0] = UNLABELLED_GREY
    return table[set_of_point.reshape(-1)]


def render_top_down(xyz, panels, out_path, title=''):
    """Write a PNG with one top-down scatter of the (N, 3) points per (panel title, (N, 3) colours) pair.

    Points are drawn from low to high, so from above the highest point of each spot shows.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    order = np.argsort(xyz[:, 2], kind='stable')
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.8), squeeze=False)
    for axis, (panel_title, colours) in zip(axes[0], panels):
        axis.scatter(xyz[order, 0], xyz[order, 1], c=colours[order], s=4, linewidths=0)
        axis.set_title(panel_title, fontsize=10)
        axis.set_aspect('equal')
        axis.axis('off')
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(out_path, dpi=120)
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
