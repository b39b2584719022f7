"""mIoU on all original points, with mmdet3d's SegMetric semantics and a per-class table."""
import os.path as osp

import numpy as np
from mmdet3d.evaluation.metrics import SegMetric
from mmdet3d.registry import METRICS
from mmengine.logging import MMLogger, print_log

from ..fileio import atomic_write
from ..metrics import confusion_matrix, iou_per_class, mean_class_accuracy, mean_iou, overall_accuracy
from ..vis.colours import error_colours, label_colours
from ..vis.ply import write_point_ply

UNLABELLED_GREY_BYTES = (191, 191, 191)


def format_iou_table(class_names, iou, point_counts, miou, acc):
    """A text table: one row per class (IoU in %, GT points), then mIoU and overall accuracy."""
    width = max(len(name) for name in class_names + ['mIoU'])
    lines = [f'{"class":<{width}}  {"IoU %":>7}  {"GT points":>10}', '-' * (width + 21)]
    for name, value, count in zip(class_names, iou, point_counts):
        shown = '    nan' if np.isnan(value) else f'{100 * value:7.2f}'
        lines.append(f'{name:<{width}}  {shown}  {count:>10d}')
    lines += ['-' * (width + 21), f'{"mIoU":<{width}}  {100 * miou:7.2f}', f'{"acc":<{width}}  {100 * acc:7.2f}']
    return '\n'.join(lines)


def vocabulary_miou_note(scored_classes, dataset_classes):
    """One line saying what a vocabulary's mIoU averages: its K scored classes (names, merges joined by '+'), how
    many are merges and which of the C dataset classes are left out, and whether it can be compared with the
    ordinary test's mIoU over the C classes (only when it scores each of them alone)."""
    covered = {cls for name in scored_classes for cls in name.split('+')}
    merged = [name for name in scored_classes if '+' in name]
    left_out = [cls for cls in dataset_classes if cls not in covered]
    detail = (f'{len(merged)} merged{": " + ", ".join(merged) if merged else ""}; {len(left_out)} of the dataset\'s '
              f'{len(dataset_classes)} classes left out{": " + ", ".join(left_out) if left_out else ""}')
    verdict = ('comparable to the ordinary test\'s mIoU (the same classes)' if not merged and not left_out else
               f'NOT comparable to the mIoU over the dataset\'s {len(dataset_classes)} classes')
    return f'this vocabulary\'s mIoU averages its {len(scored_classes)} scored classes ({detail}): {verdict}'


