"""HICLSegmentor: correlation tokens, staged and averaged losses, which parts get gradients, clear errors."""
import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample, PointData
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement

from hicl.models.segmentors.hicl_segmentor import sample_correlation_tokens
from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors

IGNORE = 255
NECK = dict(in_dims=16, num_layers=1, num_heads=2, mlp_ratio=1.0)


def pairs(point_idx, label):
    return BaseDataElement(point_idx=torch.tensor(point_idx), view_idx=torch.zeros(len(point_idx), dtype=torch.long),
                           label=torch.tensor(label))


def test_tokens_are_the_sampled_points_and_their_supervising_pairs():
    first = Det3DDataSample(pseudo_pairs=pairs([0, 2, 2, 3], [1, 2, IGNORE, 0]), point_sets=torch.tensor([0, 0, 1, 1]),
                            point2voxel_map=torch.tensor([0, 0, 1, 2]), batch_idx=torch.zeros(3, dtype=torch.long))
    second = Det3DDataSample(pseudo_pairs=pairs([1, 1], [3, 2]), point_sets=torch.tensor([5, 5]),
                             point2voxel_map=torch.tensor([1, 0]), batch_idx=torch.ones(2, dtype=torch.long))
    voxel_idx, pair_token_idx, pair_labels, token_sets = sample_correlation_tokens([first, second], 8, IGNORE)
    # candidates (a labelled pair): points 0, 2, 3 of the first scene, point 1 of the second; the second scene's
    # voxels come after the first's 3, and its token after the first's 3 tokens
    assert sorted(voxel_idx[0].tolist()) == [0, 1, 2] and voxel_idx[1].tolist() == [3]
    token_voxels = torch.cat(voxel_idx)
    # each supervising pair points at the token of its own point (voxel of point 0, 2, 3; then point 1 of scene 2)
    assert token_voxels[pair_token_idx].tolist() == [0, 1, 2, 3, 3]  # the ignored pair supervises nothing
    assert pair_labels.tolist() == [1, 2, 0, 3, 2]
    # the sets of the tokens, the second scene's numbered after the first's largest set (1): 5 + 2
    first_sets = {0: 0, 1: 1, 2: 1}  # voxel -> set of its point
    assert token_sets.tolist() == [first_sets[v] for v in voxel_idx[0].tolist()] + [7]


def test_only_m_points_per_scene_are_tokens():
    sample = Det3DDataSample(pseudo_pairs=pairs(list(range(10)), [1] * 10), point_sets=torch.arange(10) // 5,
                             point2voxel_map=torch.arange(10), batch_idx=torch.zeros(10, dtype=torch.long))
    voxel_idx, pair_token_idx, pair_labels, _ = sample_correlation_tokens([sample], 4, IGNORE)
    assert len(voxel_idx[0]) == 4 and len(pair_token_idx) == 4
    assert sorted(pair_token_idx.tolist()) == [0, 1, 2, 3]
    assert (voxel_idx[0] // 5).tolist() == [0, 0, 1, 1]  # 2 of each set of 5


def test_missing_point_sets_name_the_fix():
    sample = Det3DDataSample(pseudo_pairs=pairs([0], [1]), point2voxel_map=torch.tensor([0]),
                             batch_idx=torch.zeros(1, dtype=torch.long))
    with pytest.raises(KeyError, match="add dict\\(type='LoadPointSets'\\) to the train pipeline"):
        sample_correlation_tokens([sample], 4, IGNORE)


def write_anchors(folder):
    """4 random orthonormal 16-d text anchors in ``folder/anchors.npz``; returns the path."""
    path = str(folder / 'anchors.npz')
    save_text_anchors(path, random_orthonormal_anchors(4, 16), list('abcd'), {})
    return path


@pytest.fixture
def anchors_file(tmp_path):
    return write_anchors(tmp_path)


def build(anchors_file, **hicl):
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='HICLSegmentor', feature_dims=[3, 4, 5], num_samples=64, **hicl,
        data_preprocessor=dict(type='Det3DDataPreprocessor', voxel=True, voxel_type='minkunet', batch_first=True,
                               max_voxels=None,
                               voxel_layer=dict(max_num_points=-1, point_cloud_range=[-100, -100, -20, 100, 100, 20],
                                                voxel_size=[0.1, 0.1, 0.1], max_voxels=(-1, -1))),
        backbone=dict(type='MinkUNetSpconvBackbone', in_channels=3, base_channels=8, num_stages=2,
                      encoder_channels=[8, 16], encoder_blocks=[1, 1], decoder_channels=[16, 8], decoder_blocks=[1, 1]),
        decode_head=dict(type='PseudoLabelHead', channels=8, num_classes=4, embed_dim=16, anchors_file=anchors_file)))


