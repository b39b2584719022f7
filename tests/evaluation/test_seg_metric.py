"""The metric against a hand-computed confusion matrix (mmdet3d SegMetric semantics)."""
import errno
import os

import numpy as np
import pytest
import torch
from plyfile import PlyData

from hicl.evaluation import PerClassSegMetric
from hicl.metrics import confusion_matrix

PALETTE = ((10, 20, 30), (40, 50, 60), (70, 80, 90))


def run_metric(gts, preds, classes, ignore_index, **kwargs):
    metric = PerClassSegMetric(**kwargs)
    metric.dataset_meta = dict(classes=classes, palette=PALETTE[:len(classes)], ignore_index=ignore_index)
    samples = [dict(pred_pts_seg=dict(pts_semantic_mask=np.array(p)), eval_ann_info=dict(pts_semantic_mask=np.array(g)),
                    lidar_path=f'points/scene{i}.bin') for i, (g, p) in enumerate(zip(gts, preds))]
    points = [torch.arange(len(g) * 6, dtype=torch.float32).reshape(len(g), 6) for g in gts]  # x y z r g b
    metric.process(dict(inputs=dict(points=points)), samples)
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


def test_an_ignore_index_other_than_the_class_count_is_dropped():
    # classes a, b with ignore index 255: the two ignored points are left out whatever is predicted there
    result = run_metric([[0, 1, 255, 255]], [[0, 1, 0, 1]], ['a', 'b'], 255)
    assert result['a'] == result['b'] == result['miou'] == result['acc'] == 1.0


def test_class_accuracy_is_the_mean_share_of_each_true_class_predicted_right():
    # truth a a a b, prediction a a b b: a 2 of its 3 points, b 1 of 1 (per prediction it would be 2/2 and 1/2)
    result = run_metric([[0, 0, 0, 1]], [[0, 0, 1, 1]], ['a', 'b'], 2)
    assert result['acc_cls'] == pytest.approx((2 / 3 + 1) / 2)
    assert result['acc'] == pytest.approx(3 / 4)


def test_saves_predictions_and_rejects_length_mismatch(tmp_path):
    run_metric([[0, 1]], [[1, 1]], ['a', 'b'], 2, prediction_dir=str(tmp_path))
    assert np.load(tmp_path / 'scene0.npy').tolist() == [1, 1]
    with pytest.raises(ValueError, match='prediction has'):
        confusion_matrix([[0, 1, 1]], [[0, 1]], 2, 2)


def read_ply(path):
    """(xyz (N, 3), rgb (N, 3), vertex array) of a PLY file, read by plyfile (independent of the writer)."""
    vertex = PlyData.read(str(path))['vertex'].data
    return (np.stack([vertex[a] for a in 'xyz'], 1), np.stack([vertex[c] for c in ('red', 'green', 'blue')], 1),
            vertex)


def test_point_clouds_of_prediction_truth_and_errors(tmp_path):
    # classes a, b; ignore index 2. Truth a b ignore b, prediction a a b b: point 1 wrong, point 2 not scored.
    run_metric([[0, 1, 2, 1]], [[0, 0, 1, 1]], ['a', 'b'], 2, prediction_dir=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'scene0.errors.ply', 'scene0.gt.ply', 'scene0.npy', 'scene0.pred.ply']  # no temporary file left
    xyz, rgb, vertex = read_ply(tmp_path / 'scene0.pred.ply')
    np.testing.assert_array_equal(xyz, [[0, 1, 2], [6, 7, 8], [12, 13, 14], [18, 19, 20]])  # the points' x y z
    assert rgb.tolist() == [list(PALETTE[0]), list(PALETTE[0]), list(PALETTE[1]), list(PALETTE[1])]
    assert vertex['class_id'].tolist() == [0, 0, 1, 1]
    _, rgb, vertex = read_ply(tmp_path / 'scene0.gt.ply')
    assert rgb.tolist()[:2] == [list(PALETTE[0]), list(PALETTE[1])] and rgb[2].tolist() == [191, 191, 191]
    assert vertex['class_id'].tolist() == [0, 1, 2, 1]
    _, rgb, vertex = read_ply(tmp_path / 'scene0.errors.ply')
    assert vertex['error'].tolist() == [0, 1, -1, 0]
    assert rgb.tolist() == [[200, 200, 200], [228, 26, 28], [90, 90, 90], [200, 200, 200]]  # grey, red, dark grey


def test_open_vocabulary_mapping_scores_merged_and_missed_names():
    # dataset classes a, b, c (ignore 3); vocabulary x -> c, y -> a+b, z -> a+b, w -> nothing (a miss)
    mapping = dict(classes=['a+b', 'c'], truth=[0, 0, 1, 2], prediction=[1, 0, 0, 2])
    truth = [[0, 1, 2, 2, 3, 0]]  # scored: a+b a+b c c (dropped) a+b
    predicted = [[1, 2, 0, 3, 0, 0]]  # y z x w x x -> scored: a+b a+b c miss c c
    result = run_metric(truth, predicted, ['a', 'b', 'c'], 3, class_mapping=mapping)
    assert 'a' not in result and 'b' not in result
    assert result['a+b'] == pytest.approx(2 / 3)  # tp 2, fn 1 (the last point, predicted c)
    assert result['c'] == pytest.approx(1 / 3)  # tp 1, fn 1 (the miss), fp 1 (the last point)
    assert result['acc'] == pytest.approx(3 / 5)


def test_a_full_disk_while_saving_predictions_names_the_file_and_leaves_no_partial_file(tmp_path, monkeypatch):
    def fsync(fd):  # a full disk: the file system reports ENOSPC when the data is flushed
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(OSError, match=f'could not write {tmp_path / "scene0.npy"}: No space left on device'):
        run_metric([[0, 1]], [[1, 1]], ['a', 'b'], 2, prediction_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []
