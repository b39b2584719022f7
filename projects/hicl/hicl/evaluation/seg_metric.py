"""mIoU on all original points, with mmdet3d's SegMetric semantics and a per-class table."""
import os
import os.path as osp
import tempfile

import numpy as np
from mmdet3d.evaluation.functional.seg_eval import fast_hist, get_acc, get_acc_cls, per_class_iou
from mmdet3d.evaluation.metrics import SegMetric
from mmdet3d.registry import METRICS
from mmengine.logging import MMLogger, print_log


def confusion_matrix(gt_masks, pred_masks, num_classes, ignore_index):
    """Summed (C, C) confusion matrix, rows = ground truth; points whose GT is ``ignore_index`` are dropped."""
    hist = np.zeros((num_classes, num_classes), dtype=np.int64)
    for gt, pred in zip(gt_masks, pred_masks):
        gt, pred = np.asarray(gt, dtype=np.int64), np.asarray(pred, dtype=np.int64)
        if gt.shape != pred.shape:
            raise ValueError(f'prediction has {pred.shape} points but ground truth {gt.shape}')
        keep = gt != ignore_index
        hist += fast_hist(pred[keep], gt[keep], num_classes)
    return hist


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
                save_npy_atomic(osp.join(self.prediction_dir, f'{scene}.npy'), pred['pts_semantic_mask'])

    def compute_metrics(self, results):
        label2cat = self.dataset_meta['label2cat']
        class_names = [label2cat[i] for i in range(len(label2cat))]
        hist = confusion_matrix([ann['pts_semantic_mask'] for ann, _ in results],
                                [pred['pts_semantic_mask'] for _, pred in results],
                                len(class_names), self.dataset_meta['ignore_index'])
        with np.errstate(invalid='ignore', divide='ignore'):
            iou = per_class_iou(hist)
            miou, acc, acc_cls = float(np.nanmean(iou)), float(get_acc(hist)), float(get_acc_cls(hist))
        print_log('\n' + format_iou_table(class_names, iou, hist.sum(1), miou, acc),
                  logger=MMLogger.get_current_instance())
        metrics = {name: float(value) for name, value in zip(class_names, iou)}
        metrics.update(miou=miou, acc=acc, acc_cls=acc_cls)
        return metrics


def save_npy_atomic(path, array):
    """np.save through a temporary file in the same folder and a rename."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.npy', dir=osp.dirname(osp.abspath(path)))
    with os.fdopen(fd, 'wb') as f:
        np.save(f, np.asarray(array))
    os.replace(tmp, path)
