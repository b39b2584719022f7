"""Unpickling with an allow-list: a pickle may only name the Python globals listed for its kind of file.

A pickle names the functions and classes it needs to rebuild its objects (``module.name``); an ordinary
``pickle.load`` imports and calls whatever it names, so a crafted file runs code (``os.system``). The
:class:`AllowListUnpickler` resolves only the globals of an allow-list and refuses every other one with
:class:`UnsafePickleError`, before anything is called. Two allow-lists exist: mmengine checkpoints
(:mod:`hicl.compat`) and dataset info files (:data:`INFO_FILE_GLOBALS`, this module).
"""
import _compat_pickle
import collections
import functools
import os
import pickle
import types

import numpy as np
from mmengine.fileio import register_handler
from mmengine.fileio.handlers import PickleHandler


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a Python global outside its allow-list (loading it could run code)."""


class AllowListUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals of ``allowed`` = {(module, name): object}; ``what`` names the
    file in errors. Subclass it with both set (:func:`allow_list_unpickler`)."""

    allowed = {}
    what = 'pickle'

    def find_class(self, module, name):
        # protocol-2 pickles (torch.save's default) name Python-2 modules, e.g. __builtin__.getattr
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if (module, name) in self.allowed:
            return self.allowed[(module, name)]
        raise UnsafePickleError(f'refusing to load global {module}.{name} from {self.what}: it is not among the '
                                'objects such a file holds')


def allow_list_unpickler(allowed, what):
    """An :class:`AllowListUnpickler` class for ``allowed`` globals and files described as ``what``."""
    return type('AllowListUnpickler', (AllowListUnpickler,), dict(allowed=allowed, what=what))


def restricted_pickle_module(allowed, what):
    """A module-like object (``Unpickler``, ``load``) for ``torch.load(pickle_module=...)`` that unpickles with
    ``allowed`` only."""
    unpickler = allow_list_unpickler(allowed, what)
    return types.SimpleNamespace(Unpickler=unpickler, load=lambda file, **kwargs: unpickler(file, **kwargs).load(),
                                 __name__='hicl_restricted_pickle')


@functools.lru_cache(maxsize=1)
def numpy_globals():
    """The globals numpy arrays and scalars pickle through, as {(module, name): object}."""
    allowed = {('numpy.core.multiarray', '_reconstruct'): np.core.multiarray._reconstruct,
               ('numpy.core.multiarray', 'scalar'): np.core.multiarray.scalar,
               ('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype}
    # numpy pickles dtypes by their class (e.g. numpy.dtypes.Float64DType) in numpy >= 1.25.
    for dtype_cls in vars(getattr(np, 'dtypes', types.SimpleNamespace())).values():
        if isinstance(dtype_cls, type) and issubclass(dtype_cls, np.dtype):
            allowed[('numpy.dtypes', dtype_cls.__name__)] = dtype_cls
    return allowed


# What the converters (and mmdet3d's own info converters) write: dicts, lists, numbers, strings and numpy arrays.
INFO_FILE_GLOBALS = {('collections', 'OrderedDict'): collections.OrderedDict, **numpy_globals()}


class InfoFileError(ValueError):
    """A dataset info file is missing, unreadable or not what the converters write; the message names it."""


def info_file_error(path, err):
    """The :class:`InfoFileError` naming ``path`` and the fix for an error ``err`` raised while unpickling it: a
    global outside the allow-list (:class:`UnsafePickleError`), or a truncated or foreign file."""
    fix = 'convert the dataset again with tools/create_data.py'
    if isinstance(err, UnsafePickleError):
        return InfoFileError(f'info file {path}: {err}. Info files hold only dicts, lists, numbers, strings and '
                             f'numpy arrays; this one may run code when loaded, so it is refused: {fix} (or, if '
                             'you trust it, load it yourself with pickle.load)')
    return InfoFileError(f'info file {path} is truncated or not an info file ({type(err).__name__}: {err}): {fix}')


def load_info_file(path):
    """Unpickle a dataset info file (``hicl_infos_<split>.pkl`` or mmdet3d's) with :data:`INFO_FILE_GLOBALS`.

    Raises FileNotFoundError when it is missing, and :class:`InfoFileError` naming the file when it is truncated,
    not a pickle, or asks for any other global (a crafted file that would run code when loaded).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'info file {path} not found: run tools/create_data.py first')
    try:
        with open(path, 'rb') as file:
            return allow_list_unpickler(INFO_FILE_GLOBALS, 'an info file')(file).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise info_file_error(path, err) from err


class InfoFilePickleHandler(PickleHandler):
    """mmengine's pickle handler with the info-file allow-list: ``mmengine.load`` of a .pkl file (what
    mmengine's BaseDataset reads its ``ann_file`` with) refuses any global outside :data:`INFO_FILE_GLOBALS`."""

    def load_from_fileobj(self, file, **kwargs):
        return allow_list_unpickler(INFO_FILE_GLOBALS, 'an info file')(file, **kwargs).load()


def register_info_file_handler():
    """Make ``mmengine.load`` read .pkl / .pickle files with :class:`InfoFilePickleHandler` (idempotent)."""
    register_handler(['pkl', 'pickle'])(InfoFilePickleHandler)
