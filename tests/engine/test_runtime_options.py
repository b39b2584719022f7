"""The command-line options of tools/train.py and tools/test.py: clear errors and warnings instead of tracebacks
or silently ignored settings."""
import argparse
import os
import subprocess
import sys

import pytest

from hicl.engine import add_runner_arguments, configure_resume, load_runner_config
from hicl.engine.config_options import ConfigOptionError
from tests.conftest import REPO

CONFIG = str(REPO / 'configs' / 'baseline_synthrooms.py')
HICL_CONFIG = str(REPO / 'configs' / 'hicl_synthrooms.py')


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


def runner_args(config=CONFIG, **options):
    return argparse.Namespace(config=config, cfg_options=options, launcher='none', work_dir=None)


@pytest.mark.parametrize('key, message', [
    # a top-level key the config does not have: nothing would read it
    ('max_epochs', "--cfg-options max_epochs=1: the config has no key 'max_epochs', so the option would change "
                   r"nothing \(closest: train_cfg.max_epochs\)"),
    ('train_cgf.max_epochs', "the config has no key 'train_cgf', so the option would change nothing "
                             r"\(closest: train_cfg"),
    # a new key that its component does not take: it would fail later on a bare TypeError, or be ignored
    ('train_cfg.max_epoch', "train_cfg is a EpochBasedTrainLoop, which takes no argument 'max_epoch' "
                            r"\(closest: max_epochs\)"),
    ('model.backbone.base_channel',
     r"model.backbone is a MinkUNetSpconvBackbone, which takes no argument 'base_channel' \(closest: base_channels"),
    ('pseudo_labels.labeller.token_sise', "pseudo_labels.labeller is a SimulatedVLMLabeller, which takes no "
                                          r"argument 'token_sise' \(closest: token_size"),
])
def test_an_option_that_the_config_cannot_take_is_refused_naming_the_closest_keys(key, message):
    with pytest.raises(ConfigOptionError, match=message):
        load_runner_config(runner_args(**{key: 1}))


def test_new_keys_that_their_components_take_are_merged():
    options = {'model.sample_every_set': True, 'default_hooks.checkpoint.allow_settings_mismatch': True,
               'train_cfg.val_begin': 3}
    cfg = load_runner_config(runner_args(HICL_CONFIG, **options))
    assert cfg.model.sample_every_set is True and cfg.train_cfg.val_begin == 3
    assert cfg.default_hooks.checkpoint.allow_settings_mismatch is True


def test_train_cli_refuses_an_option_that_would_change_nothing_before_training(tmp_path):
    out = subprocess.run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--cfg-options',
                          'max_epochs=1'], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "error: --cfg-options max_epochs=1: the config has no key 'max_epochs'" in out.stderr
    assert 'Traceback' not in out.stderr and not os.listdir(tmp_path)
