"""The real nuScenes demo sweep (../shared/data/nuscenes_demo: one v1.0-mini keyframe, 6 cameras, mmdet3d v1.1
info with calibration) through the label-free dataset: projection, sets, refinement and training iterations of
the nuScenes configs; and the metric path on the real 40-point lidarseg sample."""
import copy
import json
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from hicl.converters.nuscenes import DEFAULT_LIDAR_SET_OPTIONS, write_sweep_sets
from hicl.dataset_io import lidar_stem
from hicl.geometry.nuscenes import NUSCENES_CAMERAS, NUSCENES_IMAGE_SIZE
from hicl.label_sets import NUSCENES16_CLASSES, NUSCENES_LIDARSEG_TO_16
from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors
from hicl.pseudo_labels.cache import PseudoLabelCache, make_manifest
from tests.conftest import REPO, SHARED_DATA, shared_path

LABEL_SIZE = (400, 225)
DEMO_POINTS = 34688
DEMO_POINTS_IN_IMAGES = 20206  # SOURCES.md: points inside at least one image (camera z > 1 m)
CAR, ROAD, MANMADE = (NUSCENES16_CLASSES.index(name) for name in ('car', 'driveable surface', 'manmade'))


def band_labels(camera_index):
    """(225, 400) uint8 stand-in pseudo-labels: no label above the horizon band, manmade, then road; a car
    block whose column depends on the camera, so views differ."""
    labels = np.full(LABEL_SIZE[::-1], 255, dtype=np.uint8)
    labels[90:140] = MANMADE
    labels[140:] = ROAD
    start = 50 * camera_index
    labels[120:180, start:start + 80] = CAR
    return labels


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    """A data root for the demo sweep: its info (with pts_sets_path), per-sweep sets, band pseudo-labels,
    random anchors. The LiDAR file and images stay in ../shared/data (data_prefix points there)."""
    demo = shared_path('nuscenes_demo')
    root = tmp_path_factory.mktemp('nuscenes_demo')
    infos = json.loads((demo / 'info.json').read_text())
    info = infos['data_list'][0]
    stem = lidar_stem(info['lidar_points']['lidar_path'])
    info['pts_sets_path'] = f'{stem}.bin'
    with open(root / 'infos.pkl', 'wb') as file:
        pickle.dump(infos, file)
    write_sweep_sets((str(demo / info['lidar_points']['lidar_path']), str(root / 'sets' / f'{stem}.bin'), False),
                     DEFAULT_LIDAR_SET_OPTIONS)
    cache = PseudoLabelCache(str(root / 'pseudo_labels'))
    cache.open_for_writing(make_manifest(dict(type='BandLabels'), NUSCENES16_CLASSES, LABEL_SIZE))
    for index, camera in enumerate(NUSCENES_CAMERAS):
        cache.write(stem, camera, band_labels(index))
    save_text_anchors(str(root / 'anchors.npz'), random_orthonormal_anchors(16, 512, 0), NUSCENES16_CLASSES,
                      dict(kind='random_orthonormal', seed=0, label_set='nuscenes16'))
    return root


def dataset_options(root):
    """Dataset keyword arguments reading the demo sweep through ``root``."""
    demo = str(SHARED_DATA / 'nuscenes_demo')
    return dict(data_root=str(root), ann_file='infos.pkl',
                data_prefix=dict(pts=demo, pts_sets='sets', pseudo_labels='pseudo_labels',
                                 **{camera: demo for camera in NUSCENES_CAMERAS}))


def build_dataset(root, pipeline):
    from hicl.datasets import LabelFreeNuScenesDataset
    init_default_scope('mmdet3d')
    return LabelFreeNuScenesDataset(pipeline=pipeline, **dataset_options(root))


def test_demo_info_becomes_six_calibrated_frames(demo_root):
    info = build_dataset(demo_root, []).get_data_info(0)
    raw = json.loads((SHARED_DATA / 'nuscenes_demo' / 'info.json').read_text())['data_list'][0]
    assert info['scene_id'] == 'n015-2018-07-24-11-22-45+0800__LIDAR_TOP__1532402927647951'
    assert [frame['frame_id'] for frame in info['frames']] == list(NUSCENES_CAMERAS)
    for frame in info['frames']:
        lidar2cam = np.asarray(raw['images'][frame['frame_id']]['lidar2cam'])
        np.testing.assert_allclose(frame['pose'] @ lidar2cam, np.eye(4), atol=1e-6)
        assert frame['image_size'] == NUSCENES_IMAGE_SIZE
        assert frame['color_path'].endswith(raw['images'][frame['frame_id']]['img_path'])
    front = info['frames'][0]['pose']
    assert front[:3, 2] @ [1, 0, 0] < 0.1 and front[:3, 2] @ [0, 1, 0] > 0.99  # CAM_FRONT looks along LiDAR +y


def test_refined_pipeline_pairs_the_demo_sweep_with_six_cameras(demo_root):
    cfg = Config.fromfile(str(REPO / 'configs' / 'hicl_nuscenes.py'))
    pipeline = cfg.train_dataloader.dataset.pipeline[:5]  # load points and sets, frames, pairing, refinement
    assert [t['type'] for t in pipeline][-2:] == ['PairPointsWithPixels', 'SetVotingRefiner']
    results = build_dataset(demo_root, pipeline)[0]
    assert len(results['points']) == DEMO_POINTS and len(results['point_sets']) == DEMO_POINTS
    paired = np.unique(results['pair_point_idx'])
    # every pixel of the band images below row 90 is labelled: the points paired are those inside an image
    # below its upper 40%, a subset of the 20206 points inside any image
    assert 0.5 * DEMO_POINTS_IN_IMAGES < len(paired) < DEMO_POINTS_IN_IMAGES
    assert set(np.unique(results['pair_view_idx'])) == set(range(6))
    assert set(np.unique(results['pair_label_raw'])) == {CAR, ROAD, MANMADE}
    assert 0 < results['set_voting_changed'] < len(results['pair_label'])


