"""Config adjustments that depend on the machine, applied by tools/train.py and tools/test.py, and the command-line
options they share."""
import os.path as osp

import torch

from ..models import HICLSegmentor
from .config_options import ConfigOptionsAction, check_options


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


class TrainingOptionError(ValueError):
    """A training flag the config or the machine cannot honour; the message names the fix."""


def configure_amp(cfg):
    """``--amp``: mixed precision (float16 autocast with dynamic loss scaling) for the 3D net's optimizer and the
    correlation necks' alike (mmengine's AmpOptimWrapper; :class:`~hicl.engine.optimizers.JointOptimWrapperDict`
    shares one loss scaler between them). The losses' logits and softmaxes stay float32
    (:mod:`hicl.models.losses`). Needs a CUDA GPU. Returns the config (modified in place)."""
    if not torch.cuda.is_available():
        raise TrainingOptionError('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper: float16 autocast and loss '
                                  'scaling), and torch.cuda.is_available() is False here: train without --amp')
    wrappers = [cfg.optim_wrapper] + ([cfg.optim_wrapper.necks] if 'necks' in cfg.optim_wrapper else [])
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper') not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise TrainingOptionError(f'--amp: the optim wrapper type {wrapper.type!r} is neither OptimWrapper nor '
                                      'AmpOptimWrapper; set the type in the config')
        wrapper.type = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
    return cfg


DEVICES = ('cpu', 'cuda')


def resolve_device(requested=None):
    """The device inference runs on: ``requested`` ('cpu' or 'cuda': ``--device``, else the config's ``device``),
    or CUDA when torch sees a GPU and the CPU otherwise (None or 'auto'). 'cuda' without a GPU raises
    :class:`TrainingOptionError`."""
    if requested in (None, 'auto'):
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if requested not in DEVICES:
        raise TrainingOptionError(f'device {requested!r}: choose one of {DEVICES} or auto')
    if requested == 'cuda' and not torch.cuda.is_available():
        raise TrainingOptionError('device cuda: torch.cuda.is_available() is False here (no GPU, or the CPU install '
                                  'profile of tools/setup.sh): use --device cpu')
    return requested


def configure_auto_scale_lr(cfg):
    """``--auto-scale-lr``: scale every optimizer's learning rate by (GPUs x batch size per GPU) / the config's
    ``auto_scale_lr.base_batch_size`` (the batch its learning rates were set for; mmengine's Runner.scale_lr, the
    linear scaling rule), the correlation necks' included. Returns the config (modified in place)."""
    if 'base_batch_size' not in (cfg.get('auto_scale_lr') or {}):
        raise TrainingOptionError('--auto-scale-lr: the config states no auto_scale_lr.base_batch_size (the batch '
                                  'its learning rates were set for); add auto_scale_lr = dict(enable=False, '
                                  'base_batch_size=N) to it or its schedule')
    cfg.auto_scale_lr.enable = True
    return cfg


def inference_only(cfg):
    """Drop the modules that only training uses (the correlation necks and the feedback loss of HICLSegmentor)
    from ``cfg.model``: inference runs the 3D net alone, and their checkpoint entries are ignored on loading.
    Returns the config (modified in place)."""
    for key in HICLSegmentor.TRAINING_ONLY_MODULES:
        if key in cfg.model:
            cfg.model[key] = None
    return cfg


def add_runner_arguments(parser):
    """The command-line options tools/train.py and tools/test.py share: --cfg-options, --launcher, --local-rank."""
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return parser


def add_training_arguments(parser):
    """The training flags of mmdet3d's tools/train.py: --amp and --auto-scale-lr."""
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision on a CUDA GPU (AmpOptimWrapper for the net and the necks; losses in '
                             'float32)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rates by the total batch size over the config\'s '
                             'auto_scale_lr.base_batch_size')
    return parser


def add_settings_mismatch_argument(parser):
    """``--allow-settings-mismatch`` of the tools that load a trained checkpoint for inference."""
    parser.add_argument('--allow-settings-mismatch', action='store_true',
                        help='use a checkpoint trained with another voxel size or label set than the config\'s, '
                             'with a warning, instead of refusing it')
    return parser


def load_config(path, cfg_options=None):
    """The mmengine Config of ``path`` with the ``--cfg-options`` dict merged, after checking it
    (:func:`hicl.engine.config_options.check_options`: a key the config or its component cannot take is refused,
    a variable of the config file is warned about)."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)  # imports the hicl plugin through custom_imports
    if cfg_options:
        check_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg


def load_runner_config(args):
    """The config of ``args.config`` with ``args.cfg_options`` merged and :func:`configure_runtime` applied."""
    return configure_runtime(load_config(args.config, args.cfg_options), args.launcher, args.work_dir, args.config)


class NoCheckpointToResumeError(FileNotFoundError):
    """``--resume`` without a checkpoint in the work dir."""


def configure_resume(cfg, resume):
    """Apply ``--resume``: None (no resume), 'auto' (the work dir's latest checkpoint) or a checkpoint path.

    'auto' in a work dir without checkpoints raises :class:`NoCheckpointToResumeError`: starting from scratch
    instead would look like a resumed run. Returns the config (modified in place).
    """
    from mmengine.runner import find_latest_checkpoint
    if resume is None:
        return cfg
    if resume == 'auto':
        resume = find_latest_checkpoint(cfg.work_dir)
        if resume is None:
            raise NoCheckpointToResumeError(f'--resume: no checkpoint to resume from in {cfg.work_dir} (it has no '
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
