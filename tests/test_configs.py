"""The HICL configs: each ablation row adds exactly its component; hicl_scannet.py holds the paper's settings."""
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from hicl.label_sets import SCANNET20_CLASSES
from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors
from tests.conftest import REPO

ROWS = ['exp1_baseline', 'exp2_set_voting', 'exp3_intra_scene', 'exp4_inter_scene', 'exp5_feedback_kl']


def load(name):
    return Config.fromfile(str(REPO / 'configs' / f'{name}.py'))


def components(cfg):
    """What a config switches on, in the ablation's terms."""
    pipeline = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    model = cfg.model
    return {'set_voting': 'SetVotingRefiner' in pipeline and 'LoadPointSets' in pipeline,
            'intra': bool(model.get('intra_scene_neck')), 'inter': bool(model.get('inter_scene_neck')),
            'kl': bool(model.get('feedback_loss'))}


def test_each_ablation_row_adds_one_component():
    on = [components(load(f'ablation/{row}')) for row in ROWS]
    assert [sum(row.values()) for row in on] == [0, 1, 2, 3, 4]
    assert [next(k for k in on[i + 1] if on[i + 1][k] and not on[i][k]) for i in range(4)] == \
        ['set_voting', 'intra', 'inter', 'kl']
    assert components(load('hicl_synthrooms')) == on[-1]


def test_hicl_scannet_has_the_papers_settings():
    cfg = load('hicl_scannet')
    assert components(cfg) == dict(set_voting=True, intra=True, inter=True, kl=True)
    assert cfg.model.num_samples == 1024 and cfg.train_cfg.max_epochs == 120
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.model.data_preprocessor.voxel_layer.voxel_size == [0.05] * 3
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4)
    assert cfg.optim_wrapper.necks.optimizer['type'] == 'AdamW' and cfg.optim_wrapper.necks.optimizer['lr'] == 2e-4
    hook = cfg.default_hooks.correlation_stages
    assert (hook.type, hook.correlation_epoch, hook.feedback_epoch) == ('CorrelationStageHook', 10, 20)


def test_hicl_scannet_builds_full_width_vit_necks_and_both_optimizers(tmp_path):
    anchors = str(tmp_path / 'anchors.npz')
    save_text_anchors(anchors, random_orthonormal_anchors(20, 512), list(SCANNET20_CLASSES), {})
    cfg = load('hicl_scannet')
    cfg.model.decode_head.anchors_file = anchors
    init_default_scope('mmdet3d')
    model = MODELS.build(cfg.model)
    for neck in (model.intra_scene_neck, model.inter_scene_neck):
        assert len(neck.transformer.blocks) == 3 and not neck.transformer.narrow
        block = 4 * 512 * 512 + 4 * 512 + 2 * 512 * 2048 + 2048 + 512 + 4 * 512  # attention, MLP, 2 LayerNorms
        assert sum(p.numel() for p in neck.parameters()) == 3 * block
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.get_lr() == {'net.lr': [0.2], 'necks.lr': [2e-4]}
    tokens = [torch.randn(1024, 512), torch.randn(700, 512)]
    correlated = model.inter_scene_neck(model.intra_scene_neck(tokens))
    assert [tuple(x.shape) for x in correlated] == [(1024, 512), (700, 512)]


@pytest.mark.parametrize('name', ['hicl_synthrooms', 'ablation/exp3_intra_scene'])
def test_demo_rows_use_the_documented_cpu_scaling(name):
    """M = 256 sampled points per scene and 128-channel blocks (README, tools/benchmark.py)."""
    cfg = load(name)
    assert cfg.model.num_samples == 256 and cfg.model.intra_scene_neck.transformer.embed_dims == 128