def test_all_pixels_labelled_pairs_exactly_the_points_inside_the_images(demo_root):
    from hicl.datasets.transforms import LoadSceneFrames, PairPointsWithPixels
    results = build_dataset(demo_root, [dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5,
                                             use_dim=[0, 1, 2, 3])]).prepare_data(0)
    views = LoadSceneFrames(num_frames=6, load_depth=False)(dict(results, frames=results['frames']))['views']
    views['labels'][:] = ROAD
    results['views'] = views
    pairs = PairPointsWithPixels(use_depth=False, min_depth=1.0)(results)
    assert abs(len(np.unique(pairs['pair_point_idx'])) - DEMO_POINTS_IN_IMAGES) <= 20  # border pixels at 1/4 size


def train_config(config, root, work_dir):
    cfg = Config.fromfile(str(REPO / 'configs' / config))
    dataset = dict(copy.deepcopy(cfg.train_dataloader.dataset), **dataset_options(root))
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=2, dataset=dataset)
    cfg.model.decode_head.anchors_file = str(root / 'anchors.npz')
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=10)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.pop('pseudo_label_check')  # hand-painted band labels: no labeller to check the cache by
    cfg.work_dir = str(work_dir)
    return cfg


@pytest.mark.parametrize('config', ['baseline_nuscenes.py', 'hicl_nuscenes.py'])
def test_nuscenes_configs_train_on_the_demo_sweep(config, demo_root, tmp_path):
    cfg = train_config(config, demo_root, tmp_path)
    if config == 'hicl_nuscenes.py':
        cfg.default_hooks.correlation_stages.update(correlation_epoch=0, feedback_epoch=1)
        cfg.model.num_samples = 128
    runner = Runner.from_cfg(cfg)
    assert type(runner.model.backbone).__name__ == 'SPVCNNSpconvBackbone'
    before = {name: p.detach().clone() for name, p in runner.model.backbone.named_parameters()}
    losses = []
    runner.register_hook(LossRecorder(losses))
    runner.train()
    assert len(losses) == 2 and all(np.isfinite(v) for logged in losses for v in logged.values())
    if config == 'hicl_nuscenes.py':
        assert {'loss_ce', 'loss_intra', 'loss_inter', 'loss_kl'} <= set(losses[-1])
    changed = [name for name, p in runner.model.backbone.named_parameters() if not torch.equal(p, before[name])]
    assert any(name.startswith('point_transforms') for name in changed)


class LossRecorder(Hook):
    """Records the logged losses of each training iteration."""

    def __init__(self, losses):
        self.losses = losses

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items() if k.startswith('loss')})


def test_metric_path_on_the_real_lidarseg_sample(tmp_path, shared_data):
    """The 40-point real lidarseg sample through the test pipeline of the nuScenes configs and the metric."""
    from hicl.evaluation.seg_metric import PerClassSegMetric
    sample = shared_data / 'tiny' / 'nuscenes_lidarseg'
    lidar = next(sample.glob('*.pcd.bin')).name
    labels = next(sample.glob('*_lidarseg.bin')).name
    with open(tmp_path / 'infos.pkl', 'wb') as file:
        pickle.dump(dict(metainfo={}, data_list=[dict(lidar_points=dict(lidar_path=lidar, num_pts_feats=5),
                                                      pts_semantic_mask_path=labels)]), file)
    cfg = Config.fromfile(str(REPO / 'configs' / 'hicl_nuscenes.py'))
    from hicl.datasets import LabelFreeNuScenesDataset
    init_default_scope('mmdet3d')
    dataset = LabelFreeNuScenesDataset(data_root=str(tmp_path), ann_file='infos.pkl', test_mode=True,
                                       data_prefix=dict(pts=str(sample), pts_semantic_mask=str(sample)),
                                       pipeline=cfg.test_dataloader.dataset.pipeline)
    data = dataset[0]
    raw = np.fromfile(sample / labels, dtype=np.uint8)
    gt = data['data_samples'].eval_ann_info['pts_semantic_mask']
    np.testing.assert_array_equal(gt, np.asarray(NUSCENES_LIDARSEG_TO_16)[raw])
    assert set(np.unique(raw)) == {17, 24, 27, 28, 30, 31}
    assert set(np.unique(gt)) == {3, 10, 13, 14, 15, 16}  # car, road, terrain, manmade, vegetation, ignored (ego)
    assert data['inputs']['points'][:, 3].max() <= 1.0  # intensity normalised
    # a prediction that calls every terrain point vegetation: terrain IoU 0, vegetation IoU = veg / (veg + terrain)
    pred = gt.copy()
    pred[gt == 13] = 15
    metric = PerClassSegMetric()
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [dict(eval_ann_info=dict(pts_semantic_mask=gt),
                             pred_pts_seg=dict(pts_semantic_mask=torch.as_tensor(pred)))])
    result = metric.compute_metrics(metric.results)
    veg, terrain = (gt == 15).sum(), (gt == 13).sum()
    expected = np.mean([1.0, 1.0, 0.0, 1.0, veg / (veg + terrain)])
    assert result['miou'] == pytest.approx(expected)
