"""Exporting the 3D net of a training checkpoint: what inference needs, without the necks or optimizer state."""
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader

from ..fileio import atomic_write
from .checkpoints import check_finite, check_state_dict, check_trained_settings
from .runtime import inference_only


def load_3d_net(cfg, checkpoint_path, classes=None, allow_settings_mismatch=False):
    """(net, checkpoint dict): the config's 3D net (the model without the correlation necks) with the checkpoint
    loaded into it exactly. Refused: a missing, unexpected or mis-shaped key, or a voxel size or label set
    (``classes``: the dataset's class names, or None to skip) other than the config's
    (:class:`~hicl.engine.checkpoints.CheckpointMismatchError`; ``allow_settings_mismatch`` makes the latter a
    warning), and non-finite weights (:class:`~hicl.engine.finite.NonFiniteError`). ``cfg`` (an mmengine
    Config) is not modified."""
    checkpoint = CheckpointLoader.load_checkpoint(checkpoint_path, map_location='cpu')
    if 'state_dict' not in checkpoint:
        raise KeyError(f'{checkpoint_path} has no state_dict: is it an mmengine training checkpoint?')
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    net = MODELS.build(inference_only(cfg.copy()).model)
    source = f'checkpoint {checkpoint_path}'
    check_state_dict(net.state_dict(), checkpoint['state_dict'], source)
    check_finite(checkpoint['state_dict'], source)
    check_trained_settings(checkpoint.get('meta'), cfg, classes, source, allow_settings_mismatch)
    net.load_state_dict(checkpoint['state_dict'], strict=False)  # checked above: only training-only keys differ
    return net, checkpoint


def export_3d_net(cfg, checkpoint_path, out_path, allow_settings_mismatch=False):
    """Write ``out_path`` with the checkpoint's ``meta`` and the state_dict of the config's 3D net
    (:func:`load_3d_net`: inference runs the 3D net only); optimizer, scheduler and message-hub states are dropped.

    The written state_dict is the net's own, module version metadata included, so it loads exactly like the
    original (see :func:`load_3d_net` for what is refused). The file is written to a temporary name and renamed,
    so a failed export leaves nothing behind.
    Returns the number of tensors kept and dropped.
    """
    net, checkpoint = load_3d_net(cfg, checkpoint_path, allow_settings_mismatch=allow_settings_mismatch)
    weights = net.state_dict()
    atomic_write(out_path, lambda file: torch.save(dict(meta=checkpoint.get('meta', {}), state_dict=weights), file))
    return len(weights), len(checkpoint['state_dict']) - len(weights)
