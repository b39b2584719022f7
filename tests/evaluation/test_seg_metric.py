"""The metric against a hand-computed confusion matrix (mmdet3d SegMetric semantics)."""
import numpy as np
import pytest

from hicl.evaluation import PerClassSegMetric
from hicl.metrics import confusion_matrix


def run_metric(gts, preds, classes, ignore_index, **kwargs):
    metric = PerClassSegMetric(**kwargs)
    metric.dataset_meta = dict(label2cat=dict(enumerate(classes)), ignore_index=ignore_index)
    samples = [dict(pred_pts_seg=dict(pts_semantic_mask=np.array(p)), eval_ann_info=dict(pts_semantic_mask=np.array(g)),
                    lidar_path=f'points/scene{i}.bin') for i, (g, p) in enumerate(zip(gts, preds))]
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_hand_computed_two_scenes():
    # classes a, b, c (c never appears), ignore index 3. Scene 0: gt a a b b ignore; pred a b b b a.
    # Scene 1: gt b; pred a. Summed confusion (rows gt): a: [1, 1, 0]; b: [1, 2, 0]; c: [0, 0, 0]
    gts, preds = [[0, 0, 1, 1, 3], [1]], [[0, 1, 1, 1, 0], [0]]
    hist = confusion_matrix(gts, preds, 3, 3)
    assert hist.tolist() == [[1, 1, 0, 0], [1, 2, 0, 0], [0, 0, 0, 0]]  # last column: unlabelled predictions
    result = run_metric(gts, preds, ['a', 'b', 'c'], 3)
    assert result['a'] == pytest.approx(1 / 3)  # tp 1 / (tp 1 + fn 1 + fp 1)
    assert result['b'] == pytest.approx(2 / 4)  # tp 2 / (2 + fn 1 + fp 1)
    assert np.isnan(result['c'])  # absent everywhere: excluded by nanmean
    assert result['miou'] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert result['acc'] == pytest.approx(3 / 5)


def test_saves_predictions_and_rejects_length_mismatch(tmp_path):
    run_metric([[0, 1]], [[1, 1]], ['a', 'b'], 2, prediction_dir=str(tmp_path))
    assert np.load(tmp_path / 'scene0.npy').tolist() == [1, 1]
    with pytest.raises(ValueError, match='prediction has'):
        confusion_matrix([[0, 1, 1]], [[0, 1]], 2, 2)
