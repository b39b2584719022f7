"""Checkpoints that are never half-written, never lost to a failed save, and never loaded into the wrong net.

- :class:`AtomicLocalBackend` writes every file to a temporary name in its folder, then renames it: a crash or
  ``kill -9`` during a save leaves the previous files and at most a ``*.tmp<pid>`` file, never a truncated
  checkpoint under a checkpoint's name.
- :class:`SafeCheckpointHook` (mmengine's CheckpointHook on that backend) deletes a checkpoint it replaces (the
  previous best, the oldest beyond ``max_keep_ckpts``) only after the new one is complete, and checks every
  checkpoint the runner loads (``load_from``, ``--resume``, ``tools/test.py``) against the model and the data:
  a missing, unexpected or mis-shaped key of the 3D net, missing version metadata, or another label set is an
  error naming them. Only the training-only modules (``HICLSegmentor.TRAINING_ONLY_MODULES``: the correlation
  necks and the feedback loss) may be absent from the checkpoint or ignored in it.
"""
import contextlib
import re

from mmdet3d.registry import HOOKS
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from ..fileio import atomic_write
from ..models import HICLSegmentor

ATOMIC_LOCAL_BACKEND = 'hicl_atomic_local'
MAX_KEYS_NAMED = 5


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes go to a temporary file first, then ``os.replace``."""

    def put(self, obj, filepath):
        atomic_write(str(filepath), lambda file: file.write(obj))

    def put_text(self, obj, filepath, encoding='utf-8'):
        self.put(obj.encode(encoding), filepath)


register_backend(ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, force=True)


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model or the data it is loaded for; the message names what differs."""


def _named(keys):
    """The first MAX_KEYS_NAMED of ``keys`` and how many more."""
    keys = sorted(keys)
    more = f' and {len(keys) - MAX_KEYS_NAMED} more' if len(keys) > MAX_KEYS_NAMED else ''
    return ', '.join(keys[:MAX_KEYS_NAMED]) + more


def state_dict_mismatches(model_state, checkpoint_state, optional_prefixes=HICLSegmentor.TRAINING_ONLY_MODULES):
    """What keeps ``checkpoint_state`` from loading exactly into a model whose state_dict is ``model_state``.

    Keys under ``optional_prefixes`` (module names) may be absent on either side. Returns a list of
    human-readable problems (empty when it fits): missing, unexpected and mis-shaped keys, and a state_dict
    without ``_metadata`` (the module versions; without them mmdet3d reads sparse-conv weights in spconv 1's
    layout and loads them wrong).
    """
    optional = tuple(f'{name}.' for name in optional_prefixes)
    model_keys = {key for key in model_state if not key.startswith(optional)}
    checkpoint_keys = {key for key in checkpoint_state if not key.startswith(optional)}
    problems = []
    if model_keys - checkpoint_keys:
        problems.append(f'missing keys: {_named(model_keys - checkpoint_keys)}')
    if checkpoint_keys - model_keys:
        problems.append(f'unexpected keys: {_named(checkpoint_keys - model_keys)}')
    mis_shaped = [f'{key} {tuple(checkpoint_state[key].shape)} (model {tuple(model_state[key].shape)})'
                  for key in sorted(model_keys & checkpoint_keys)
                  if tuple(checkpoint_state[key].shape) != tuple(model_state[key].shape)]
    if mis_shaped:
        problems.append(f'mis-shaped keys: {_named(mis_shaped)}')
    if getattr(checkpoint_state, '_metadata', None) is None:
        problems.append('no module version metadata (state_dict._metadata): sparse-conv weights would be read in '
                        'the wrong layout; re-export the net from its training checkpoint with '
                        'tools/export_3d_net.py')
    return problems


