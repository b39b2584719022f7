"""The tables of tools/benchmark.py, from hand-made results."""
from mmengine.config import Config

from hicl.experiments.benchmark_report import (demo_sweep, segmentator_reference_table, sweep_backbone_models,
                                               sweep_points, table)
from tests.conftest import REPO


def test_table_rule_is_as_wide_as_the_header():
    assert table('a    b', ['1    2']).split('\n') == ['', 'a    b', '------', '1    2']


def test_segmentator_reference_ratio_is_ours_with_reading_over_the_cpp_tool():
    row = dict(k=0.01, min_size=20, vertices=1000, sets=12, reference_sets=12, ari=1.0, seconds=0.3,
               read_seconds=0.1, cpp_seconds=0.5)
    lines = segmentator_reference_table([row, dict(row, cpp_seconds=None)]).split('\n')
    assert lines[3].split()[-2:] == ['0.500', '0.80']  # (0.3 + 0.1) / 0.5
    assert lines[4].split()[-2:] == ['-', '-']


def test_sweep_backbone_models_swap_in_minkunet_and_keep_the_spvcnn_config():
    model = Config.fromfile(str(REPO / 'configs/_base_/models/spvcnn_clip.py')).model
    (mink_name, minkunet), (spv_name, spvcnn) = sweep_backbone_models(model)
    assert minkunet.backbone['type'] == 'MinkUNetSpconvBackbone'
    assert 'drop_ratio' not in minkunet.backbone and 'drop_ratio' in spvcnn.backbone
    assert spvcnn is model and minkunet.data_preprocessor == model.data_preprocessor


def test_without_shared_data_the_synthetic_sweep_is_used(tmp_path):
    assert demo_sweep(None) is None and demo_sweep(str(tmp_path)) is None
    points = sweep_points(None)
    assert points.shape == (32 * 1084, 4) and (points[:, 3] == 20.0).all()
