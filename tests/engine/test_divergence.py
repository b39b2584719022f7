"""A diverged training stops at the first non-finite loss, naming the iteration, and never saves non-finite
weights: the last good checkpoints of the work dir stay as they were."""
import math
import os
from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import Hook

from hicl.engine import FiniteLossHook, NonFiniteError
from tests.test_training import tiny_config, train_recording


def test_a_nan_or_infinite_loss_stops_naming_the_iteration_and_the_loss(tmp_path):
    runner = SimpleNamespace(iter=7, epoch=1, work_dir=str(tmp_path))
    hook = FiniteLossHook()
    hook.after_train_iter(runner, 2, outputs=dict(loss=torch.tensor(1.5), loss_ce=torch.tensor(1.5)))
    # values that are not losses (the correlation instruments) may be anything
    hook.after_train_iter(runner, 2, outputs=dict(loss=torch.tensor(1.5), intra_scene_neck_change=math.nan))
    with pytest.raises(NonFiniteError, match=r'training diverged at iteration 8 \(epoch 2, batch 3\): loss = nan, '
                                             r'loss_ce = inf\. .*the last good checkpoint is none yet'):
        hook.after_train_iter(runner, 2, outputs=dict(loss=torch.tensor(math.nan), loss_ce=torch.tensor(math.inf)))


class PoisonWeights(Hook):
    """Before the iteration ``at`` (0-based), sets one weight of the model to NaN: the loss of that iteration is
    NaN, as in a run whose learning rate made it diverge."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            with torch.no_grad():
                next(runner.model.parameters()).view(-1)[0] = math.nan


def test_training_stops_at_the_diverged_iteration_and_keeps_the_last_good_checkpoints(synthrooms_tiny, tmp_path):
    work_dir = tmp_path / 'work'
    cfg = tiny_config(synthrooms_tiny, work_dir, max_epochs=3)  # one iteration per epoch
    with pytest.raises(NonFiniteError, match=rf'diverged at iteration 2 \(epoch 2, batch 1\): loss = nan.*'
                                             rf'the last good checkpoint is {work_dir}/epoch_1.pth'):
        train_recording(cfg, PoisonWeights(at=1))
    assert sorted(name for name in os.listdir(work_dir) if '.pth' in name) == ['best_miou_epoch_1.pth',
                                                                               'epoch_1.pth']
    for name in ('best_miou_epoch_1.pth', 'epoch_1.pth'):
        state = torch.load(work_dir / name, weights_only=False)['state_dict']
        assert all(torch.isfinite(value).all() for value in state.values() if value.is_floating_point())


def test_non_finite_weights_are_never_saved_nor_replace_the_best(synthrooms_tiny, tmp_path):
    work_dir = tmp_path / 'work'
    runner = train_recording(tiny_config(synthrooms_tiny, work_dir, max_epochs=1))
    before = {name: (work_dir / name).read_bytes() for name in os.listdir(work_dir) if '.pth' in name}
    with torch.no_grad():
        next(runner.model.parameters()).view(-1)[0] = math.inf
    hook = next(hook for hook in runner.hooks if type(hook).__name__ == 'SafeCheckpointHook')
    runner.train_loop._epoch = 1
    with pytest.raises(NonFiniteError, match=rf'non-finite weights \(NaN or Inf\) in 1 of \d+ tensors: backbone\.'
                                             rf'.*Not saved: the checkpoints in {work_dir} are kept'):
        hook._save_checkpoint(runner)
    with pytest.raises(NonFiniteError, match='Not saved'):
        hook._save_best_checkpoint(runner, dict(miou=2.0))  # a better score, but non-finite weights
    assert {name: (work_dir / name).read_bytes() for name in os.listdir(work_dir) if '.pth' in name} == before
