"""The paper's figures of trained 3D nets, for one checkpoint or two side by side (e.g. EXP I baseline vs EXP V):

- Fig. 4, :func:`prediction_figure`: per scene, top-down views of the ground truth and of each net's prediction,
  each titled with the net's mIoU on that scene (tools/plot_predictions.py).
- Fig. 7, :func:`feature_figure`: per net, a t-SNE of its CLIP-space point features on the same points (up to
  ``POINTS_PER_CLASS`` of each true class, drawn by :func:`draw_per_class`), coloured by true class and titled with
  the feature compactness (tools/plot_features.py).

They take plain predictions (:class:`hicl.inference.ScenePrediction`-like objects with xyz, truth, prediction and
features); :mod:`hicl.experiments.figure_inputs` runs the nets of the CLIs' ``--model NAME CONFIG CKPT`` triples.
matplotlib (Agg) and scikit-learn are imported only when a figure is made.
"""
import math
from dataclasses import dataclass

import numpy as np

from ..metrics import confusion_matrix, feature_compactness, mean_iou
from .colours import UNLABELLED_GREY, label_colours
from .top_down import draw_top_down

MAX_MODELS = 2
POINTS_PER_CLASS = 200
TSNE_PERPLEXITY = 30
SCENE_PANEL_INCHES = 3.6
FEATURE_PANEL_INCHES = 5.0
LEGEND_ENTRY_INCHES = (1.8, 0.25)  # width and height of one legend entry (patch and class name, 9 pt)
DPI = 100
POINT_DIAMETER_METRES = 0.04  # top-down marker width: a little more than SynthRooms' ~3 cm point spacing, no gaps
FEATURE_POINT_SIZE = 4.0


def check_model_count(names):
    """Raise ValueError unless ``names`` (the models' panel titles) holds 1 or ``MAX_MODELS`` entries."""
    if not 1 <= len(names) <= MAX_MODELS:
        raise ValueError(f'{len(names)} models given ({list(names)}): give one --model NAME CONFIG CKPT, or two to '
                         'compare side by side (e.g. --model "EXP I baseline" ... --model "EXP V HICL" ...)')


def scene_miou(truth, prediction, num_classes):
    """mIoU (0..1, :mod:`hicl.metrics`' convention) of one scene's (N,) predicted class ids against its (N,) true
    ones; points whose truth is -1 (unlabelled) do not count."""
    return mean_iou(confusion_matrix(truth, prediction, num_classes, ignore_index=-1))


def scene_mious(rows, num_classes):
    """(S, K) mIoU of each of the K models' predictions on each of the S scenes of :func:`align_scenes`' rows."""
    return np.array([[scene_miou(scene.truth, scene.prediction, num_classes) for scene in row] for row in rows])


def lowest_keys_per_class(keys, labels, cap):
    """Indices of the entries with the ``cap`` lowest (M,) keys within each (M,) label (all entries of a label
    with fewer), ordered by label, then key."""
    order = np.lexsort((keys, labels))
    sorted_labels = labels[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_labels, sorted_labels, side='left')
    return order[rank < cap]


@dataclass
class PointSample:
    """Points drawn from several scenes, in a random order (the draw's keys).

    Attributes:
        features: (M, D) float32 CLIP-space point features.
        truth: (M,) int64 true class ids (all >= 0).
        scene_index: (M,) int64 position of each point's scene among the scenes drawn from.
        point_index: (M,) int64 index of each point in its scene.
    """
    features: np.ndarray
    truth: np.ndarray
    scene_index: np.ndarray
    point_index: np.ndarray


def draw_per_class(predictions, cap=POINTS_PER_CLASS, seed=0):
    """Up to ``cap`` points of each true class, uniformly without replacement from the labelled points (truth
    >= 0) of all the scenes of ``predictions`` (an iterable of ScenePrediction).

    Every point gets a key from ``np.random.default_rng(seed)``, scene after scene, and a class keeps its ``cap``
    lowest keys (bottom-k sampling): one scene's features are in memory at a time, and nets run on the same scenes
    draw the same points. Returns a :class:`PointSample` ordered by key; ValueError when no point is labelled.
    """
    rng = np.random.default_rng(seed)
    kept = None
    for scene_index, scene in enumerate(predictions):
        keys = rng.random(len(scene.truth))
        labelled = np.flatnonzero(scene.truth >= 0)
        chosen = labelled[lowest_keys_per_class(keys[labelled], scene.truth[labelled], cap)]
        drawn = dict(keys=keys[chosen], truth=scene.truth[chosen], features=scene.features[chosen],
                     scene_index=np.full(len(chosen), scene_index), point_index=chosen)
        if kept is not None:
            drawn = {key: np.concatenate([kept[key], value]) for key, value in drawn.items()}
        keep = lowest_keys_per_class(drawn['keys'], drawn['truth'], cap)
        kept = {key: value[keep] for key, value in drawn.items()}
    if kept is None or not len(kept['truth']):
        raise ValueError('no labelled point (truth >= 0) in the scenes: choose scenes with ground truth (--scenes)')
    order = np.argsort(kept.pop('keys'), kind='stable')
    return PointSample(**{key: value[order] for key, value in kept.items()})


def check_same_draw(samples):
    """Raise ValueError unless every :class:`PointSample` holds the same points (scene and point indices)."""
    for sample in samples[1:]:
        if not (np.array_equal(sample.scene_index, samples[0].scene_index)
                and np.array_equal(sample.point_index, samples[0].point_index)):
            raise ValueError('the models drew different points: give configs with the same dataset, split and test '
                             'pipeline')


