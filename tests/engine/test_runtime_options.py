"""The command-line options of tools/train.py and tools/test.py: clear errors and warnings instead of tracebacks
or silently ignored settings."""
import argparse
import subprocess
import sys

import pytest

from hicl.engine import add_runner_arguments, configure_resume, load_runner_config
from tests.conftest import REPO

CONFIG = str(REPO / 'configs' / 'baseline_synthrooms.py')


def test_an_option_without_equals_is_a_usage_error(capsys):
    parser = add_runner_arguments(argparse.ArgumentParser())
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(['--cfg-options', 'train_cfg.max_epochs=2', 'max_epochs'])
    assert exit_info.value.code == 2
    assert "--cfg-options takes KEY=VALUE pairs, got 'max_epochs'" in capsys.readouterr().err


def test_setting_a_variable_of_the_config_file_warns_and_names_the_keys_to_set():
    args = argparse.Namespace(config=CONFIG, cfg_options={'lr': 0.1, 'train_cfg.val_interval': 5},
                              launcher='none', work_dir=None)
    with pytest.warns(UserWarning) as warnings:
        cfg = load_runner_config(args)
    assert len(warnings) == 1
    message = str(warnings[0].message)
    assert "--cfg-options lr: 'lr' is a variable of the config file" in message
    assert 'keep its value 0.002, so this option has no effect' in message
    assert 'set optim_wrapper.optimizer.lr instead' in message
    assert cfg.optim_wrapper.optimizer.lr == 2e-3 and cfg.train_cfg.val_interval == 5


def test_resume_without_a_checkpoint_is_refused(tmp_path):
    cfg = argparse.Namespace(work_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f'no checkpoint to resume from in {tmp_path}'):
        configure_resume(cfg, 'auto')
    (tmp_path / 'epoch_3.pth').touch()
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    configure_resume(cfg, 'auto')
    assert cfg.resume and cfg.load_from == str(tmp_path / 'epoch_3.pth')


def test_train_cli_resume_in_an_empty_work_dir_exits_with_the_reason(tmp_path):
    out = subprocess.run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--resume'],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert f'error: --resume: no checkpoint to resume from in {tmp_path}' in out.stderr
    assert 'Traceback' not in out.stderr