def test_hicl_nuscenes_has_the_papers_settings_and_exp1_variant():
    cfg, baseline = load('hicl_nuscenes'), load('baseline_nuscenes')
    assert components(cfg) == dict(set_voting=True, intra=True, inter=True, kl=True)
    assert components(baseline) == dict(set_voting=False, intra=False, inter=False, kl=False)
    for c in (cfg, baseline):
        assert c.train_cfg.max_epochs == 30 and c.train_dataloader.batch_size == 8
        assert c.model.data_preprocessor.voxel_layer.voxel_size == [0.1] * 3
        assert c.model.backbone.type == 'SPVCNNSpconvBackbone' and c.model.feature_dims == [3]  # intensity
        assert c.model.decode_head.num_classes == 16
        pairing = next(t for t in c.train_dataloader.dataset.pipeline if t['type'] == 'PairPointsWithPixels')
        assert not pairing.use_depth and pairing.min_depth == 1.0
    assert cfg.optim_wrapper == baseline.optim_wrapper  # one schedule: the necks' optimizer is used when present
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4)
    assert cfg.model.num_samples == 1024 and cfg.model.intra_scene_neck.transformer.get('embed_dims') is None
    hook = cfg.default_hooks.correlation_stages  # the paper's absolute stage epochs (3.4), as on ScanNet
    assert (hook.type, hook.correlation_epoch, hook.feedback_epoch) == ('CorrelationStageHook', 10, 20)
    assert components(load('hicl_synthstreet')) == components(cfg)
    assert load('pseudo_labels/maskclip_nuscenes').pseudo_labels == cfg.pseudo_labels


def test_sweep_backbone_benchmark_voxelises_at_10_cm():
    import numpy as np

    from hicl.experiments.benchmark import benchmark_sweep_backbone
    from hicl.experiments.benchmark_scenes import synthetic_lidar_sweep
    xyz = synthetic_lidar_sweep(num_rings=8, points_per_ring=200)
    points = np.concatenate([xyz, np.ones((len(xyz), 1))], axis=1).astype(np.float32)
    model = load('baseline_synthstreet').model
    result = benchmark_sweep_backbone(model, points, num_iters=1, warmup=0)
    assert result['voxels'] == len(np.unique(np.round(xyz / 0.1).astype(np.int64), axis=0))
    assert result['params'] == 2_025_792 and result['iter_s'] > 0


def base_files(path):
    """The files a config's ``_base_`` lists, resolved against its folder."""
    import ast
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '_base_' for t in node.targets):
            names = ast.literal_eval(node.value)
            return [(path.parent / name).resolve() for name in ([names] if isinstance(names, str) else names)]
    return []


def config_depth(path):
    """Levels of files a config resolves through: 1 for a file without ``_base_``."""
    return 1 + max((config_depth(base) for base in base_files(path)), default=0)


def test_every_config_resolves_within_four_levels():
    configs = [path for path in (REPO / 'configs').rglob('*.py') if '_base_' not in path.parts]
    depths = {str(path.relative_to(REPO / 'configs')): config_depth(path) for path in configs}
    assert len(depths) >= 14 and max(depths.values()) <= 4, depths
    assert depths['hicl_synthrooms.py'] == depths['ablation/exp5_feedback_kl.py'] == 4


def test_the_demo_config_is_the_last_ablation_row_without_its_diagnostics():
    demo, row = load('hicl_synthrooms'), load('ablation/exp5_feedback_kl')
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'train_dataloader'):
        assert demo.to_dict()[key] == row.to_dict()[key], key
    hooks = {name: dict(hook) for name, hook in demo.default_hooks.items()}
    hooks.update(correlation_probe=dict(type='CorrelationProbeHook', interval=1),
                 correlation_instruments=dict(type='CorrelationInstrumentHook', interval=10))
    assert row.to_dict()['default_hooks'] == hooks


def training_configs():
    """The shipped configs tools/train.py runs (not _base_/ parts nor pseudo_labels/ labeller settings)."""
    return sorted(str(path.relative_to(REPO / 'configs'))[:-3] for path in (REPO / 'configs').rglob('*.py')
                  if '_base_' not in path.parts and 'pseudo_labels' not in path.parts)


@pytest.mark.parametrize('name', training_configs())
def test_diagnostics_run_only_in_the_configs_that_study_the_necks(name):
    hooks = load(name).default_hooks
    probe, instruments = hooks.correlation_probe.interval, hooks.correlation_instruments.interval
    if name.startswith('ablation/'):
        assert (probe, instruments) == (1, 10)
    else:
        assert (probe, instruments) == (0, 0)
    assert 'custom_hooks' not in load(name)  # the stages are default_hooks.correlation_stages of every config


@pytest.mark.parametrize('name', ['baseline_synthrooms', 'hicl_synthrooms', 'hicl_scannet', 'baseline_nuscenes'])
def test_the_cosine_schedule_takes_its_length_from_train_cfg(name):
    """Only train_cfg.max_epochs says how long training is: the runner fills in the scheduler's end and T_max."""
    scheduler = load(name).param_scheduler[0]
    assert scheduler.type == 'CosineAnnealingLR' and 'T_max' not in scheduler and 'end' not in scheduler
