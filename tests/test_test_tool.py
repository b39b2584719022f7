"""tools/test.py refuses a --save-preds folder it cannot write and a vocabulary that scores no class before it
builds the runner."""
import errno
import json
import os
import runpy
import sys

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from hicl.pseudo_labels.anchors import save_text_anchors
from tests.conftest import REPO
from tests.test_training import CONFIG

TOOL = REPO / 'tools' / 'test.py'


class RunnerBuilt(Exception):
    """Raised in place of building the runner: the tool got past its checks."""


@pytest.fixture
def test_tool(monkeypatch, tmp_path):
    """run(*options): tools/test.py CONFIG CKPT --work-dir <tmp>/work *options, with the runner's construction
    replaced by raising RunnerBuilt."""
    def from_cfg(cfg):
        raise RunnerBuilt()
    monkeypatch.setattr(Runner, 'from_cfg', from_cfg)

    def run(*options):
        monkeypatch.setattr(sys, 'argv', [str(TOOL), CONFIG, str(tmp_path / 'model.pth'), '--work-dir',
                                          str(tmp_path / 'work'), *options])
        runpy.run_path(str(TOOL), run_name='__main__')
    return run


def save_preds_error(run, capsys, folder):
    with pytest.raises(SystemExit) as stop:
        run('--save-preds', str(folder))
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_save_preds_onto_a_file_is_refused(test_tool, capsys, tmp_path):
    (tmp_path / 'preds').write_text('a file')
    err = save_preds_error(test_tool, capsys, tmp_path / 'preds')
    assert (f'--save-preds: cannot write into the folder {tmp_path / "preds"}: it is a file, not a folder; pass a '
            'folder that can be created and written to, on a disk with free space') in err, err


def test_save_preds_in_a_read_only_folder_is_refused(test_tool, capsys, tmp_path, monkeypatch):
    real_open = os.open

    def read_only_open(path, flags, *args, **kwargs):  # root ignores chmod: the file system's refusal, simulated
        if str(path).startswith(str(tmp_path / 'preds')) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, 'Permission denied', path)
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, 'open', read_only_open)
    err = save_preds_error(test_tool, capsys, tmp_path / 'preds')
    assert f'--save-preds: cannot write into the folder {tmp_path / "preds"}: Permission denied' in err, err


def test_a_writable_save_preds_folder_is_created_and_left_empty(test_tool, tmp_path):
    with pytest.raises(RunnerBuilt):
        test_tool('--save-preds', str(tmp_path / 'new' / 'preds'))
    assert os.listdir(tmp_path / 'new' / 'preds') == []


def test_a_vocabulary_mapping_every_name_to_null_is_refused(test_tool, tmp_path):
    save_text_anchors(str(tmp_path / 'anchors.npz'), np.eye(2, 512, dtype=np.float32), ['rug', 'lamp'],
                      dict(kind='test'))
    path = tmp_path / 'nothing.json'
    path.write_text(json.dumps(dict(anchors_file=str(tmp_path / 'anchors.npz'), names=dict(rug=None, lamp=None))))
    with pytest.raises(ValueError, match=f'{path}: every name maps to null, so no class would be scored'):
        test_tool('--vocabulary', str(path))


def test_device_cuda_without_a_gpu_stops_before_the_runner(test_tool, monkeypatch, capsys):
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    with pytest.raises(SystemExit) as stop:
        test_tool('--device', 'cuda')
    assert 'error: device cuda: torch.cuda.is_available() is False' in str(stop.value.code)
    with pytest.raises(SystemExit) as stop:  # the config's device key, as --cfg-options device=cuda sets it
        test_tool('--cfg-options', 'device=cuda')
    assert 'error: device cuda' in str(stop.value.code)


def test_the_net_is_moved_to_the_named_device_after_the_runner_placed_it(monkeypatch, tmp_path, capsys):
    """The runner puts the model on CUDA whenever there is a GPU; --device cpu moves it back before testing."""
    placed = []

    class FakeRunner:
        model = torch.nn.Linear(1, 1)

        def test(self):
            placed.append(next(self.model.parameters()).device.type)
    monkeypatch.setattr(Runner, 'from_cfg', lambda cfg: FakeRunner())
    monkeypatch.setattr(FakeRunner.model, 'to', lambda device: placed.append(device) or FakeRunner.model)
    monkeypatch.setattr(sys, 'argv', [str(TOOL), CONFIG, str(tmp_path / 'model.pth'), '--work-dir',
                                      str(tmp_path / 'work'), '--device', 'cpu'])
    runpy.run_path(str(TOOL), run_name='__main__')
    assert placed == ['cpu', 'cpu'] and 'testing on cpu' in capsys.readouterr().out