def check_state_dict(model_state, checkpoint_state, source):
    """Raise :class:`CheckpointMismatchError` naming ``source`` unless the checkpoint fits the model exactly
    (see :func:`state_dict_mismatches`)."""
    problems = state_dict_mismatches(model_state, checkpoint_state)
    if problems:
        raise CheckpointMismatchError(
            f'{source} does not fit the model of this config:\n  ' + '\n  '.join(problems)
            + '\nUse the config the checkpoint was trained with (or one with the same backbone, head and classes).')


def check_label_set(checkpoint_meta, classes, source):
    """Raise :class:`CheckpointMismatchError` when the checkpoint was trained on other classes than ``classes``
    (the dataset's, in order). Checkpoints without a recorded label set pass (nothing to compare)."""
    trained = (checkpoint_meta or {}).get('dataset_meta', {}).get('classes')
    if trained is not None and classes is not None and list(trained) != list(classes):
        raise CheckpointMismatchError(
            f'{source} was trained on the label set {list(trained)} ({len(trained)} classes), but this config\'s '
            f'dataset has {list(classes)} ({len(classes)} classes): use the config the checkpoint was trained with')


def running_dataset_classes(runner):
    """The class names of the dataset of the loop the runner is running (train, else test, else val), or None."""
    for loop in (runner._train_loop, runner._test_loop, runner._val_loop):
        if isinstance(loop, BaseLoop):
            return loop.dataloader.dataset.metainfo.get('classes')
    return None


class _RemovalsDeferred:
    """A file backend proxy that records ``remove`` / ``rmtree`` calls instead of running them."""

    def __init__(self, backend):
        self._backend, self.paths = backend, []

    def remove(self, path):
        self.paths.append(path)

    rmtree = remove

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's CheckpointHook with atomic writes, replacements deleted only after the new file is complete,
    and checks of every loaded checkpoint (see the module docstring). Takes CheckpointHook's arguments."""

    def __init__(self, *args, backend_args=None, **kwargs):
        super().__init__(*args, backend_args=backend_args or dict(backend=ATOMIC_LOCAL_BACKEND), **kwargs)

    def _save_checkpoint_with_step(self, runner, step, meta):
        with self._removals_after_save():
            super()._save_checkpoint_with_step(runner, step, meta)

    def _save_best_checkpoint(self, runner, metrics):
        with self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)

    @contextlib.contextmanager
    def _removals_after_save(self):
        """Defer the deletions CheckpointHook makes while saving until the save has completed; a failed save
        (an exception) deletes nothing."""
        backend, deferred = self.file_backend, _RemovalsDeferred(self.file_backend)
        self.file_backend = deferred
        try:
            yield
        finally:
            self.file_backend = backend
        current = {self.last_ckpt, getattr(self, 'best_ckpt_path', None),
                   *(getattr(self, 'best_ckpt_path_dict', None) or {}).values()}
        for path in deferred.paths:
            if path not in current and backend.exists(path):
                (backend.rmtree if backend.isdir(path) else backend.remove)(path)

    def after_load_checkpoint(self, runner, checkpoint):
        """Refuse a checkpoint that does not fit the model (keys, shapes, version metadata) or was trained on
        another label set, before the runner loads it."""
        source = f'checkpoint {runner.cfg.get("load_from") or "resumed from " + runner.work_dir}'
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = checkpoint.get('state_dict', checkpoint)
        if any(key.startswith('module.') for key in state):  # what mmengine's revise_keys strips when loading
            metadata = getattr(state, '_metadata', None)
            state = type(state)((re.sub(r'^module\.', '', key), value) for key, value in state.items())
            if metadata is not None:
                state._metadata = metadata
        check_state_dict(model.state_dict(), state, source)
        check_label_set(checkpoint.get('meta'), running_dataset_classes(runner), source)
        if not (checkpoint.get('meta') or {}).get('dataset_meta', {}).get('classes'):
            runner.logger.warning(f'{source} records no label set (meta.dataset_meta.classes): make sure it was '
                                  'trained on the classes of this config')
