"""``--cfg-options KEY=VALUE``: parsed with a usage error for a pair without ``=``, and checked against the config
before it is merged, so that an option either changes what runs or is refused.

- A top-level key the config does not have (a typo, or ``max_epochs`` in a config without such a variable) is
  refused, naming the closest existing keys: merged, it would be a new variable that nothing reads.
- A top-level key that is a variable of the config file (``lr``) is warned about: the keys built from it when the
  file was read keep their value; the warning names them.
- A new key inside a component (a dict with a ``type``, or a runner loop) is refused unless the component's class
  takes an argument of that name: ``train_cfg.max_epoch=1`` would otherwise die later on a bare TypeError, and a
  misspelt key of a component taking ``**kwargs`` would be ignored.
"""
import difflib
import inspect
import warnings

import torch
from mmengine.config import DictAction

# Top-level config keys that something reads after the file is parsed: mmengine's Runner (Runner.from_cfg and
# the model wrapper) and this project's tools and hooks (``device``: tools/test.py). Any other top-level key is a
# variable of the config file, already copied into the keys built from it.
READ_TOP_LEVEL_KEYS = frozenset((
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
    'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator', 'default_hooks',
    'custom_hooks', 'data_preprocessor', 'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor',
    'log_level', 'visualizer', 'default_scope', 'randomness', 'experiment_name', 'model_wrapper_cfg',
    'pseudo_labels', 'device'))
# The loop classes mmengine's Runner builds for a loop config without ``type``.
DEFAULT_LOOPS = dict(train_cfg=('EpochBasedTrainLoop', 'IterBasedTrainLoop'), val_cfg=('ValLoop',),
                     test_cfg=('TestLoop',))
# Classes whose ``**kwargs`` accept nothing more (a constructor reaching them with an unknown key fails).
KWARGS_END = (object, torch.nn.Module)


class ConfigOptionError(KeyError):
    """A ``--cfg-options`` key that would change nothing or fail later; the message names it and the fix."""

    def __str__(self):
        return self.args[0]


class ConfigOptionsAction(DictAction):
    """mmengine's DictAction, with a usage error (not a traceback) for an option without ``=``."""

    def __call__(self, parser, namespace, values, option_string=None):
        bad = [value for value in values if '=' not in value]
        if bad:
            parser.error(f'{option_string} takes KEY=VALUE pairs, got {bad[0]!r} (e.g. train_cfg.max_epochs=2)')
        super().__call__(parser, namespace, values, option_string)


def _closest(name, candidates):
    """The up to 3 candidates closest to ``name``, as a phrase for an error message."""
    close = difflib.get_close_matches(name, [str(c) for c in candidates], n=3, cutoff=0.5)
    return f'closest: {", ".join(close)}' if close else f'it has: {", ".join(sorted(map(str, candidates))[:12])}'


def _paths_named(name, node, prefix=''):
    """Dotted paths under ``node`` (dicts and lists) whose last key is ``name``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    paths = []
    for key, item in items:
        path = f'{prefix}.{key}' if prefix else str(key)
        paths.extend([path] if key == name else _paths_named(name, item, path))
    return paths


def _paths_holding(value, node, prefix=''):
    """Dotted paths under ``node`` (dicts and lists) whose value equals ``value``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    paths = []
    for key, item in items:
        path = f'{prefix}.{key}' if prefix else str(key)
        if type(item) is type(value) and item == value:  # type first: True == 1 == 1.0
            paths.append(path)
        else:
            paths.extend(_paths_holding(value, item, path))
    return paths


