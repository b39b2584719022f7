"""The validation-time correlation probe (true classes) and its hook, on a tiny HICL model."""
import numpy as np
import pytest
import torch
from mmdet3d.structures import Det3DDataSample, PointData
from mmengine.logging import MessageHub

from hicl.engine import CorrelationProbeHook
from hicl.evaluation.correlation_probe import probe_correlation, scene_point_features
from hicl.metrics import feature_compactness
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
    assert stats['compactness'] == pytest.approx(feature_compactness(features, truth), rel=1e-6)
    assert not any(name.startswith(('intra', 'inter', 'acc')) for name in stats)  # stage 0: necks not trained


def labelled_truth(batch):
    """The (n_b,) true classes of the labelled points of each scene of a validation batch, in point order."""
    return [truth[truth != 255] for truth in (s.eval_ann_info['pts_semantic_mask'] for s in batch['data_samples'])]


def share_of_own_class(truth):
    """Mean over points of the share of points with the point's class: the attention mass of uniform attention
    on the same class (numpy, by hand)."""
    _, inverse, counts = np.unique(truth, return_inverse=True, return_counts=True)
    return float(np.mean(counts[inverse] / len(truth)))


def compactness_by_hand(features, truth):
    """Within-class over between-class sum of squares (paper Fig. 7), in numpy."""
    features, mean = np.asarray(features, dtype=np.float64), np.asarray(features, dtype=np.float64).mean(0)
    within = between = 0.0
    for cls in np.unique(truth):
        members = features[truth == cls]
        within += ((members - members.mean(0))**2).sum()
        between += len(members) * ((members.mean(0) - mean)**2).sum()
    return within / between


def test_necks_are_probed_against_the_true_class_once_they_train(model):
    """Every labelled point a token (M above their number): the chance levels follow from the class counts
    alone, and each accuracy from the features of the labelled points (the necks run on them here, in point
    order: attention has no positions, so the probe's drawing order cannot matter) against the true classes."""
    model = with_one_backbone_pass(model)
    model.set_stage(1)
    model.num_samples = NUM_POINTS
    batch = validation_batch()
    with torch.no_grad():
        stats = probe_correlation(model, [batch], points_per_scene=NUM_POINTS)
        scenes = list(scene_point_features(model, batch))
    truths = labelled_truth(batch)
    assert stats['intra_chance_class'] == pytest.approx(np.mean([share_of_own_class(t) for t in truths]), abs=1e-6)
    assert stats['inter_chance_class'] == pytest.approx(share_of_own_class(np.concatenate(truths)), abs=1e-6)
    anchors, truth = model.decode_head.text_anchors, np.concatenate(truths)
    tokens = [f[t >= 0] for f, t in scenes]
    with torch.no_grad():
        outputs = dict(net=torch.cat(tokens), intra=torch.cat(model.intra_scene_neck(tokens)),
                       inter=torch.cat(model.inter_scene_neck(tokens)))
    for name, features in outputs.items():
        predicted = (features @ anchors.T).argmax(1).numpy()
        assert stats[f'acc_{name}'] == pytest.approx(np.mean(predicted == truth), abs=1e-6)
    for neck in ('intra', 'inter'):
        change = float((outputs[neck] - outputs['net']).norm() / outputs['net'].norm())
        assert stats[f'{neck}_change'] == pytest.approx(change, rel=1e-5)


class StubRunner:
    def __init__(self, model, dataloader):
        self.model, self.val_dataloader = model, dataloader
        self.message_hub = MessageHub.get_instance('test_correlation_probe')


def test_hook_logs_the_probe_as_val_scalars(model):
    """With every labelled point drawn, the logged compactness is that of all of them, computed here in numpy."""
    model = with_one_backbone_pass(model)
    batch = validation_batch()
    runner = StubRunner(model, [batch])
    CorrelationProbeHook(interval=1, points_per_scene=NUM_POINTS).after_val_epoch(runner)
    with torch.no_grad():
        scenes = list(scene_point_features(model, batch))
    features = torch.cat([f[t >= 0] for f, t in scenes]).numpy()
    expected = compactness_by_hand(features, np.concatenate(labelled_truth(batch)))
    assert runner.message_hub.get_scalar('val/compactness').current() == pytest.approx(expected, rel=1e-5)
    assert not any(key.startswith('val/intra') for key in runner.message_hub.log_scalars)  # stage 0: no necks


def test_hook_probes_every_interval_th_validation_and_never_at_interval_0(model):
    runner = StubRunner(with_one_backbone_pass(model), [validation_batch()])
    runner.message_hub = MessageHub.get_instance('test_correlation_probe_interval')
    for interval, probed_after in ((0, []), (2, [2, 4])):
        hook, probed = CorrelationProbeHook(interval=interval, points_per_scene=NUM_POINTS), []
        for validation in range(1, 5):
            before = len(runner.message_hub.log_scalars.get('val/compactness', [[]]).data[0]) \
                if 'val/compactness' in runner.message_hub.log_scalars else 0
            hook.after_val_epoch(runner)
            after = len(runner.message_hub.log_scalars['val/compactness'].data[0]) \
                if 'val/compactness' in runner.message_hub.log_scalars else 0
            if after > before:
                probed.append(validation)
        assert probed == probed_after, interval