def full_model(anchors_file):
    return build(anchors_file, intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=NECK),
                 inter_scene_neck=dict(type='InterSceneCorrelationNeck', transformer=NECK),
                 feedback_loss=dict(type='FeedbackKL'))


def training_batch(num_scenes=2, num_points=400):
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    for _ in range(num_scenes):
        xyz = rng.uniform(0, 2, (num_points, 3))
        inputs.append(torch.as_tensor(np.c_[xyz, rng.uniform(-0.5, 0.5, (num_points, 3))], dtype=torch.float32))
        seen = rng.choice(num_points, 300, replace=False)
        samples.append(Det3DDataSample(
            gt_pts_seg=PointData(), pseudo_pairs=pairs(seen.tolist(), (xyz[seen, 0] > 1).astype(int).tolist()),
            point_sets=torch.as_tensor((xyz[:, :2] // 0.5) @ [1, 4], dtype=torch.long)))
    return dict(inputs=dict(points=inputs), data_samples=samples)


def losses_at(model, stage):
    """The loss dict of one training step at ``stage``, on the same batch and correlation sample every time."""
    model.set_stage(stage)
    data = model.data_preprocessor(training_batch(), True)
    torch.manual_seed(1)  # the same correlation sample at every stage
    return model(**data, mode='loss')


def with_one_backbone_pass(model):
    """The model with its backbone run once and its output reused: spconv's CPU kernels are not bit-reproducible
    across passes, and the correlation blocks amplify that beyond 1%; compared loss dicts must differ only in how
    they weigh the losses."""
    backbone_features, extract_feat = [], model.extract_feat

    def extract_once(inputs):
        if not backbone_features:
            backbone_features.append(extract_feat(inputs))
        return backbone_features[0]
    model.extract_feat = extract_once
    return model


def test_each_stage_adds_its_losses_and_averages_them(anchors_file):
    model = with_one_backbone_pass(full_model(anchors_file).train())
    stage0, stage1, stage2 = (losses_at(model, stage) for stage in range(3))
    assert set(stage0) == {'loss_ce'}
    assert set(stage1) == {'loss_ce', 'loss_intra', 'loss_inter'}
    assert set(stage2) == {'loss_ce', 'loss_intra', 'loss_inter', 'loss_kl'}
    raw_ce = stage0['loss_ce'].item()
    assert stage1['loss_ce'].item() == pytest.approx(raw_ce / 3, rel=1e-5)
    assert stage2['loss_ce'].item() == pytest.approx(raw_ce / 4, rel=1e-5)
    assert stage2['loss_intra'].item() == pytest.approx(stage1['loss_intra'].item() * 3 / 4, rel=1e-5)


def test_ablation_rows_compute_only_their_losses(anchors_file):
    intra_only = build(anchors_file, intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=NECK))
    intra_only.train().set_stage(2)
    assert intra_only.active_losses() == {'loss_ce', 'loss_intra'}
    assert set(losses_at(intra_only, 2)) == {'loss_ce', 'loss_intra'}


def gradient_owners(model, losses):
    model.zero_grad()
    sum(losses.values()).backward()
    return {name.split('.')[0] for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}


def test_the_necks_train_from_the_correlation_stage_on(anchors_file):
    model = full_model(anchors_file).train()
    assert gradient_owners(model, losses_at(model, 0)) == {'backbone', 'decode_head'}
    everything = {'backbone', 'decode_head', 'intra_scene_neck', 'inter_scene_neck'}
    assert gradient_owners(model, losses_at(model, 1)) == everything


def test_unlabelled_pairs_change_no_loss(anchors_file):
    """Pairs with the head's ignore index (255: no pixel label) neither make correlation tokens nor supervise them:
    giving every point without a pair an unlabelled one leaves each loss of the last stage as it was."""
    model = with_one_backbone_pass(full_model(anchors_file).train())
    model.set_stage(2)

    def losses_of(batch):
        data = model.data_preprocessor(batch, True)
        torch.manual_seed(1)  # the same correlation sample
        return model(**data, mode='loss')

    plain, padded = training_batch(), training_batch()
    for sample in padded['data_samples']:
        seen = sample.pseudo_pairs.point_idx
        everything = torch.arange(len(sample.point_sets))
        unseen = everything[~torch.isin(everything, seen)]
        sample.pseudo_pairs = pairs(torch.cat([seen, unseen]).tolist(),
                                    sample.pseudo_pairs.label.tolist() + [IGNORE] * len(unseen))
    expected, got = losses_of(plain), losses_of(padded)
    assert set(got) == set(expected) == {'loss_ce', 'loss_intra', 'loss_inter', 'loss_kl'}
    for name in expected:
        assert torch.allclose(got[name], expected[name], rtol=1e-5), name


def modules_reached_by(model, loss):
    """The top-level modules whose parameters get a non-zero gradient from ``loss`` alone."""
    model.zero_grad()
    loss.backward(retain_graph=True)
    return {name.split('.')[0] for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}


@pytest.mark.parametrize('inter_scene_input, inter_reaches', [
    ('net', {'backbone', 'decode_head', 'inter_scene_neck'}),  # Eq. 7: the net's features f_m of all scenes
    ('intra', {'backbone', 'decode_head', 'intra_scene_neck', 'inter_scene_neck'}),  # the chained variant
])
def test_each_loss_reaches_exactly_the_modules_the_paper_trains_with_it(anchors_file, inter_scene_input,
                                                                        inter_reaches):
    """Each loss of the last stage on its own: Eq. 1 trains the net; Eq. 4 of each neck trains that neck AND the
    net below it (Eq. 5/6: correlated points pulled to the same anchor); Eq. 8 trains the net only (the necks'
    side is the detached target)."""
    model = full_model(anchors_file)
    model.inter_scene_input = inter_scene_input
    losses = losses_at(model.train(), 2)
    reached = {name: modules_reached_by(model, loss) for name, loss in losses.items()}
    assert reached == {'loss_ce': {'backbone', 'decode_head'},
                       'loss_intra': {'backbone', 'decode_head', 'intra_scene_neck'},
                       'loss_inter': inter_reaches,
                       'loss_kl': {'backbone', 'decode_head'}}


def randomised(neck):
    """``neck`` with every parameter redrawn (the shipped necks start as the identity: zero-initialised outputs)."""
    torch.manual_seed(2)
    with torch.no_grad():
        for parameter in neck.parameters():
            parameter.normal_(0, 0.3)
    return neck


def test_the_inter_scene_neck_mixes_scenes_and_the_intra_scene_neck_does_not(anchors_file):
    model = full_model(anchors_file).eval()
    randomised(model.intra_scene_neck), randomised(model.inter_scene_neck)
    torch.manual_seed(3)
    first, second = torch.randn(5, 16), torch.randn(7, 16)
    with torch.no_grad():
        before = {name: outputs for name, _, _, outputs, _ in model.neck_passes([first, second])}
        after = {name: outputs for name, _, _, outputs, _ in model.neck_passes([first, torch.randn(7, 16)])}
    assert torch.equal(before['intra'][0], after['intra'][0])  # scene 1 does not see scene 2 within a scene
    assert (before['inter'][0] - after['inter'][0]).abs().max() > 1e-3  # but across scenes it does
    assert [len(t) for t in before['inter']] == [5, 7]  # and the tokens go back to their own scenes


def test_the_inter_scene_neck_takes_the_net_features_by_default(anchors_file):
    model = full_model(anchors_file).eval()
    features = [torch.randn(5, 16), torch.randn(7, 16)]
    inputs = {name: neck_inputs for name, _, neck_inputs, _, _ in model.neck_passes(features)}
    assert inputs['intra'] is features and inputs['inter'] is features  # Eq. 3 and Eq. 7 both read f_m
    model.inter_scene_input = 'intra'
    passes = {name: (neck_inputs, outputs) for name, _, neck_inputs, outputs, _ in model.neck_passes(features)}
    assert passes['inter'][0] is passes['intra'][1]
    with pytest.raises(ValueError, match="inter_scene_input must be one of \\('net', 'intra'\\), got 'both'"):
        build(anchors_file, inter_scene_input='both')


def test_inference_runs_the_3d_net_only_and_loads_a_checkpoint_with_necks(anchors_file):
    trained = full_model(anchors_file).eval()
    net_only = build(anchors_file, intra_scene_neck=None, inter_scene_neck=None).eval()
    assert not any(name.startswith(('intra', 'inter')) for name, _ in net_only.named_parameters())
    incompatible = net_only.load_state_dict(trained.state_dict(), strict=True)  # neck entries are accepted
    assert not incompatible.missing_keys and not incompatible.unexpected_keys
    data = trained.data_preprocessor(training_batch(num_scenes=1), False)
    with torch.no_grad():
        expected = trained(**data, mode='predict')[0].pts_seg_logits.pts_seg_logits
        got = net_only(**data, mode='predict')[0].pts_seg_logits.pts_seg_logits
    # spconv's CPU kernels are not bit-reproducible (two calls of one model differ by up to ~5e-4 here); weights
    # that failed to load would differ by the logits' own size
    assert torch.allclose(got, expected, atol=0.05 * float(expected.abs().max()))


def test_bad_configurations_are_refused(anchors_file):
    with pytest.raises(ValueError, match='feedback_loss needs at least one correlation neck'):
        build(anchors_file, feedback_loss=dict(type='FeedbackKL'))
    with pytest.raises(ValueError, match='training stage must be 0, 1 or 2, got 3'):
        full_model(anchors_file).set_stage(3)


def test_loss_weights_replace_the_averaging(anchors_file):
    model = build(anchors_file, intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=NECK),
                  loss_weights=dict(loss_intra=0.5))
    with_one_backbone_pass(model.train())
    raw = losses_at(model, 0)['loss_ce'].item()
    weighted = losses_at(model, 1)
    assert weighted['loss_ce'].item() == pytest.approx(raw, rel=1e-5)  # weight 1, not 1/2
    model.loss_weights = None
    averaged = losses_at(model, 1)
    assert weighted['loss_intra'].item() == pytest.approx(averaged['loss_intra'].item(), rel=1e-5)  # 1/2 either way
    with pytest.raises(KeyError, match="loss_weights has unknown losses \\['loss_mse'\\]"):
        build(anchors_file, intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=NECK),
              loss_weights=dict(loss_mse=1.0))


def test_instruments_are_measured_only_when_asked_and_stay_out_of_the_loss_dict(anchors_file):
    model = build(anchors_file, intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=NECK),
                  inter_scene_neck=dict(type='InterSceneCorrelationNeck', transformer=NECK),
                  feedback_loss=dict(type='FeedbackKL')).train()
    assert set(losses_at(model, 2)) == {'loss_ce', 'loss_intra', 'loss_inter', 'loss_kl'}
    assert model.instruments == {}  # not asked: nothing measured
    model.record_instruments = True
    assert set(losses_at(model, 0)) == {'loss_ce'} and model.instruments == {}  # before the necks: nothing to do
    assert set(losses_at(model, 2)) == {'loss_ce', 'loss_intra', 'loss_inter', 'loss_kl'}  # losses only
    instruments = model.instruments
    for neck in ('intra', 'inter'):
        assert {f'{neck}_change', f'{neck}_chance_set', f'{neck}_chance_label', f'acc_{neck}'} <= set(instruments)
        assert {f'{neck}_{kind}_l0' for kind in ('entropy', 'same_set', 'same_label')} <= set(instruments)
    assert {'acc_net', 'agreement'} <= set(instruments)
    assert all(isinstance(value, float) and 0 <= value <= 1 for name, value in instruments.items()
               if not name.endswith('_change'))
    # the intra-scene neck attends within a scene (~64 tokens each), the inter-scene one across the batch (~128):
    # a token's own set holds a larger share of its scene than of the batch
    assert instruments['intra_chance_set'] > instruments['inter_chance_set']
