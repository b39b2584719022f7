"""mIoU on all original points, with mmdet3d's SegMetric semantics and a per-class table."""
import os.path as osp

import numpy as np
from mmdet3d.evaluation.metrics import SegMetric
from mmdet3d.registry import METRICS
from mmengine.logging import MMLogger, print_log

from ..fileio import atomic_write
from ..metrics import confusion_matrix, iou_per_class, mean_class_accuracy, mean_iou, overall_accuracy


def format_iou_table(class_names, iou, point_counts, miou, acc):
    """A text table: one row per class (IoU in %, GT points), then mIoU and overall accuracy."""
    width = max(len(name) for name in class_names + ['mIoU'])
    lines = [f'{"class":<{width}}  {"IoU %":>7}  {"GT points":>10}', '-' * (width + 21)]
    for name, value, count in zip(class_names, iou, point_counts):
        shown = '    nan' if np.isnan(value) else f'{100 * value:7.2f}'
        lines.append(f'{name:<{width}}  {shown}  {count:>10d}')
    lines += ['-' * (width + 21), f'{"mIoU":<{width}}  {100 * miou:7.2f}', f'{"acc":<{width}}  {100 * acc:7.2f}']
    return '\n'.join(lines)


@METRICS.register_module()
class PerClassSegMetric(SegMetric):
    """SegMetric (summed confusion matrices, ignore index dropped, IoU = tp / (tp + fp + fn), mIoU = nanmean)
    that prints a vertical per-class table and can save each scene's predicted labels.

    Args:
        prediction_dir: if set, write ``<scene>.npy`` (N,) int64 class ids per original point there.
    """

    def __init__(self, prediction_dir=None, **kwargs):
        super().__init__(**kwargs)
        self.prediction_dir = prediction_dir

    def process(self, data_batch, data_samples):
        super().process(data_batch, data_samples)
        if self.prediction_dir:
            for data_sample, (_, pred) in zip(data_samples, self.results[-len(data_samples):]):
                scene = osp.splitext(osp.basename(data_sample['lidar_path']))[0]
                mask = np.asarray(pred['pts_semantic_mask'])
                atomic_write(osp.join(self.prediction_dir, f'{scene}.npy'), lambda file: np.save(file, mask))

    def compute_metrics(self, results):
        label2cat = self.dataset_meta['label2cat']
        class_names = [label2cat[i] for i in range(len(label2cat))]
        confusion = confusion_matrix([ann['pts_semantic_mask'] for ann, _ in results],
                                     [pred['pts_semantic_mask'] for _, pred in results],
                                     len(class_names), self.dataset_meta['ignore_index'])
        iou, miou = iou_per_class(confusion), mean_iou(confusion)
        acc, acc_cls = overall_accuracy(confusion), mean_class_accuracy(confusion)
        print_log('\n' + format_iou_table(class_names, iou, confusion.sum(1), miou, acc),
                  logger=MMLogger.get_current_instance())
        metrics = {name: float(value) for name, value in zip(class_names, iou)}
        metrics.update(miou=miou, acc=acc, acc_cls=acc_cls)
        return metrics