def tsne_embedding(features, seed=0):
    """(M, 2) float32 t-SNE of (M, D) features: scikit-learn's TSNE, PCA initialisation, perplexity
    ``TSNE_PERPLEXITY`` (M must exceed it), ``random_state=seed``."""
    from sklearn.manifold import TSNE
    tsne = TSNE(n_components=2, perplexity=TSNE_PERPLEXITY, init='pca', random_state=seed)
    return tsne.fit_transform(np.asarray(features, dtype=np.float32)).astype(np.float32)


def feature_compactness_of(sample):
    """Within-class over between-class variance of a :class:`PointSample`'s features
    (:func:`hicl.metrics.feature_compactness`; smaller is more compact)."""
    import torch
    return feature_compactness(torch.from_numpy(sample.features), torch.from_numpy(sample.truth))


def class_legend_handles(class_ids, classes, palette, unlabelled=False):
    """matplotlib legend handles: the palette colour and name of each class id in ``class_ids`` (sorted, once),
    and a grey 'unlabelled' entry when ``unlabelled``."""
    from matplotlib.patches import Patch
    ids = sorted(set(int(class_id) for class_id in class_ids))
    handles = [Patch(color=np.asarray(palette[class_id]) / 255.0, label=classes[class_id]) for class_id in ids]
    return handles + [Patch(color=UNLABELLED_GREY, label='unlabelled')] if unlabelled else handles


def figure_with_legend(num_rows, num_columns, panel_inches, handles, legend_below):
    """A constrained-layout figure of ``num_rows`` x ``num_columns`` square panels of ``panel_inches``, with the
    legend of ``handles`` below them (as many columns as fit the width) or right of them (one column); the figure
    grows by the legend's size. Returns (figure, (rows, columns) array of axes)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    width, height = panel_inches * num_columns, panel_inches * num_rows
    entry_width, entry_height = LEGEND_ENTRY_INCHES
    if legend_below:
        legend_columns = max(1, min(len(handles), int(width // entry_width)))
        height += (math.ceil(len(handles) / legend_columns) + 1) * entry_height  # + 1: the margins
    else:
        legend_columns = 1
        width += entry_width
    figure, axes = plt.subplots(num_rows, num_columns, figsize=(width, height), layout='constrained', squeeze=False)
    figure.legend(handles=handles, loc='outside lower center' if legend_below else 'outside right upper',
                  ncol=legend_columns, fontsize=9, frameon=False)
    return figure, axes


def marker_area(xyz, panel_inches, diameter=POINT_DIAMETER_METRES):
    """The scatter marker area (points^2) that draws a point ``diameter`` metres wide on a square panel of
    ``panel_inches`` fitting the (N, 3) points' larger horizontal extent (metres): small rooms get larger markers."""
    extent = float(np.ptp(xyz[:, :2], axis=0).max())
    return (diameter / max(extent, diameter) * panel_inches * 72) ** 2


def prediction_figure(rows, names, mious, classes, palette):
    """Fig. 4: one row per scene; columns: the ground truth (unlabelled points grey), then each model's prediction
    titled with its name and its mIoU on the scene (in %). Top-down views, points drawn from low to high as markers
    ``POINT_DIAMETER_METRES`` wide; below, a legend of the classes present in the truth or a prediction.

    Args:
        rows: per scene, one ScenePrediction per model (:func:`align_scenes`).
        names: the K models' names; mious: (S, K) :func:`scene_mious`.
        classes, palette: the C class names and (C, 3) uint8 RGB colours (the dataset's metainfo).
    Returns the matplotlib figure.
    """
    check_model_count(names)
    truths = np.concatenate([row[0].truth for row in rows])
    present = np.concatenate([truths[truths >= 0], *(scene.prediction for row in rows for scene in row)])
    handles = class_legend_handles(present, classes, palette, unlabelled=bool((truths < 0).any()))
    figure, axes = figure_with_legend(len(rows), 1 + len(names), SCENE_PANEL_INCHES, handles, legend_below=True)
    for row_axes, row, row_mious in zip(axes, rows, mious):
        point_size = marker_area(row[0].xyz, SCENE_PANEL_INCHES)
        draw_top_down(row_axes[0], row[0].xyz, label_colours(row[0].truth, palette),
                      f'{row[0].scene_id}\nground truth', point_size)
        for axis, name, scene, miou in zip(row_axes[1:], names, row, row_mious):
            draw_top_down(axis, scene.xyz, label_colours(scene.prediction, palette),
                          f'{name}\nmIoU {100 * miou:.1f}', point_size)
    return figure


def feature_figure(names, embeddings, truth, compactness, classes, palette):
    """Fig. 7: one panel per model side by side, the (M, 2) t-SNE embedding of its features on the same M points,
    coloured by their (M,) true class and titled with the model's name and its feature compactness; right, a
    legend of the classes drawn. Returns the matplotlib figure."""
    check_model_count(names)
    handles = class_legend_handles(truth, classes, palette)
    figure, axes = figure_with_legend(1, len(names), FEATURE_PANEL_INCHES, handles, legend_below=False)
    colours = label_colours(truth, palette)
    for axis, name, embedding, value in zip(axes[0], names, embeddings, compactness):
        axis.scatter(embedding[:, 0], embedding[:, 1], c=colours, s=FEATURE_POINT_SIZE, linewidths=0)
        axis.set_title(f'{name}\ncompactness {value:.3f}', fontsize=10)
        axis.set_xticks([])
        axis.set_yticks([])
    return figure


def save_figure(figure, out_path):
    """Write the figure as a PNG at ``DPI`` (created atomically, parent folders made) and close it."""
    import matplotlib.pyplot as plt

    from ..fileio import atomic_write
    atomic_write(str(out_path), lambda file: figure.savefig(file, format='png', dpi=DPI))
    plt.close(figure)
