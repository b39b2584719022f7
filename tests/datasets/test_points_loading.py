"""Points files and their per-point files (masks, sets) that cannot give one usable value per point are refused
where the pipelines of the dataset configs load them, naming the file (and the scene) and the fix."""
import re
import shutil

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from hicl.dataset_io import PointsFileError, read_lidar_points
from hicl.datasets import LabelFreeScanNetDataset
from hicl.datasets.transforms import LoadPointSets
from tests.conftest import REPO

POINTS_FIX = 'convert the dataset again (python tools/create_data.py ... --overwrite) or re-download the file'
PER_POINT_FIX = 'the two files belong to different versions of the scene: convert the dataset again'


@pytest.fixture
def val_copy(synthrooms_tiny, tmp_path):
    """A copy of the tiny SynthRooms data root without the raw frames and labels, which the test pipeline does not
    read (its one val scene is changed by the tests)."""
    root = tmp_path / 'data'
    shutil.copytree(synthrooms_tiny, root, ignore=shutil.ignore_patterns('raw', 'pseudo_labels'))
    return root


def config_test_dataset(root):
    """The val dataset of the SynthRooms config, with the config's test pipeline (points and semantic mask)."""
    init_default_scope('mmdet3d')
    cfg = Config.fromfile(str(REPO / 'configs' / 'baseline_synthrooms.py'))
    dataset = dict(cfg.val_dataloader.dataset, data_root=str(root))
    dataset.pop('type')
    return LabelFreeScanNetDataset(**dataset)


def nan_in_a_point(values):
    values[6 * 17 + 2] = np.nan
    return values, r'has NaN or Inf values in 1 of its \d+ points \(the first: row 17\)'


def a_partial_point(values):
    return values[:-2], r'holds \d+ float32 values, not a multiple of 6 values per point \(a truncated file, or ' \
        r'points of another width\)'


def no_points(values):
    return values[:0], 'holds no points'


@pytest.mark.parametrize('corrupt', [nan_in_a_point, a_partial_point, no_points])
def test_the_config_pipelines_refuse_a_points_file_naming_it_and_the_fix(val_copy, corrupt):
    path = val_copy / 'points' / 'scene0002_00.bin'
    values, problem = corrupt(np.fromfile(path, dtype=np.float32))
    values.tofile(path)
    with pytest.raises(PointsFileError, match=f'points file {re.escape(str(path))} {problem}: '
                                              f'{re.escape(POINTS_FIX)}'):
        config_test_dataset(val_copy)[0]


def test_a_points_file_of_a_broken_float_is_refused(tmp_path):
    from hicl.datasets.transforms import LoadPointsChecked
    path = tmp_path / 'sweep.pcd.bin'
    path.write_bytes(np.zeros(10, np.float32).tobytes() + b'\0\0')
    with pytest.raises(PointsFileError, match=f'points file {re.escape(str(path))} is not a sequence of float32 '
                                              'values'):
        LoadPointsChecked(coord_type='LIDAR', load_dim=5, use_dim=[0, 1, 2, 3])(dict(lidar_points=dict(
            lidar_path=str(path))))


def test_lidar_sweeps_with_nan_values_are_refused(tmp_path):
    path = tmp_path / 'sweep.pcd.bin'
    values = np.ones((4, 5), np.float32)
    values[3, 0] = np.inf
    values.tofile(path)
    with pytest.raises(PointsFileError, match=f'LiDAR file {re.escape(str(path))} has NaN or Inf values in 1 of its 4 '
                                              'points \\(the first: row 3\\): the file is truncated or corrupt'):
        read_lidar_points(str(path))


@pytest.mark.parametrize('config', ['baseline_synthrooms.py', 'baseline_synthstreet.py', 'hicl_scannet.py',
                                    'hicl_nuscenes.py'])
def test_the_dataset_configs_load_points_and_masks_with_the_checked_loaders(config):
    cfg = Config.fromfile(str(REPO / 'configs' / config))
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline):
        assert pipeline[0]['type'] == 'LoadPointsChecked'
        assert 'LoadAnnotations3D' not in [step['type'] for step in pipeline]
    assert 'LoadAnnotations3DChecked' in [step['type'] for step in cfg.test_dataloader.dataset.pipeline]


def test_a_semantic_mask_of_another_point_count_is_refused_naming_the_scene_and_both_files(val_copy):
    mask = val_copy / 'semantic_mask' / 'scene0002_00.bin'
    labels = np.fromfile(mask, dtype=np.int64)
    labels[:-3].tofile(mask)
    points = val_copy / 'points' / 'scene0002_00.bin'
    with pytest.raises(PointsFileError, match=re.escape(
            f'scene scene0002_00: {mask} holds {len(labels) - 3} semantic labels, but its points file {points} holds '
            f'{len(labels)} points: {PER_POINT_FIX}')):
        config_test_dataset(val_copy)[0]


def test_sets_of_another_point_count_are_refused_naming_the_scene_and_both_files(tmp_path):
    sets = tmp_path / 'sets.bin'
    np.arange(4, dtype=np.int64).tofile(sets)
    results = dict(scene_id='scene0005_00', lidar_points=dict(lidar_path='points/scene0005_00.bin'),
                   points=np.zeros((5, 6), np.float32), pts_sets_path=str(sets))
    with pytest.raises(PointsFileError, match=re.escape(
            f'scene scene0005_00: {sets} holds 4 set ids, but its points file points/scene0005_00.bin holds 5 points: '
            'run tools/create_data.py')):
        LoadPointSets()(results)
