"""What tools/infer.py writes for each scan: the per-point classes and scores (.npy), a coloured PLY, the viewer page,
and the per-class table it prints."""
import os.path as osp

import numpy as np

from ..fileio import atomic_write
from ..vis.colours import label_colours
from ..vis.ply import write_point_ply
from ..vis.viewer import scene_layers, write_scene_page


def softmax_confidence(logits):
    """(N,) float32 softmax probability of each row's argmax class, from (N, C) logits."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    return (shifted.max(1) / shifted.sum(1)).astype(np.float32)


def class_table(prediction, classes):
    """[(class name, points, share of the scan)] of the predicted classes present, most points first."""
    counts = np.bincount(prediction, minlength=len(classes))
    order = np.argsort(-counts, kind='stable')
    return [(classes[c], int(counts[c]), counts[c] / len(prediction)) for c in order if counts[c]]


def format_class_table(rows):
    lines = [f'{"class":<20} {"points":>10} {"share":>7}']
    lines += [f'{name:<20} {points:>10} {100 * share:>6.1f}%' for name, points, share in rows]
    return '\n'.join(lines)


def write_scan_outputs(prediction, out_dir, stem, classes, palette, queries=(), max_points=None, title='',
                       point_sets=None, file_rows=None):
    """Write, for one :class:`~hicl.inference.ScenePrediction` of a scan (N cleaned points):

    - ``<stem>.labels.npy``: int64 class ids; ``<stem>.scores.npy``: float32 softmax probability of that class
      (against the model's classes): one per point of the FILE when ``file_rows`` ((F,) rows of the cleaned scan,
      -1 for a dropped point: :class:`~hicl.scans.conventions.ScanReport`) is given, -1 and NaN for the dropped
      NaN/Inf points, a repeated point's copies sharing its row; else one per cleaned point;
    - ``<stem>.ply``: the N cleaned points in their class colours, with the input colours as ``input_red`` /
      ``input_green`` / ``input_blue`` and the class id as ``label``;
    - ``<stem>.html``: the self-contained viewer (layers RGB, prediction, one per query, and 'sets' when
      ``point_sets``, (N,) int set ids, are given; they are also written as ``<stem>.sets.npy``).

    Every file is written whole or not at all. Returns {kind: path}.
    """
    labels = prediction.prediction
    paths = {kind: osp.join(out_dir, f'{stem}.{kind}') for kind in ('labels.npy', 'scores.npy', 'ply', 'html')}
    per_point_labels, per_point_scores = labels, softmax_confidence(prediction.logits)
    if file_rows is not None:  # row -1 takes the appended last entry: -1 / NaN for a dropped point
        per_point_labels = np.append(per_point_labels, -1)[file_rows]
        per_point_scores = np.append(per_point_scores, np.float32('nan'))[file_rows]
    atomic_write(paths['labels.npy'], lambda file: np.save(file, per_point_labels))
    atomic_write(paths['scores.npy'], lambda file: np.save(file, per_point_scores))
    rgb = np.asarray(prediction.rgb, dtype=np.uint8)
    write_point_ply(paths['ply'], prediction.xyz, label_colours(labels, palette), label=labels,
                    input_red=rgb[:, 0].astype(np.int64), input_green=rgb[:, 1].astype(np.int64),
                    input_blue=rgb[:, 2].astype(np.int64))
    if point_sets is not None:
        paths['sets.npy'] = osp.join(out_dir, f'{stem}.sets.npy')
        atomic_write(paths['sets.npy'], lambda file: np.save(file, np.asarray(point_sets, dtype=np.int64)))
    layers = scene_layers(rgb, labels, classes, palette, queries=queries, point_sets=point_sets)
    write_scene_page(paths['html'], prediction.xyz, layers, title or stem, max_points)
    return paths
