"""Checkpoints that are never half-written, never lost to a failed save, and never loaded into the wrong net.

- :class:`AtomicLocalBackend` writes every file to a temporary name in its folder, then renames it: a crash or
  ``kill -9`` during a save leaves the previous files and at most a ``*.tmp<pid>`` file, never a truncated
  checkpoint under a checkpoint's name.
- :class:`SafeCheckpointHook` (mmengine's CheckpointHook on that backend) deletes a checkpoint it replaces (the
  previous best, the oldest beyond ``max_keep_ckpts``) only after the new one is complete, and checks every
  checkpoint the runner loads (``load_from``, ``--resume``, ``tools/test.py``) against the model and the data:
  a missing, unexpected or mis-shaped key of the 3D net, missing version metadata, or another label set is an
  error naming them. Only the training-only modules (``HICLSegmentor.TRAINING_ONLY_MODULES``: the correlation
  necks and the feedback loss) may be absent from the checkpoint or ignored in it. Non-finite weights are
  refused on loading and never saved; a checkpoint trained with another voxel size than the config's is refused
  at test time (:func:`trained_settings_mismatches`).
"""
import ast
import contextlib
import re
import warnings

from mmdet3d.registry import HOOKS
from mmengine.config import Config
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from ..fileio import atomic_write
from ..models import HICLSegmentor
from .finite import DIVERGENCE_FIX, NonFiniteError, non_finite_tensors

ATOMIC_LOCAL_BACKEND = 'hicl_atomic_local'
MAX_KEYS_NAMED = 5
# Config keys that change what the net sees without changing its weights' shapes: a checkpoint must be used with
# the values it was trained with (mmengine records the training config as text in meta['cfg']).
TRAINED_SETTINGS = ('model.data_preprocessor.voxel_layer.voxel_size',)
MISMATCH_FLAG = ('--allow-settings-mismatch (tools/test.py, query.py, visualize.py, export_3d_net.py; when training: '
                 '--cfg-options default_hooks.checkpoint.allow_settings_mismatch=True)')


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


def non_finite_weights(state):
    """'non-finite weights (NaN or Inf) in K of T tensors: <names>' for a state_dict holding any, else None."""
    bad = non_finite_tensors(state)
    return f'non-finite weights (NaN or Inf) in {len(bad)} of {len(state)} tensors: {_named(bad)}' if bad else None


def check_finite(state, source):
    """Raise :class:`~hicl.engine.finite.NonFiniteError` naming ``source`` when a tensor of ``state`` holds NaN or
    Inf: its predictions would be meaningless (e.g. one class everywhere)."""
    problem = non_finite_weights(state)
    if problem:
        raise NonFiniteError(f'{source} has {problem}. The training that wrote it diverged: use an earlier '
                             f'checkpoint of the run, or train again ({DIVERGENCE_FIX})')


