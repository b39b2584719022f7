"""2D mIoU of pseudo-label images against true label images."""
import numpy as np

from hicl.label_sets import IMAGE_IGNORE


def confusion_matrix(pred, truth, num_classes):
    """(C, C + 1) int64 counts of pixels with true class i (row) and predicted class j (column).

    pred, truth: same-shape arrays of ids 0..C-1 or 255. Pixels whose truth is 255 are dropped; predictions
    of 255 (no label) are counted in the last column, so they are misses of the true class.
    """
    pred, truth = np.asarray(pred).ravel(), np.asarray(truth).ravel()
    if pred.shape != truth.shape:
        raise ValueError(f'prediction and truth differ in size: {pred.size} vs {truth.size}')
    valid = truth != IMAGE_IGNORE
    pred_column = np.where(pred[valid] == IMAGE_IGNORE, num_classes, pred[valid]).astype(np.int64)
    flat = truth[valid].astype(np.int64) * (num_classes + 1) + pred_column
    return np.bincount(flat, minlength=num_classes * (num_classes + 1)).reshape(num_classes, num_classes + 1)


def iou_per_class(confusion):
    """(C,) IoU = tp / (tp + fp + fn) from a (C, C + 1) confusion matrix; NaN for classes absent from truth."""
    true_positive = np.diag(confusion[:, :-1]).astype(np.float64)
    true_count = confusion.sum(1)
    predicted_count = confusion[:, :-1].sum(0)
    union = true_count + predicted_count - true_positive
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(true_count > 0, true_positive / union, np.nan)


def mean_iou(confusion):
    """mIoU: mean of ``iou_per_class`` over the classes present in the truth."""
    return float(np.nanmean(iou_per_class(confusion)))
