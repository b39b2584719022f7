"""Exporting the 3D net of a training checkpoint: what inference needs, without the necks or optimizer state."""
import torch
from mmengine.runner import CheckpointLoader

from ..fileio import atomic_write
from .runtime import TRAINING_ONLY_MODULES


def export_3d_net(checkpoint_path, out_path):
    """Write ``out_path`` with the checkpoint's ``meta`` and its ``state_dict`` minus the correlation necks
    (inference runs the 3D net only); optimizer, scheduler and message-hub states are dropped.
    The file is written to a temporary name and renamed, so a failed export leaves nothing behind.
    Returns the number of tensors kept and dropped."""
    checkpoint = CheckpointLoader.load_checkpoint(checkpoint_path, map_location='cpu')
    if 'state_dict' not in checkpoint:
        raise KeyError(f'{checkpoint_path} has no state_dict: is it an mmengine training checkpoint?')
    prefixes = tuple(f'{name}.' for name in TRAINING_ONLY_MODULES)
    kept = {key: value for key, value in checkpoint['state_dict'].items() if not key.startswith(prefixes)}
    atomic_write(out_path, lambda file: torch.save(dict(meta=checkpoint.get('meta', {}), state_dict=kept), file))
    return len(kept), len(checkpoint['state_dict']) - len(kept)