def _dict_entry(node, key):
    """The value node of ``key`` in an ast ``dict(...)`` call or ``{...}`` literal, or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        return next((keyword.value for keyword in node.keywords if keyword.arg == key), None)
    if isinstance(node, ast.Dict):
        return next((value for name, value in zip(node.keys, node.values)
                     if isinstance(name, ast.Constant) and name.value == key), None)
    return None


def recorded_config_value(config_text, dotted_key):
    """The literal value of ``dotted_key`` (e.g. 'model.data_preprocessor.voxel_layer.voxel_size') in the config
    text mmengine records in a checkpoint (``meta['cfg']``), read with :mod:`ast` (nothing is executed); None when
    the text does not parse or the key is absent or not a literal."""
    top, *path = dotted_key.split('.')
    try:
        body = ast.parse(config_text).body
    except (SyntaxError, ValueError):
        return None
    node = None
    for statement in body:
        if isinstance(statement, ast.Assign) and any(getattr(t, 'id', None) == top for t in statement.targets):
            node = statement.value
    for key in path:
        node = _dict_entry(node, key)
    try:
        return None if node is None else ast.literal_eval(node)
    except ValueError:
        return None


def _config_value(cfg, dotted_key):
    """The value of ``dotted_key`` in ``cfg`` (an mmengine Config or nested dicts), or None."""
    node = cfg
    for key in dotted_key.split('.'):
        node = node.get(key) if isinstance(node, (dict, Config)) else None
    return node


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def trained_settings_mismatches(checkpoint_meta, cfg, classes):
    """What the checkpoint was trained with that differs from ``cfg`` (an mmengine Config) and ``classes`` (the
    dataset's class names in order, or None): the :data:`TRAINED_SETTINGS` recorded in ``meta['cfg']`` and the
    label set in ``meta.dataset_meta.classes``. A list of human-readable differences; a checkpoint that records
    neither passes (nothing to compare)."""
    meta = checkpoint_meta or {}
    problems = []
    if isinstance(meta.get('cfg'), str):
        for key in TRAINED_SETTINGS:
            trained, current = recorded_config_value(meta['cfg'], key), _config_value(cfg, key)
            if trained is not None and current is not None and _as_list(trained) != _as_list(current):
                problems.append(f'{key}: trained with {_as_list(trained)}, this config has {_as_list(current)}')
    trained = meta.get('dataset_meta', {}).get('classes')
    if trained is not None and classes is not None and list(trained) != list(classes):
        problems.append(f'the label set: trained on {list(trained)} ({len(trained)} classes), this config\'s '
                        f'dataset has {list(classes)} ({len(classes)} classes)')
    return problems


def check_trained_settings(checkpoint_meta, cfg, classes, source, allow_mismatch=False):
    """Raise :class:`CheckpointMismatchError` naming ``source`` and each difference when the checkpoint was
    trained with another voxel size or label set than ``cfg`` / ``classes`` (see
    :func:`trained_settings_mismatches`); with ``allow_mismatch`` (``--allow-settings-mismatch``), warn instead."""
    problems = trained_settings_mismatches(checkpoint_meta, cfg, classes)
    if not problems:
        return
    message = (f'{source} was trained with other settings than this config:\n  ' + '\n  '.join(problems)
               + '\nIts predictions would differ from what it learnt')
    if allow_mismatch:
        warnings.warn(f'{message}; used anyway, as asked (allow_settings_mismatch)', stacklevel=2)
        return
    raise CheckpointMismatchError(f'{message}. Use the config the checkpoint was trained with, or pass '
                                  f'{MISMATCH_FLAG} to use it anyway')


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
    no checkpoint of non-finite weights, and checks of every loaded checkpoint (see the module docstring).

    Args:
        allow_settings_mismatch: load a checkpoint trained with another voxel size or label set than the config's
            with a warning instead of an error.
        args, kwargs: CheckpointHook's arguments.
    """

    def __init__(self, *args, backend_args=None, allow_settings_mismatch=False, **kwargs):
        super().__init__(*args, backend_args=backend_args or dict(backend=ATOMIC_LOCAL_BACKEND), **kwargs)
        self.allow_settings_mismatch = allow_settings_mismatch

    def _save_checkpoint_with_step(self, runner, step, meta):
        self._check_weights_finite(runner)
        with self._removals_after_save():
            super()._save_checkpoint_with_step(runner, step, meta)

    def _save_best_checkpoint(self, runner, metrics):
        self._check_weights_finite(runner)
        with self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)

    @staticmethod
    def _check_weights_finite(runner):
        """Refuse to save (and so to replace the best or oldest checkpoint with) a model whose weights are NaN or
        infinite."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        problem = non_finite_weights(model.state_dict())
        if problem:
            raise NonFiniteError(f'training diverged: the model has {problem} at epoch {runner.epoch}, iteration '
                                 f'{runner.iter}. Not saved: the checkpoints in {runner.work_dir} are kept as they '
                                 f'were. Fix: {DIVERGENCE_FIX}')

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
        """Refuse a checkpoint that does not fit the model (keys, shapes, version metadata), holds non-finite
        weights, or was trained with another voxel size or label set, before the runner loads it."""
        source = f'checkpoint {runner.cfg.get("load_from") or "resumed from " + runner.work_dir}'
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = checkpoint.get('state_dict', checkpoint)
        if any(key.startswith('module.') for key in state):  # what mmengine's revise_keys strips when loading
            metadata = getattr(state, '_metadata', None)
            state = type(state)((re.sub(r'^module\.', '', key), value) for key, value in state.items())
            if metadata is not None:
                state._metadata = metadata
        check_state_dict(model.state_dict(), state, source)
        check_finite(state, source)
        check_trained_settings(checkpoint.get('meta'), runner.cfg, running_dataset_classes(runner), source,
                               self.allow_settings_mismatch)
        if not (checkpoint.get('meta') or {}).get('dataset_meta', {}).get('classes'):
            runner.logger.warning(f'{source} records no label set (meta.dataset_meta.classes): make sure it was '
                                  'trained on the classes of this config')
