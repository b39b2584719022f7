"""The outdoor path end to end on a tiny SynthStreet (official nuScenes layout): tools/create_data.py (devkit
converter, sets, 2D truth paths), pseudo-labels through the config's datasets, pairing through the converted
calibration, multi-sweep input, bad-input errors, and training + testing the outdoor configs."""
import json
import os
import pickle
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from scipy.spatial import cKDTree

from hicl.converters.nuscenes import convert_nuscenes
from hicl.dataset_io import read_lidar_points
from hicl.label_sets import NUSCENES_LIDARSEG_TO_16
from tests.conftest import EXACT_LABELLER, REPO

PSEUDO_LABELS = 'pseudo_labels/exact'
LABEL_SIZE = (200, 113)


# The simulated labeller with the outdoor classes and every kind of noise off: labels = 2D truth.
EXACT_OUTDOOR_LABELLER = dict(type='SimulatedVLMLabeller', label_set='nuscenes16', class_flips=(),
                              **EXACT_LABELLER)


def exact_outdoor_labeller():
    from hicl.registry import PSEUDO_LABELLERS
    return PSEUDO_LABELLERS.build(EXACT_OUTDOOR_LABELLER)


@pytest.fixture(scope='module')
def street(tmp_path_factory):
    """10 scenes x 2 keyframes with 1 sweep between them, 256 azimuths, 200x113 images: created with
    tools/create_data.py synthstreet, then labelled exactly through the config's datasets."""
    from hicl.datasets.labelling_scenes import build_labelling_dataset, built_dataset_scenes, split_dataset_config
    from hicl.pseudo_labels import label_dataset
    from hicl.synthstreet.prepare import prepare_synthstreet
    root = tmp_path_factory.mktemp('synthstreet_tiny')
    prepare_synthstreet(str(root), samples_per_scene=2, sweeps_per_sample=1, image_size=LABEL_SIZE,
                        azimuth_steps=256, workers=2, progress=False)
    cfg = street_config(root, 'baseline_synthstreet.py')
    scenes = [scene for split in ('train', 'val')
              for scene in built_dataset_scenes(build_labelling_dataset(split_dataset_config(cfg, split)))]
    result = label_dataset(scenes, '', exact_outdoor_labeller(), str(root / PSEUDO_LABELS), LABEL_SIZE,
                           progress=False, label_set='nuscenes16')
    assert result['frames'] == 20 * 6 and result['miou'] == pytest.approx(1.0)
    return root


def street_config(root, config, work_dir=None):
    cfg = Config.fromfile(str(REPO / 'configs' / config))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = str(root)
    cfg.train_dataloader.dataset.data_prefix.pseudo_labels = PSEUDO_LABELS
    cfg.pseudo_labels = dict(labeller=EXACT_OUTDOOR_LABELLER, label_size=LABEL_SIZE)  # what made the cache
    cfg.model.decode_head.anchors_file = str(root / 'text_anchors.npz')
    cfg.work_dir = str(work_dir or root / 'work')
    return cfg


def build_train_dataset(root, pipeline):
    from hicl.datasets import LabelFreeNuScenesDataset
    init_default_scope('mmdet3d')
    cfg = dict(street_config(root, 'hicl_synthstreet.py').train_dataloader.dataset, pipeline=pipeline)
    cfg.pop('type')
    return LabelFreeNuScenesDataset(**cfg)


def test_converted_infos_have_cameras_sweeps_sets_and_2d_truth(street):
    with open(street / 'hicl_nuscenes_infos_train.pkl', 'rb') as file:
        infos = pickle.load(file)
    assert infos['metainfo']['version'] == 'v1.0-mini' and len(infos['data_list']) == 16
    info = infos['data_list'][1]  # the second keyframe of a scene: one sweep and the first keyframe before it
    assert len(info['lidar_sweeps']) == 2
    assert set(info['images']) == {'CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK', 'CAM_BACK_LEFT',
                                   'CAM_BACK_RIGHT'}
    camera = info['images']['CAM_FRONT']
    assert (camera['width'], camera['height']) == LABEL_SIZE
    assert os.path.isfile(street / camera['label_path']) and os.path.isfile(street / camera['instance_path'])
    points = read_lidar_points(str(street / 'samples' / 'LIDAR_TOP' / info['lidar_points']['lidar_path']))
    sets = np.fromfile(street / 'sets' / info['pts_sets_path'], dtype=np.int64)
    labels = np.fromfile(street / 'lidarseg' / 'v1.0-mini' / info['pts_semantic_mask_path'], dtype=np.uint8)
    assert len(sets) == len(labels) == len(points) > 3000
    assert 0 < sets.min() + 1 and sets.max() < len(points) // 3  # every point in a set, sets of several points


