"""Stopping a diverged training at once: a non-finite loss ends the run naming the iteration, before anything
is saved after it (SafeCheckpointHook also refuses to save non-finite weights), so the last checkpoints of the
work dir stay the last good ones."""
import math

import torch
from mmdet3d.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint

DIVERGENCE_FIX = ('lower the learning rate (--cfg-options optim_wrapper.optimizer.lr=...) or clip gradients '
                  '(optim_wrapper.clip_grad=dict(max_norm=10)), then train again or --resume from the last good '
                  'checkpoint')


class NonFiniteError(FloatingPointError):
    """A loss or a weight is NaN or infinite; the message names where and the fix."""


def non_finite_tensors(state):
    """Names of the floating-point tensors of ``state`` (a state_dict) that hold a NaN or an infinity."""
    return [name for name, value in state.items()
            if torch.is_tensor(value) and value.is_floating_point() and not bool(torch.isfinite(value).all())]


def _as_float(value):
    return float(value.detach().float().mean()) if torch.is_tensor(value) else float(value)


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """After every training iteration, stop with :class:`NonFiniteError` when a loss (every logged value whose
    name holds ``loss``) is NaN or infinite, naming the iteration, the loss and the last good checkpoint."""

    priority = 'VERY_HIGH'  # before anything else looks at the iteration

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        bad = {name: _as_float(value) for name, value in (outputs or {}).items()
               if 'loss' in name and not math.isfinite(_as_float(value))}
        if not bad:
            return
        last = find_latest_checkpoint(runner.work_dir) or 'none yet'
        values = ', '.join(f'{name} = {value}' for name, value in bad.items())
        raise NonFiniteError(
            f'training diverged at iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch {batch_idx + 1}): '
            f'{values}. Stopped before saving anything after it; the last good checkpoint is {last}. Fix: '
            f'{DIVERGENCE_FIX}.')