@METRICS.register_module()
class PerClassSegMetric(SegMetric):
    """SegMetric (summed confusion matrices, ignore index dropped, IoU = tp / (tp + fp + fn), mIoU = nanmean)
    that prints a vertical per-class table, can save each scene's predictions and can score another vocabulary.

    Args:
        prediction_dir: if set, write there per scene ``<scene>.npy`` (N,) int64 predicted class ids per original
            point and three coloured point clouds (:func:`hicl.vis.ply.write_point_ply`, the label set's palette):
            ``<scene>.pred.ply`` and ``<scene>.gt.ply`` (field ``class_id``; unlabelled truth grey) and
            ``<scene>.errors.ply`` (wrong points red, right ones light grey, unscored dark grey; field ``error``
            1 / 0 / -1).
        class_mapping: None (the predictions are the dataset's classes), or the scored classes of an open
            vocabulary (:meth:`hicl.open_vocabulary.EvaluationMapping.as_config`): dict(classes=K names,
            truth=(C + 1) scored class of each dataset class id and of the ignore index, prediction=(V) scored
            class of each predicted id); K means not scored (truth) or a miss (prediction).
    """

    def __init__(self, prediction_dir=None, class_mapping=None, **kwargs):
        super().__init__(**kwargs)
        self.prediction_dir = prediction_dir
        self.class_mapping = class_mapping

    def scored_classes(self):
        """(names of the K scored classes, (K, 3) palette of them: each one's first dataset class colour)."""
        classes = list(self.dataset_meta['classes'])
        palette = np.asarray(self.dataset_meta.get('palette') or [UNLABELLED_GREY_BYTES] * len(classes))
        if self.class_mapping is None:
            return classes, palette
        names = list(self.class_mapping['classes'])
        return names, palette[[classes.index(name.split('+')[0]) for name in names]]

    def scored_labels(self, truth, prediction):
        """(N,) true and (N,) predicted ids as scored class ids 0..K-1; K = not scored / a miss."""
        truth, prediction = np.asarray(truth, dtype=np.int64), np.asarray(prediction, dtype=np.int64)
        if self.class_mapping is None:
            num_classes = len(self.dataset_meta['classes'])
            return np.where(truth == self.dataset_meta['ignore_index'], num_classes, truth), prediction
        truth_lut = np.asarray(self.class_mapping['truth'], dtype=np.int64)
        prediction_lut = np.asarray(self.class_mapping['prediction'], dtype=np.int64)
        num_scored = len(self.class_mapping['classes'])
        valid = (prediction >= 0) & (prediction < len(prediction_lut))
        scored_truth = truth_lut[np.where((truth >= 0) & (truth < len(truth_lut)), truth, len(truth_lut) - 1)]
        return scored_truth, np.where(valid, prediction_lut[np.where(valid, prediction, 0)], num_scored)

    def process(self, data_batch, data_samples):
        super().process(data_batch, data_samples)
        if self.prediction_dir:
            for index, (data_sample, (annotation, pred)) in enumerate(
                    zip(data_samples, self.results[-len(data_samples):])):
                scene = osp.splitext(osp.basename(data_sample['lidar_path']))[0]
                mask = np.asarray(pred['pts_semantic_mask'])
                atomic_write(osp.join(self.prediction_dir, f'{scene}.npy'), lambda file: np.save(file, mask))
                xyz = np.asarray(data_batch['inputs']['points'][index][:, :3])
                self.write_point_clouds(scene, xyz, annotation['pts_semantic_mask'], mask)

    def write_point_clouds(self, scene, xyz, truth, prediction):
        """The scene's ``.pred.ply``, ``.gt.ply`` and ``.errors.ply`` in ``prediction_dir`` (see the class)."""
        _, palette = self.scored_classes()
        scored_truth, scored_prediction = self.scored_labels(truth, prediction)
        unscored = len(palette)
        error = np.where(scored_truth == unscored, -1, (scored_truth != scored_prediction).astype(np.int64))
        folder = self.prediction_dir
        write_point_ply(osp.join(folder, f'{scene}.pred.ply'), xyz, label_colours(scored_prediction, palette),
                        class_id=np.asarray(prediction, dtype=np.int64))
        write_point_ply(osp.join(folder, f'{scene}.gt.ply'), xyz, label_colours(scored_truth, palette),
                        class_id=np.asarray(truth, dtype=np.int64))
        write_point_ply(osp.join(folder, f'{scene}.errors.ply'), xyz,
                        error_colours(scored_prediction, np.where(error < 0, -1, scored_truth)), error=error)

    def compute_metrics(self, results):
        class_names, _ = self.scored_classes()
        scored = [self.scored_labels(ann['pts_semantic_mask'], pred['pts_semantic_mask']) for ann, pred in results]
        confusion = confusion_matrix([truth for truth, _ in scored], [prediction for _, prediction in scored],
                                     len(class_names), len(class_names))
        iou, miou = iou_per_class(confusion), mean_iou(confusion)
        acc, acc_cls = overall_accuracy(confusion), mean_class_accuracy(confusion)
        table = format_iou_table(class_names, iou, confusion.sum(1), miou, acc)
        if self.class_mapping is not None:
            table += '\n' + vocabulary_miou_note(class_names, self.dataset_meta['classes'])
        print_log('\n' + table, logger=MMLogger.get_current_instance())
        metrics = {name: float(value) for name, value in zip(class_names, iou)}
        metrics.update(miou=miou, acc=acc, acc_cls=acc_cls)
        return metrics