def test_pairs_through_the_converted_chain_carry_the_lidarseg_class(street):
    """Exact 2D labels paired by the converter's lidar2cam chain and the per-camera intrinsics agree with each
    point's own lidarseg class (occlusion and pixel boundaries account for the rest)."""
    cfg = street_config(street, 'baseline_synthstreet.py')
    results = build_train_dataset(street, cfg.train_dataloader.dataset.pipeline[:3])[1]
    labels = np.fromfile(results['pts_semantic_mask_path'], dtype=np.uint8)
    truth = np.asarray(NUSCENES_LIDARSEG_TO_16)[labels][results['pair_point_idx']]
    assert len(truth) > 1000
    assert (results['pair_label'] == truth).mean() > 0.9
    assert set(np.unique(results['pair_view_idx'])) == set(range(6))


def test_training_refuses_labels_of_a_camera_image_rewritten_since(street, tmp_path):
    """The cache records the files each camera image was labelled from, as it does for ScanNet-layout frames."""
    from hicl.pseudo_labels import StaleCacheError
    root = tmp_path / 'street'
    shutil.copytree(street, root)  # keeps the modification times: the copy's cache is current
    with open(root / 'hicl_nuscenes_infos_train.pkl', 'rb') as file:
        info = pickle.load(file)['data_list'][3]
    path = root / info['images']['CAM_BACK']['instance_path']
    path.write_bytes(path.read_bytes())  # the same bytes written again: another modification time
    with pytest.raises(StaleCacheError) as error:
        Runner.from_cfg(street_config(root, 'baseline_synthstreet.py', tmp_path / 'work')).train()
    stem = info['lidar_points']['lidar_path'][:-len('.pcd.bin')]
    assert f'1 frame whose input files changed (size or modification time) since they were labelled: {stem} frame ' \
           'CAM_BACK\n' in str(error.value)
    assert str(root / PSEUDO_LABELS) in str(error.value)


def test_sweeps_join_the_keyframe_in_its_lidar_frame(street):
    load = dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5, use_dim=[0, 1, 2, 3])
    dataset = build_train_dataset(street, [load, dict(type='LoadLiDARSweeps', num_sweeps=9)])
    results = dataset[1]
    key = read_lidar_points(results['lidar_path'])[:, :4]
    points = results['points'].tensor.numpy()
    # the sweep between the keyframes (sweeps/) and the scene's first keyframe (samples/)
    paths = [sweep['lidar_points']['lidar_path'] for sweep in results['lidar_sweeps']]
    assert [path.split(os.sep)[-3] for path in paths] == ['sweeps', 'samples']
    sizes = [len(read_lidar_points(path)) for path in paths]
    assert results['num_keyframe_points'] == len(key) and len(key) + sum(sizes) - len(points) < 0.05 * sum(sizes)
    np.testing.assert_array_equal(points[:len(key)], key)
    raw_sweep = read_lidar_points(paths[0])[:, :3]
    raw_sweep = raw_sweep[np.linalg.norm(raw_sweep[:, :2], axis=1) > 1.0]  # LoadLiDARSweeps' min_distance
    sweep = points[len(key):len(key) + len(raw_sweep), :3]
    sensor2lidar = np.asarray(results['lidar_sweeps'][0]['sensor2lidar'])
    np.testing.assert_allclose(sweep, raw_sweep @ sensor2lidar[:3, :3].T + sensor2lidar[:3, 3], atol=1e-4)
    # the world is static: moved into the keyframe frame, sweep points lie on the keyframe's upright surfaces
    # (ground points would fit any shift along the road)
    flat = np.isin(np.asarray(NUSCENES_LIDARSEG_TO_16)[np.fromfile(results['pts_semantic_mask_path'], np.uint8)],
                   [10, 11, 12, 13])
    tree, ground = cKDTree(key[~flat, :3]), np.percentile(key[:, 2], 5)

    def median_gap(xyz):
        near_upright = (xyz[:, 2] > ground + 0.5) & (np.linalg.norm(xyz[:, :2], axis=1) < 20)
        return np.median(tree.query(xyz[near_upright])[0])
    assert median_gap(sweep) < 0.15 and median_gap(raw_sweep) > 3 * median_gap(sweep)


