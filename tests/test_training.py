"""End to end on a tiny SynthRooms set: train, checkpoint, resume, test CLI, and 2-process DDP on CPU (gloo)."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from hicl.engine.export import export_3d_net
from tests.conftest import EXACT_LABELLER, REPO, TINY_LABEL_SIZE, TINY_PSEUDO_LABELS

CONFIG = str(REPO / 'configs' / 'baseline_synthrooms.py')
HICL_CONFIG = str(REPO / 'configs' / 'hicl_synthrooms.py')


def tiny_overrides(root, max_epochs, batch_size=2):
    """--cfg-options for the tiny set: its data root, exact labels (and the labeller settings that made them,
    which training checks the cache against), few epochs, no worker processes."""
    return {
        **{f'pseudo_labels.labeller.{key}': value for key, value in EXACT_LABELLER.items()},
        'pseudo_labels.label_size': TINY_LABEL_SIZE,
        'train_dataloader.batch_size': batch_size, 'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False, 'train_dataloader.dataset.data_root': str(root),
        'train_dataloader.dataset.data_prefix.pseudo_labels': TINY_PSEUDO_LABELS,
        'val_dataloader.num_workers': 0, 'val_dataloader.persistent_workers': False,
        'val_dataloader.dataset.data_root': str(root),
        'test_dataloader.num_workers': 0, 'test_dataloader.persistent_workers': False,
        'test_dataloader.dataset.data_root': str(root),
        'model.decode_head.anchors_file': str(root / 'text_anchors.npz'),
        'train_cfg.max_epochs': max_epochs, 'train_cfg.val_interval': 1,
        'default_hooks.logger.interval': 1,
    }


def tiny_config(root, work_dir, max_epochs, config=CONFIG):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(tiny_overrides(root, max_epochs))
    cfg.work_dir = str(work_dir)
    return cfg


def tiny_hicl_config(root, work_dir, max_epochs):
    """HICL on the tiny set with one epoch per stage: L_ce in epoch 1, + L^_ce in epoch 2, + L_kl in epoch 3."""
    cfg = tiny_config(root, work_dir, max_epochs, config=HICL_CONFIG)
    cfg.default_hooks.correlation_stages.update(correlation_epoch=1, feedback_epoch=2)
    cfg.model.num_samples = 64
    return cfg


def train_recording(cfg, *hooks):
    """Train the runner of ``cfg`` with ``hooks`` (e.g. a recorder) registered; returns the runner."""
    runner = Runner.from_cfg(cfg)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    return runner


class Interrupted(Exception):
    """What StopAfterEpoch raises."""


class StopAfterEpoch(Hook):
    """Stops training (raises Interrupted) after the checkpoint of epoch ``epochs`` (1-based) is written, as a
    killed run."""

    priority = 'LOWEST'  # after the checkpoint hook

    def __init__(self, epochs):
        self.epochs = epochs

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epochs:
            raise Interrupted(f'stopped after epoch {self.epochs}')


class RecordLosses(Hook):
    """The loss names and all names of the train step's outputs in each iteration; the necks' AdamW step counts and
    the schedulers' epochs when training starts."""

    def __init__(self):
        self.loss_names, self.output_names, self.necks_steps_at_start = [], [], None

    def before_train(self, runner):
        state = runner.optim_wrapper['necks'].optimizer.state_dict()['state']
        self.necks_steps_at_start = {key: float(value['step']) for key, value in state.items()}
        self.scheduler_epochs_at_start = {name: schedulers[0].last_step
                                          for name, schedulers in runner.param_schedulers.items()}
        self.scheduler_lengths = {name: (schedulers[0].T_max, schedulers[0].end)
                                  for name, schedulers in runner.param_schedulers.items()}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.loss_names.append(sorted(name for name in outputs if name.startswith('loss_')))
        self.output_names.append(sorted(outputs))


