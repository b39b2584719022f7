"""Confusion matrices and IoU, the one definition used for 3D predictions (PerClassSegMetric, refinement) and 2D
pseudo-labels (labelling): IoU = tp / (tp + fp + fn) on the summed matrix, mIoU = mean over the classes with a
non-empty union (mmseg's and mmdet3d's convention, so 2D numbers compare with MaskCLIP's published ones); and the
compactness of point features per class (paper Fig. 7)."""
import math

import numpy as np
import torch


def confusion_matrix(truth, pred, num_classes, ignore_index):
    """(C, C + 1) int64 counts of elements with true class i (row) and predicted class j (column); the last column
    counts predictions outside 0..C-1 (e.g. 255, no pseudo-label), which are misses of their true class.

    truth, pred: arrays of the same shape, or equally long sequences of such arrays (e.g. one per scene), summed.
    Elements whose truth is ``ignore_index`` are dropped.
    """
    if isinstance(truth, (list, tuple)):
        if len(truth) != len(pred):
            raise ValueError(f'{len(pred)} predictions for {len(truth)} ground-truth arrays')
        return sum((confusion_matrix(np.asarray(t), p, num_classes, ignore_index) for t, p in zip(truth, pred)),
                   np.zeros((num_classes, num_classes + 1), dtype=np.int64))
    truth, pred = np.asarray(truth).astype(np.int64).ravel(), np.asarray(pred).astype(np.int64).ravel()
    if pred.shape != truth.shape:
        raise ValueError(f'prediction has {pred.size} elements but the truth {truth.size}: they differ in size')
    keep = truth != ignore_index
    truth, pred = truth[keep], pred[keep]
    if len(truth) and (truth.min() < 0 or truth.max() >= num_classes):
        raise ValueError(f'true labels must be 0..{num_classes - 1} or the ignore index {ignore_index}, '
                         f'found {sorted(set(truth[(truth < 0) | (truth >= num_classes)].tolist()))[:5]}')
    pred_column = np.where((pred >= 0) & (pred < num_classes), pred, num_classes)
    flat = truth * (num_classes + 1) + pred_column
    return np.bincount(flat, minlength=num_classes * (num_classes + 1)).reshape(num_classes, num_classes + 1)


def iou_per_class(confusion):
    """(C,) IoU = tp / (tp + fp + fn) from a (C, C + 1) confusion matrix; NaN for classes that are neither true
    nor predicted anywhere."""
    true_positive = np.diag(confusion[:, :-1]).astype(np.float64)
    union = confusion.sum(1) + confusion[:, :-1].sum(0) - true_positive
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0, true_positive / union, np.nan)


def mean_iou(confusion):
    """mIoU: mean of ``iou_per_class`` over the classes with a non-empty union."""
    with np.errstate(invalid='ignore'):
        return float(np.nanmean(iou_per_class(confusion)))


def overall_accuracy(confusion):
    """Share of the counted elements predicted as their true class."""
    return float(np.trace(confusion[:, :-1]) / confusion.sum())


def mean_class_accuracy(confusion):
    """Mean over the true classes present of the share of their elements predicted as themselves."""
    with np.errstate(invalid='ignore', divide='ignore'):
        return float(np.nanmean(np.diag(confusion[:, :-1]) / confusion.sum(1)))


def feature_compactness(features, labels):
    """Within-class over between-class variance of (N, D) features with (N,) class labels (>= 0; others are
    dropped): sum_i ||f_i - mu_c(i)||^2 / sum_i ||mu_c(i) - mu||^2. Smaller is more compact (paper Fig. 7);
    NaN with fewer than two classes."""
    known = labels >= 0
    features, labels = features[known].double(), labels[known]
    classes, labels = labels.unique(return_inverse=True)
    if len(classes) < 2:
        return math.nan
    counts = torch.bincount(labels, minlength=len(classes)).double()
    means = torch.zeros(len(classes), features.shape[1], dtype=torch.float64).index_add_(0, labels, features)
    means /= counts[:, None]
    within = ((features - means[labels])**2).sum()
    between = (counts * ((means - features.mean(0))**2).sum(-1)).sum()
    return float(within / between)