def test_create_data_nuscenes_cli_and_bad_input(street, tmp_path):
    out = tmp_path / 'out'
    run = subprocess.run([sys.executable, 'tools/create_data.py', 'nuscenes', '--root', str(street), '--version',
                          'v1.0-mini', '--out', str(out), '--no-sets', '--splits', 'val', '--workers', '1'],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert 'val: ' in run.stdout and '(4 samples)' in run.stdout
    with pytest.raises(FileNotFoundError, match='v1.0-trainval not found: --root must be'):
        convert_nuscenes(str(street), str(out), version='v1.0-trainval')
    with pytest.raises(ValueError, match="unknown nuScenes version 'v2.0'"):
        convert_nuscenes(str(street), str(out), version='v2.0')
    broken = tmp_path / 'broken.pcd.bin'
    shutil.copy(next((street / 'samples' / 'LIDAR_TOP').iterdir()), broken)
    with open(broken, 'ab') as file:
        file.write(b'\0' * 8)
    with pytest.raises(ValueError, match=f'{broken} holds .* not a multiple of 5'):
        read_lidar_points(str(broken))


def test_a_camera_intrinsic_off_the_centre_of_the_recorded_image_size_is_refused(shared_data):
    """The converter checks each camera's camera_intrinsic against the width x height sample_data.json records;
    the real demo sweep's six cameras pass at 1600x900, and its front camera is refused at 800x450 (tables edited
    for images shrunk by 2 without scaling the intrinsics)."""
    from hicl.converters.nuscenes import check_camera_intrinsic
    infos = json.loads((shared_data / 'nuscenes_demo' / 'info.json').read_text())
    images = infos['data_list'][0]['images']
    for camera, image in images.items():
        check_camera_intrinsic(dict(filename=image['img_path'], width=1600, height=900),
                               dict(token=camera, camera_intrinsic=image['cam2img']))
    front = images['CAM_FRONT']
    with pytest.raises(ValueError, match=re.escape(
            f'{front["img_path"]}: camera_intrinsic of calibrated_sensor CAM_FRONT puts the principal point at cx '
            f'{front["cam2img"][0][2]:g}, cy {front["cam2img"][1][2]:g} pixels, outside the middle half of the '
            'image, which sample_data.json says is 800x450 pixels') + '.*Fix: restore the official tables'):
        check_camera_intrinsic(dict(filename=front['img_path'], width=800, height=450),
                               dict(token='CAM_FRONT', camera_intrinsic=front['cam2img']))


@pytest.mark.parametrize('config', ['baseline_synthstreet.py', 'hicl_synthstreet.py'])
def test_outdoor_configs_train_validate_and_test(config, street, tmp_path):
    cfg = street_config(street, config, tmp_path)
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.update(max_epochs=2, val_interval=2)
    if config == 'hicl_synthstreet.py':
        cfg.default_hooks.correlation_stages.update(correlation_epoch=0, feedback_epoch=1)
        cfg.model.num_samples = 64
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert 0 <= metrics['miou'] <= 1 and metrics['acc'] > 0.2
    run = subprocess.run([sys.executable, 'tools/test.py', str(REPO / 'configs' / config),
                          str(tmp_path / 'epoch_2.pth'), '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                          f'test_dataloader.dataset.data_root={street}', 'test_dataloader.num_workers=0',
                          'test_dataloader.persistent_workers=False',
                          f'model.decode_head.anchors_file={street}/text_anchors.npz'],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'driveable surface' in run.stdout + run.stderr and 'mIoU' in run.stdout + run.stderr
