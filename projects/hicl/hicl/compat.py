"""Runtime fixes for known incompatibilities of the pinned stack (see requirements/constraints.txt).

Each fix is one function, applied once by :func:`apply_all` when ``hicl`` is imported, and tested in
``tests/test_compat.py``. Nothing in site-packages is edited.

1. :func:`fix_spconv_cpu_stream` -- spconv 2.3.8 asks ``torch.cuda.current_stream()`` for a CUDA stream even
   for CPU tensors (the backward of every sparse conv), which fails with "Found no NVIDIA driver".
2. :func:`fix_mmdet3d_minkunet_voxelize` -- mmdet3d 1.4.0 ``Det3DDataPreprocessor.voxelize`` with
   ``voxel_type='minkunet'`` moves its index tensors with a hard-coded ``.cuda()``.
3. :func:`fix_mmengine_checkpoint_loading` -- mmengine 0.10.7 checkpoints hold numpy arrays and a
   ``HistoryBuffer``; torch >= 2.6 loads with ``weights_only=True`` and refuses them. We load them with a
   restricted unpickler (:mod:`hicl.safe_pickle`) that allows exactly the globals such a checkpoint needs, so a
   crafted checkpoint still cannot run code; folders and empty or truncated files get a clear error.
4. :func:`fix_mmengine_cpu_distributed_init` -- mmengine 0.10.7's PyTorch launcher calls
   ``torch.cuda.set_device`` unconditionally, so ``tools/dist_train.sh`` fails on machines without CUDA.
5. :func:`fix_spconv_cpu_tensors_on_cuda_build` -- spconv's CUDA builds (the CUDA install profile's
   spconv-cu126) give every convolution the implicit-GEMM algorithm, which stops on CPU tensors ("implicit gemm
   only support cuda"): CPU inference and the CPU side of tools/device_check.sh would fail on a GPU machine.

Only what a runtime patch alone can do is here: each patch changes stock code only where it fails outright (no
CUDA device, torch's ``weights_only`` loading). Flaws that a class of our own can fix are fixed there, leaving
the stock class as it ships: mmdet3d's ``MinkUNetBackbone`` on spconv (grid padding, channel lists) in
``hicl.models.backbones.MinkUNetSpconvBackbone``.
"""
import builtins
import collections
import contextlib
import functools
import os.path as osp
import pickle

import torch

from .safe_pickle import UnsafePickleError, numpy_globals, restricted_pickle_module

# ---------------------------------------------------------------------------------------------- spconv


def _cpu_safe_current_stream():
    """The current CUDA stream handle, or 0 (spconv's "no stream") on machines without CUDA."""
    if not torch.cuda.is_available():
        return 0
    return torch.cuda.current_stream().cuda_stream


# spconv imports ``get_current_stream`` by name into these modules: each needs the replacement.
SPCONV_STREAM_MODULES = ('spconv.pytorch.cppcore', 'spconv.pytorch.ops', 'spconv.pytorch.hash',
                         'spconv.pytorch.utils')


def fix_spconv_cpu_stream():
    """Replace spconv's ``get_current_stream`` in every module that imported it. Returns patched modules."""
    import importlib
    patched = []
    for name in SPCONV_STREAM_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, 'get_current_stream'):
            module.get_current_stream = _cpu_safe_current_stream
            patched.append(name)
    return patched


def fix_spconv_cpu_tensors_on_cuda_build():
    """Run spconv's sparse convolutions on CPU tensors with its native algorithm, whatever algorithm the module was
    built with. A CPU-only build already does (it builds every module so); a CUDA build's default implicit-GEMM
    algorithm has no CPU kernels, while its native one does, with the same (KRSC) weight layout, so checkpoints
    load and run alike on either device."""
    from spconv.constants import ALL_WEIGHT_IS_KRSC
    from spconv.core import ConvAlgo
    from spconv.pytorch.conv import SparseConvolution
    forward = SparseConvolution.forward
    if getattr(forward, '_hicl_cpu_native', False) or not ALL_WEIGHT_IS_KRSC:
        return  # (without KRSC weights the native algorithm would read another layout)

    @functools.wraps(forward)
    def native_on_cpu(self, input, *args, **kwargs):
        if input.features.is_cuda or self.algo == ConvAlgo.Native:
            return forward(self, input, *args, **kwargs)
        algo, self.algo = self.algo, ConvAlgo.Native
        try:
            return forward(self, input, *args, **kwargs)
        finally:
            self.algo = algo

    native_on_cpu._hicl_cpu_native = True
    SparseConvolution.forward = native_on_cpu


# ---------------------------------------------------------------------------------------------- mmdet3d


@contextlib.contextmanager
def _replaced(owner, name, replacement):
    """Within this context ``owner.name`` is ``replacement`` (used only on machines without CUDA)."""
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


