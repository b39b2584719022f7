"""The install profiles build mmcv with its CPU ops only, also for the GPU: this checks the reason. Training
(every HICL stage: both necks and the feedback loss), validation and testing of the demo config, and the outdoor
model on the real nuScenes sweep, call no compiled mmcv op (mmcv._ext): nothing in them would run a CPU kernel on
CUDA tensors, or need mmcv's CUDA build."""
import mmcv._ext
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from hicl.inference import predict_scan
from hicl.label_sets import get_label_set
from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors
from hicl.scans import normalise_scan, read_scan
from tests.conftest import REPO
from tests.test_training import tiny_hicl_config


@pytest.fixture
def compiled_op_calls(monkeypatch):
    """The names of the mmcv._ext functions called while the test runs (mmcv's ops look them up on the module at
    every call: load_ext returns the module itself)."""
    calls = []
    for name in dir(mmcv._ext):
        function = getattr(mmcv._ext, name)
        if not name.startswith('_') and callable(function):
            monkeypatch.setattr(mmcv._ext, name,
                                lambda *args, _name=name, _function=function, **kwargs: calls.append(_name) or
                                _function(*args, **kwargs))
    return calls


def test_the_counter_sees_a_compiled_op(compiled_op_calls):
    from mmcv.ops import nms
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]])
    nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)  # an op of mmcv._ext with a CPU kernel
    assert compiled_op_calls == ['nms']


def test_training_every_stage_and_testing_call_no_compiled_mmcv_op(synthrooms_tiny, tmp_path, compiled_op_calls):
    cfg = tiny_hicl_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    cfg.default_hooks.correlation_stages.update(correlation_epoch=0, feedback_epoch=0)  # all losses in epoch 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    runner.test()
    assert compiled_op_calls == []


def test_the_outdoor_model_calls_no_compiled_mmcv_op(shared_data, tmp_path, compiled_op_calls):
    cfg = Config.fromfile(str(REPO / 'configs' / 'baseline_synthstreet.py'))
    init_default_scope('mmdet3d')
    anchors = str(tmp_path / 'anchors.npz')
    save_text_anchors(anchors, random_orthonormal_anchors(16, 512), list(get_label_set('nuscenes16')['classes']), {})
    model = MODELS.build(dict(cfg.model, decode_head=dict(cfg.model.decode_head, anchors_file=anchors)))
    scan, _ = normalise_scan(read_scan(next((shared_data / 'nuscenes_demo').glob('*.pcd.bin'))))
    predict_scan(model.eval(), cfg, scan)
    assert compiled_op_calls == []
