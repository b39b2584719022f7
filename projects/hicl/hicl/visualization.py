"""Figures of intra-set label refinement (as the paper's Fig. 3): sets, raw and refined 3D pseudo-labels, truth."""
import numpy as np

from .label_sets import (IMAGE_IGNORE, SCANNET20_CLASSES, SCANNET20_IGNORE_INDEX, SCANNET20_NYU40_IDS,
                         SCANNET20_PALETTE, map_raw_labels)

UNLABELLED_GREY = (0.75, 0.75, 0.75)
PAIRING_STEPS = ('LoadPointsFromFile', 'LoadSceneFrames', 'PairPointsWithPixels')


def majority_per_point(point_idx, labels, num_points, num_classes, ignore_index=IMAGE_IGNORE):
    """(N,) int64 most frequent label of each point's pairs (ties: lowest class), ignore_index without any.

    point_idx, labels: (P,) int pair arrays; labels equal to ignore_index do not count.
    """
    labelled = labels != ignore_index
    keys = np.asarray(point_idx)[labelled] * num_classes + np.asarray(labels)[labelled]
    counts = np.bincount(keys, minlength=num_points * num_classes).reshape(num_points, num_classes)
    return np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), ignore_index)


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


def load_refined_scene(dataset, index, train_pipeline, num_frames, point_sets_of=None, refiner=None):
    """Run the loading and pairing steps of ``train_pipeline`` on one scene, attach its sets and refine.

    dataset: a LabelFreeScanNetDataset (its pipeline is not used); num_frames: views to sample.
    point_sets_of: None reads the converter's sets (LoadPointSets), else a function (N, 3) xyz -> (N,) set ids.
    refiner: SetVotingRefiner config (default: the one in train_pipeline, else the defaults).
    Returns the results dict (``points``, pairs, ``pair_label_raw``, ``point_sets``, ``set_voting_changed``).
    """
    from mmdet3d.registry import TRANSFORMS
    steps = [dict(step, num_frames=num_frames) if step['type'] == 'LoadSceneFrames' else step
             for step in train_pipeline if step['type'] in PAIRING_STEPS]
    refiner = refiner or next((step for step in train_pipeline if step['type'] == 'SetVotingRefiner'),
                              dict(type='SetVotingRefiner'))
    results = dataset.get_data_info(index)
    for step in steps:
        results = TRANSFORMS.build(step)(results)
    if point_sets_of is None:
        results = TRANSFORMS.build(dict(type='LoadPointSets'))(results)
    else:
        results['point_sets'] = np.asarray(point_sets_of(results['points'].coord.numpy()), dtype=np.int64)
    return TRANSFORMS.build(refiner)(results)


def true_point_labels(results):
    """(N,) ScanNet-20 train ids of the scene's points (20 = ignored), or None without a semantic mask."""
    path = results.get('pts_semantic_mask_path')
    if not path:
        return None
    return map_raw_labels(np.fromfile(path, dtype=np.int64), SCANNET20_NYU40_IDS, SCANNET20_IGNORE_INDEX)


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


def pair_agreement(results, truth):
    """(raw, refined) share of the pairs whose label equals the (N,) true label of their point (ignored: skipped)."""
    pair_truth = truth[results['pair_point_idx']]
    evaluated = pair_truth != SCANNET20_IGNORE_INDEX
    return tuple(float((results[key] == pair_truth)[evaluated].mean()) for key in ('pair_label_raw', 'pair_label'))
