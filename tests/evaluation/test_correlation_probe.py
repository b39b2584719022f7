"""The validation-time correlation probe (true classes) and its hook, on a tiny HICL model."""
import numpy as np
import pytest
import torch
from mmdet3d.structures import Det3DDataSample, PointData
from mmengine.logging import MessageHub

from hicl.engine import CorrelationProbeHook
from hicl.evaluation.correlation_probe import probe_correlation, scene_point_features
from hicl.models import correlation_instruments as instruments
from tests.models.test_hicl_segmentor import full_model, with_one_backbone_pass, write_anchors

NUM_POINTS = 300


@pytest.fixture
def model(tmp_path):
    """The tiny HICL model of the segmentor tests (4 classes, 16-d space, both necks), in eval mode."""
    return full_model(write_anchors(tmp_path)).eval()


def validation_batch(num_scenes=2):
    """Scenes whose true class follows x (4 classes), with 255 (outside the model's classes) on every 3rd point."""
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    for _ in range(num_scenes):
        xyz = rng.uniform(0, 2, (NUM_POINTS, 3))
        inputs.append(torch.as_tensor(np.c_[xyz, rng.uniform(-0.5, 0.5, (NUM_POINTS, 3))], dtype=torch.float32))
        truth = np.minimum(xyz[:, 0] // 0.5, 3).astype(np.int64)
        truth[::3] = 255
        samples.append(Det3DDataSample(gt_pts_seg=PointData(), eval_ann_info=dict(pts_semantic_mask=truth)))
    return dict(inputs=dict(points=inputs), data_samples=samples)


def test_truth_outside_the_classes_is_ignored_and_compactness_reads_all_labelled_points(model):
    model = with_one_backbone_pass(model)
    with torch.no_grad():
        scenes = list(scene_point_features(model, validation_batch()))
        stats = probe_correlation(model, [validation_batch()], points_per_scene=NUM_POINTS)
    assert [features.shape for features, _ in scenes] == [(NUM_POINTS, 16)] * 2
    truth = torch.cat([labels for _, labels in scenes])
    assert (truth[::3] == -1).all() and set(truth[1::3].tolist()) <= {0, 1, 2, 3}
    features = torch.cat([f for f, _ in scenes])
    # every labelled point drawn: the compactness of all of them (the draw's order does not matter)
    assert stats['compactness'] == pytest.approx(instruments.feature_compactness(features, truth), rel=1e-6)
    assert not any(name.startswith(('intra', 'inter', 'acc')) for name in stats)  # stage 0: necks not trained


def test_necks_are_probed_against_the_true_class_once_they_train(model):
    model.set_stage(1)
    with torch.no_grad():
        stats = probe_correlation(model, [validation_batch()])
    for neck in ('intra', 'inter'):
        assert {f'{neck}_change', f'{neck}_chance_class', f'{neck}_same_class_l0', f'acc_{neck}'} <= set(stats)
    # the inter-scene sequence is both scenes' tokens, the intra-scene one a single scene's: same class share
    # is about the same (both scenes follow x), and each is a share
    assert 0 < stats['intra_chance_class'] < 1 and 0 < stats['inter_chance_class'] < 1
    assert 0 <= stats['acc_net'] <= 1


class StubRunner:
    def __init__(self, model, dataloader):
        self.model, self.val_dataloader = model, dataloader
        self.message_hub = MessageHub.get_instance('test_correlation_probe')


def test_hook_logs_the_probe_as_val_scalars(model):
    runner = StubRunner(model, [validation_batch()])
    CorrelationProbeHook(points_per_scene=50).after_val_epoch(runner)
    compactness = runner.message_hub.get_scalar('val/compactness').current()
    assert np.isfinite(compactness) and compactness > 0