class CountIterations(Hook):
    def __init__(self):
        self.count = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.count += 1


def as_cli_options(overrides):
    return [f'{key}={value}' for key, value in overrides.items()]


def test_train_checkpoint_resume_and_test_cli(synthrooms_tiny, tmp_path):
    work_dir = tmp_path / 'work'
    runner = Runner.from_cfg(tiny_config(synthrooms_tiny, work_dir, max_epochs=2))
    runner.train()
    assert (work_dir / 'epoch_2.pth').is_file() and runner.epoch == 2
    val_miou = runner.message_hub.get_scalar('val/miou').current()
    assert 0.0 <= val_miou <= 1.0

    cfg = tiny_config(synthrooms_tiny, work_dir, max_epochs=3)
    cfg.resume, cfg.load_from = True, str(work_dir / 'epoch_2.pth')
    counter = CountIterations()
    resumed = train_recording(cfg, counter)
    assert resumed.epoch == 3 and (work_dir / 'epoch_3.pth').is_file()
    assert counter.count == 1  # 2 scenes, batch 2: only the third epoch's single iteration ran

    out = subprocess.run(
        [sys.executable, 'tools/test.py', CONFIG, str(work_dir / 'epoch_3.pth'), '--work-dir', str(tmp_path / 'test'),
         '--save-preds', str(tmp_path / 'preds'), '--cfg-options',
         *as_cli_options(tiny_overrides(synthrooms_tiny, 3))],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'mIoU' in out.stdout + out.stderr and 'other furniture' in out.stdout + out.stderr
    assert len(list((tmp_path / 'preds').glob('*.npy'))) == 1  # one val scene


def test_hicl_stages_two_optimizers_resume_and_inference_without_necks(synthrooms_tiny, tmp_path):
    work_dir = tmp_path / 'work'
    recorder = RecordLosses()
    with pytest.raises(Interrupted):  # a 3-epoch run killed after its second epoch's checkpoint
        train_recording(tiny_hicl_config(synthrooms_tiny, work_dir, max_epochs=3), recorder, StopAfterEpoch(2))
    assert recorder.loss_names == [['loss_ce'], ['loss_ce', 'loss_inter', 'loss_intra']]  # one iteration per epoch
    # the configs leave the cosine's length to the runner: each optimizer's schedule spans train_cfg.max_epochs
    assert recorder.scheduler_lengths == {'net': (3, 3), 'necks': (3, 3)}
    checkpoint = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    assert set(checkpoint['optimizer']) == {'net', 'necks'} and set(checkpoint['param_schedulers']) == {'net', 'necks'}
    necks_state = checkpoint['optimizer']['necks']['state']
    assert necks_state and all(float(state['step']) == 1 for state in necks_state.values())  # AdamW ran once
    assert any(key.startswith('inter_scene_neck.') for key in checkpoint['state_dict'])

    cfg = tiny_hicl_config(synthrooms_tiny, work_dir, max_epochs=3)
    cfg.resume, cfg.load_from = True, str(work_dir / 'epoch_2.pth')
    cfg.default_hooks.correlation_instruments.interval = 1  # the documented switch: measure every iteration
    recorder = RecordLosses()
    runner = train_recording(cfg, recorder)
    assert recorder.loss_names == [['loss_ce', 'loss_inter', 'loss_intra', 'loss_kl']]  # the stage survived
    assert recorder.output_names == [['loss', 'loss_ce', 'loss_inter', 'loss_intra', 'loss_kl']]  # losses only
    logged = runner.message_hub.log_scalars  # the instruments went to the log beside them
    assert {'train/intra_change', 'train/acc_inter', 'train/agreement', 'train/loss_kl'} <= set(logged)
    assert recorder.necks_steps_at_start == {key: 1.0 for key in necks_state}  # the necks' optimizer was restored
    # both schedules were restored after their second step (a fresh one would start at 0)
    assert recorder.scheduler_epochs_at_start == {'net': 2, 'necks': 2}

    exported = tmp_path / 'hicl_3d_net.pth'
    export_cfg = tiny_hicl_config(synthrooms_tiny, work_dir, max_epochs=3)
    assert export_3d_net(export_cfg, str(work_dir / 'epoch_3.pth'), str(exported))[1] > 0  # neck tensors left out
    weights = torch.load(exported, weights_only=True)
    assert set(weights) == {'meta', 'state_dict'} and weights['state_dict']._metadata  # module versions kept
    assert not any(key.startswith(('intra_scene_neck.', 'inter_scene_neck.')) for key in weights['state_dict'])
    predictions = {}
    # one thread: spconv's multi-threaded CPU kernels sum in a varying order, so that two runs of the SAME
    # checkpoint can already differ on a few near-tie points (4 of 11,147 seen here); single-threaded they agree
    single_thread = dict(os.environ, OMP_NUM_THREADS='1')
    for name, checkpoint in (('trained', work_dir / 'epoch_3.pth'), ('exported', exported)):
        out = subprocess.run(  # tools/test.py builds the 3D net only: both load, exactly
            [sys.executable, 'tools/test.py', HICL_CONFIG, str(checkpoint), '--work-dir', str(tmp_path / 'test'),
             '--save-preds', str(tmp_path / name), '--cfg-options',
             *as_cli_options(tiny_overrides(synthrooms_tiny, 3))],
            cwd=REPO, capture_output=True, text=True, timeout=600, env=single_thread)
        log = out.stdout + out.stderr
        assert out.returncode == 0, log[-3000:]
        assert 'mIoU' in log and 'unexpected key' not in log and 'missing key' not in log
        predictions[name] = {path.name: np.load(path) for path in (tmp_path / name).glob('*.npy')}
    assert predictions['trained'].keys() == predictions['exported'].keys() and predictions['trained']
    for scene, labels in predictions['trained'].items():
        differ = labels != predictions['exported'][scene]
        assert not differ.any(), f'{scene}: {differ.sum()} of {len(labels)} points predicted differently'


@pytest.mark.skipif(sys.platform != 'linux', reason='torchrun with gloo is exercised on Linux')
def test_dist_train_two_processes_gloo(synthrooms_tiny, tmp_path):
    """Full HICL from the first epoch under torchrun: DDP, the inter-scene gather across ranks, two optimizers."""
    env = dict(os.environ, PYTHON=sys.executable, PORT='29517', OMP_NUM_THREADS='1')
    out = subprocess.run(
        ['bash', 'tools/dist_train.sh', HICL_CONFIG, '2', '--work-dir', str(tmp_path), '--cfg-options',
         *as_cli_options(tiny_overrides(synthrooms_tiny, 1, batch_size=1)), 'model.num_samples=64',
         'default_hooks.correlation_stages.correlation_epoch=0', 'default_hooks.correlation_stages.feedback_epoch=0'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log
    assert 'Epoch(train) [1][1/1]' in log  # 2 scenes at batch 1 over 2 processes: one iteration each
    assert 'loss_inter' in log and 'loss_kl' in log and 'necks.lr' in log
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=False)
    # one step of each optimizer; the necks' one updated every neck tensor (the necks hold no buffers): with DDP's
    # find_unused_parameters their gradients came through the correlation losses of both ranks
    optimizer = checkpoint['optimizer']
    assert {float(entry['step']) for name in ('net', 'necks') for entry in optimizer[name]['state'].values()} == {1.0}
    neck_tensors = [key for key in checkpoint['state_dict']
                    if key.startswith(('intra_scene_neck.', 'inter_scene_neck.'))]
    assert len(optimizer['necks']['state']) == len(neck_tensors) > 0 and optimizer['net']['state']
    assert checkpoint['meta']['epoch'] == 1 and checkpoint['meta']['iter'] == 1
