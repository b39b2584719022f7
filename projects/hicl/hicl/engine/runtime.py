"""Config adjustments that depend on the machine, applied by tools/train.py and tools/test.py, and the command-line
options they share."""
import os.path as osp
import warnings

import torch
from mmengine.config import DictAction

from ..models import HICLSegmentor


def configure_runtime(cfg, launcher='none', work_dir=None, config_path=None):
    """Fill in the work dir and make distributed runs work on CPU-only machines.

    - work_dir: the argument, else the config's, else ``work_dirs/<config name>``.
    - Without CUDA, distributed runs use the gloo backend and DDP without ``device_ids`` (NCCL and per-GPU
      device ids exist only on GPUs).
    Returns the config (modified in place).
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(config_path or 'hicl'))[0])
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    return cfg


def inference_only(cfg):
    """Drop the modules that only training uses (the correlation necks and the feedback loss of HICLSegmentor)
    from ``cfg.model``: inference runs the 3D net alone, and their checkpoint entries are ignored on loading.
    Returns the config (modified in place)."""
    for key in HICLSegmentor.TRAINING_ONLY_MODULES:
        if key in cfg.model:
            cfg.model[key] = None
    return cfg


class ConfigOptionsAction(DictAction):
    """mmengine's DictAction, with a usage error (not a traceback) for an option without ``=``."""

    def __call__(self, parser, namespace, values, option_string=None):
        bad = [value for value in values if '=' not in value]
        if bad:
            parser.error(f'{option_string} takes KEY=VALUE pairs, got {bad[0]!r} (e.g. train_cfg.max_epochs=2)')
        super().__call__(parser, namespace, values, option_string)


# Top-level config keys that something reads after the file is parsed: mmengine's Runner (Runner.from_cfg and
# the model wrapper) and this project's tools and hooks. Any other top-level key is a variable of the config
# file, already copied into the keys built from it.
READ_TOP_LEVEL_KEYS = frozenset((
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
    'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator', 'default_hooks',
    'custom_hooks', 'data_preprocessor', 'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor',
    'log_level', 'visualizer', 'default_scope', 'randomness', 'experiment_name', 'model_wrapper_cfg',
    'pseudo_labels'))


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


def warn_unread_options(cfg, options):
    """Warn about each --cfg-options key whose top-level name is a variable of the config file (e.g.
    ``max_epochs``): the keys built from it keep its old value, so the option changes nothing. The warning names
    the keys that hold the old value (e.g. ``train_cfg.max_epochs``), which are the ones to set."""
    for key in options:
        top = key.split('.')[0]
        if top in READ_TOP_LEVEL_KEYS or top not in cfg:
            continue
        old = cfg[top]
        holders = [path for name in READ_TOP_LEVEL_KEYS if name in cfg
                   for path in _paths_holding(old, cfg[name], name)]
        instead = f'set {", ".join(sorted(holders)[:5])} instead' if holders else 'set the keys built from it instead'
        warnings.warn(f'--cfg-options {key}: {top!r} is a variable of the config file; the keys built from it when '
                      f'the file was read keep its value {old!r}, so this option has no effect: {instead}',
                      stacklevel=2)


def add_runner_arguments(parser):
    """The command-line options tools/train.py and tools/test.py share: --cfg-options, --launcher, --local-rank."""
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return parser


def load_config(path, cfg_options=None):
    """The mmengine Config of ``path`` with the ``--cfg-options`` dict merged (each option that changes nothing is
    warned about, :func:`warn_unread_options`)."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)  # imports the hicl plugin through custom_imports
    if cfg_options:
        warn_unread_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg


def load_runner_config(args):
    """The config of ``args.config`` with ``args.cfg_options`` merged and :func:`configure_runtime` applied."""
    return configure_runtime(load_config(args.config, args.cfg_options), args.launcher, args.work_dir, args.config)


def configure_resume(cfg, resume):
    """Apply ``--resume``: None (no resume), 'auto' (the work dir's latest checkpoint) or a checkpoint path.

    'auto' in a work dir without checkpoints raises FileNotFoundError: starting from scratch instead would look
    like a resumed run. Returns the config (modified in place).
    """
    from mmengine.runner import find_latest_checkpoint
    if resume is None:
        return cfg
    if resume == 'auto':
        resume = find_latest_checkpoint(cfg.work_dir)
        if resume is None:
            raise FileNotFoundError(f'--resume: no checkpoint to resume from in {cfg.work_dir} (it has no '
                                    'last_checkpoint file). Drop --resume to train from scratch, or name the '
                                    'checkpoint: --resume PATH')
    cfg.resume, cfg.load_from = True, resume
    return cfg


def close_distributed():
    """Destroy the default process group of a distributed run, after it succeeded. Without it, gloo's worker
    threads can outlive the interpreter and abort a process at exit ("terminate called without an active
    exception", pytorch/pytorch#190489; seen once here in the 2-process test); mmengine 0.10.7 does not do it."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