def _run_without_cuda(function, owner, name, replacement):
    """``function`` wrapped so that, when CUDA is unavailable, it runs with ``owner.name`` replaced."""
    if getattr(function, '_hicl_cpu_safe', False):
        return function

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        if torch.cuda.is_available():
            return function(*args, **kwargs)
        with _replaced(owner, name, replacement):
            return function(*args, **kwargs)

    wrapped._hicl_cpu_safe = True
    return wrapped


def fix_mmdet3d_minkunet_voxelize():
    """Make ``Det3DDataPreprocessor.voxelize`` keep its index tensors on the points' device without CUDA.

    On CUDA machines the original method runs untouched (its ``.cuda()`` is then the points' device).
    """
    from mmdet3d.models.data_preprocessors import Det3DDataPreprocessor
    Det3DDataPreprocessor.voxelize = _run_without_cuda(Det3DDataPreprocessor.voxelize, torch.Tensor, 'cuda',
                                                       lambda tensor, *args, **kwargs: tensor)


# ---------------------------------------------------------------------------------------------- mmengine


class UnsafeCheckpointError(UnsafePickleError):
    """A checkpoint asked for a Python global outside the allow-list (it could run code when loaded)."""


class CheckpointFileError(ValueError):
    """A checkpoint path that holds no loadable checkpoint (a folder, an empty or truncated file)."""


@functools.lru_cache(maxsize=1)
def _checkpoint_allowed_globals():
    """The globals an mmengine Runner checkpoint needs, as {(module, name): object}."""
    import _codecs

    from mmengine.config.config import ConfigDict
    from mmengine.logging.history_buffer import HistoryBuffer
    return {
        ('collections', 'OrderedDict'): collections.OrderedDict,
        ('torch._utils', '_rebuild_tensor_v2'): torch._utils._rebuild_tensor_v2,
        ('torch._utils', '_rebuild_parameter'): torch._utils._rebuild_parameter,
        ('torch', 'Size'): torch.Size,
        ('_codecs', 'encode'): _codecs.encode,
        ('mmengine.config.config', 'ConfigDict'): ConfigDict,
        ('mmengine.logging.history_buffer', 'HistoryBuffer'): HistoryBuffer,
        ('builtins', 'getattr'): _history_buffer_getattr,
        **numpy_globals(),
    }


def _history_buffer_getattr(obj, name, *default):
    """``getattr`` limited to what HistoryBuffer pickles: its statistics methods, e.g. HistoryBuffer.min."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in set(HistoryBuffer._statistics_methods) | {'min', 'max', 'mean', 'current'}:
        return builtins.getattr(obj, name, *default)
    raise UnsafeCheckpointError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer statistics methods are allowed')


def load_from_local_safely(filename, map_location=None):
    """Load an mmengine checkpoint with the restricted unpickler (CheckpointLoader's local scheme).

    Raises FileNotFoundError for a missing path, :class:`CheckpointFileError` for a folder or an empty or
    truncated file, :class:`UnsafeCheckpointError` for a file that names a global outside the allow-list.
    """
    filename = osp.expanduser(filename)
    if osp.isdir(filename):
        raise CheckpointFileError(f'{filename} is a folder, not a checkpoint file: pass a .pth file, e.g. '
                                  f'{osp.join(filename, "epoch_N.pth")}')
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise CheckpointFileError(f'{filename} is empty (0 bytes): the save that wrote it did not finish; use an '
                                  'earlier checkpoint')
    pickle_module = restricted_pickle_module(_checkpoint_allowed_globals(), f'checkpoint {filename}')
    try:
        return torch.load(filename, map_location=map_location, weights_only=False, pickle_module=pickle_module)
    except UnsafePickleError as err:
        raise UnsafeCheckpointError(
            f'{err} (weights, numpy arrays, HistoryBuffer, ConfigDict). If you trust this file, load it yourself '
            'with torch.load(path, weights_only=False).') from err
    except (EOFError, RuntimeError, pickle.UnpicklingError) as err:
        raise CheckpointFileError(f'{filename} is truncated or not a checkpoint ({type(err).__name__}: {err}); '
                                  'use an earlier checkpoint') from err


def fix_mmengine_checkpoint_loading():
    """Route mmengine's local checkpoint loading (``load_checkpoint``, ``Runner.resume``) through
    :func:`load_from_local_safely`."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safely, force=True)


# ---------------------------------------------------------------------------------------------- mmengine dist


def fix_mmengine_cpu_distributed_init():
    """Let mmengine's PyTorch launcher skip ``torch.cuda.set_device`` on machines without CUDA (gloo)."""
    from mmengine.dist import utils
    utils._init_dist_pytorch = _run_without_cuda(utils._init_dist_pytorch, torch.cuda, 'set_device',
                                                 lambda device: None)


def apply_all():
    """Apply every fix (idempotent)."""
    fix_spconv_cpu_stream()
    fix_spconv_cpu_tensors_on_cuda_build()
    fix_mmdet3d_minkunet_voxelize()
    fix_mmengine_checkpoint_loading()
    fix_mmengine_cpu_distributed_init()
