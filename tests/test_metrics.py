"""Confusion matrix and IoU (hicl.metrics) against hand-computed values: 2D label images and 3D scenes."""
import numpy as np
import pytest

from hicl.metrics import confusion_matrix, iou_per_class, mean_class_accuracy, mean_iou, overall_accuracy

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
    assert np.array_equal(confusion_matrix(TRUTH, PRED, 3, 255), EXPECTED)


def test_confusion_matrices_add_over_frames():
    both = confusion_matrix(np.stack([TRUTH, TRUTH]), np.stack([PRED, PRED]), 3, 255)
    assert np.array_equal(both, 2 * EXPECTED)


def test_iou_by_hand():
    # class 0: tp 3, fn 1, fp 1 -> 3/5; class 1: tp 3, fn 2, fp 1 -> 3/6; class 2: tp 1 -> 1
    assert iou_per_class(EXPECTED) == pytest.approx([3 / 5, 3 / 6, 1.0])
    assert mean_iou(EXPECTED) == pytest.approx((3 / 5 + 3 / 6 + 1) / 3)


def test_a_class_predicted_but_never_true_counts_as_zero_and_one_never_seen_is_left_out():
    # mmseg's / mmdet3d's convention (MaskCLIP's published 2D numbers use it): class 2 is predicted once but never
    # true, so its IoU is 0 and it counts in the mean; class 3 is neither true nor predicted: NaN, left out.
    truth = np.array([0, 0, 1, 1], np.uint8)
    pred = np.array([0, 2, 1, 1], np.uint8)
    iou = iou_per_class(confusion_matrix(truth, pred, 4, 255))
    assert iou[:3] == pytest.approx([0.5, 1.0, 0.0]) and np.isnan(iou[3])
    assert mean_iou(confusion_matrix(truth, pred, 4, 255)) == pytest.approx(0.5)


def test_scenes_of_different_sizes_are_summed_and_accuracies_by_hand():
    # 3D use: one array per scene; ignore index 3 drops the last point of scene 0.
    confusion = confusion_matrix([np.array([0, 0, 1, 1, 3]), np.array([1])], [[0, 1, 1, 1, 0], [0]], 3, 3)
    assert confusion.tolist() == [[1, 1, 0, 0], [1, 2, 0, 0], [0, 0, 0, 0]]
    assert overall_accuracy(confusion) == pytest.approx(3 / 5)
    assert mean_class_accuracy(confusion) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_true_labels_outside_the_classes_are_refused():
    with pytest.raises(ValueError, match=r'true labels must be 0..2 or the ignore index 255, found \[7\]'):
        confusion_matrix(np.array([0, 7]), np.array([0, 1]), 3, 255)


def test_size_mismatch_is_refused():
    with pytest.raises(ValueError, match='differ in size'):
        confusion_matrix(TRUTH, PRED[:2], 3, 255)