def component_classes(node, path):
    """The classes that may be built from the config dict ``node`` at dotted ``path``: those registered under
    its ``type`` in any mmdet3d or hicl registry (a class object as ``type`` is itself), or mmengine's default
    loops for ``train_cfg`` / ``val_cfg`` / ``test_cfg`` without a type; [] when unknown (nothing is checked)."""
    from mmdet3d import registry as mmdet3d_registries
    from mmengine import registry as engine_registries
    from mmengine.registry import init_default_scope

    from .. import registry as hicl_registries
    type_name = node.get('type')
    if type_name is None:
        names = DEFAULT_LOOPS.get(path, ())
        return [engine_registries.LOOPS.get(name) for name in names]
    if inspect.isclass(type_name):
        return [type_name]
    if not isinstance(type_name, str):
        return []
    init_default_scope('mmdet3d')
    found = []
    registries = [getattr(module, name) for module in (mmdet3d_registries, hicl_registries) for name in dir(module)]
    for registry in registries:
        if isinstance(registry, engine_registries.Registry):
            try:
                cls = registry.get(type_name)
            except ImportError:  # a registry whose import location does not exist in this install
                continue
            if cls is not None and cls not in found:
                found.append(cls)
    return found


def argument_names(cls):
    """The keyword arguments constructing ``cls`` can take, and whether the list is complete: the parameters of
    each ``__init__`` along its MRO, following ``**kwargs`` to the base classes until a class that takes no more
    (object, nn.Module) or an ``__init__`` without ``**kwargs``."""
    names = []
    for klass in cls.__mro__:
        if klass in KWARGS_END:
            return names, True
        if '__init__' not in vars(klass):
            continue
        parameters = list(inspect.signature(klass.__init__).parameters.values())[1:]  # without self
        names += [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            return names, True
    return names, False


def _check_new_key(node, path, key, option):
    """Refuse the new key ``key`` in the config dict ``node`` at ``path`` unless its component takes it."""
    classes = component_classes(node, path)
    accepted = [argument_names(cls) for cls in classes]
    if not classes or any(key in names or not complete for names, complete in accepted):
        return
    names = ' / '.join(cls.__name__ for cls in classes)
    arguments = sorted({name for names_, _ in accepted for name in names_})
    raise ConfigOptionError(f'--cfg-options {option}: {path} is a {names}, which takes no argument {key!r} '
                            f'({_closest(key, arguments)}): check the spelling of the key')


def check_options(cfg, options):
    """Raise :class:`ConfigOptionError` for a ``--cfg-options`` key of ``options`` (dict: dotted key -> value)
    that ``cfg`` cannot take (see the module docstring); warn for one that is a variable of the config file."""
    for option, value in options.items():
        parts = option.split('.')
        top = parts[0]
        if top not in cfg:
            nested = [path for name in READ_TOP_LEVEL_KEYS if name in cfg
                      for path in _paths_named(top, cfg[name], name)]
            closest = f'closest: {", ".join(sorted(nested)[:5])}' if nested else _closest(top, cfg.keys())
            raise ConfigOptionError(f'--cfg-options {option}={value}: the config has no key {top!r}, so the option '
                                    f'would change nothing ({closest}): set a key the config has')
        if top not in READ_TOP_LEVEL_KEYS:
            warnings.warn(_variable_message(cfg, option, top), stacklevel=3)
            continue
        node, path = cfg[top], top
        for part in parts[1:]:
            if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
                node, path = node[int(part)], f'{path}.{part}'
            elif isinstance(node, dict) and part in node:
                node, path = node[part], f'{path}.{part}'
            else:
                if isinstance(node, dict) and not part.startswith('_'):
                    _check_new_key(node, path, part, f'{option}={value}')
                break


def _variable_message(cfg, option, top):
    """The warning for an option setting ``top``, a variable of the config file: it names the keys built from
    it (which hold its old value), the ones to set instead."""
    old = cfg[top]
    holders = [path for name in READ_TOP_LEVEL_KEYS if name in cfg for path in _paths_holding(old, cfg[name], name)]
    instead = f'set {", ".join(sorted(holders)[:5])} instead' if holders else 'set the keys built from it instead'
    return (f'--cfg-options {option}: {top!r} is a variable of the config file; the keys built from it when the '
            f'file was read keep its value {old!r}, so this option has no effect: {instead}')
