"""2D mIoU of label images against a hand-computed confusion matrix."""
import numpy as np
import pytest

from hicl.pseudo_labels.metrics import confusion_matrix, iou_per_class, mean_iou

# 3 classes; truth 255 pixels are dropped, prediction 255 is a miss.
TRUTH = np.array([[0, 0, 0, 1],
                  [1, 1, 2, 255],
                  [255, 0, 1, 1]], np.uint8)
PRED = np.array([[0, 0, 1, 1],
                 [1, 255, 2, 0],
                 [2, 0, 0, 1]], np.uint8)
# rows: true 0, 1, 2; columns: predicted 0, 1, 2, no label
EXPECTED = np.array([[3, 1, 0, 0],
                     [1, 3, 0, 1],
                     [0, 0, 1, 0]])


def test_confusion_matrix_by_hand():
    assert np.array_equal(confusion_matrix(PRED, TRUTH, 3), EXPECTED)


def test_confusion_matrices_add_over_frames():
    both = confusion_matrix(np.stack([PRED, PRED]), np.stack([TRUTH, TRUTH]), 3)
    assert np.array_equal(both, 2 * EXPECTED)


def test_iou_by_hand():
    # class 0: tp 3, fn 1, fp 1 -> 3/5; class 1: tp 3, fn 2, fp 1 -> 3/6; class 2: tp 1 -> 1
    assert iou_per_class(EXPECTED) == pytest.approx([3 / 5, 3 / 6, 1.0])
    assert mean_iou(EXPECTED) == pytest.approx((3 / 5 + 3 / 6 + 1) / 3)


def test_classes_absent_from_truth_are_left_out_of_the_mean():
    truth = np.array([0, 0, 1, 1], np.uint8)
    pred = np.array([0, 2, 1, 1], np.uint8)
    iou = iou_per_class(confusion_matrix(pred, truth, 3))
    assert iou[:2] == pytest.approx([0.5, 1.0]) and np.isnan(iou[2])
    assert mean_iou(confusion_matrix(pred, truth, 3)) == pytest.approx(0.75)


def test_size_mismatch_is_refused():
    with pytest.raises(ValueError, match='differ in size'):
        confusion_matrix(PRED[:2], TRUTH, 3)
