"""Config adjustments that depend on the machine, applied by tools/train.py and tools/test.py."""
import os.path as osp

import torch


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


TRAINING_ONLY_MODULES = ('intra_scene_neck', 'inter_scene_neck', 'feedback_loss')


def inference_only(cfg):
    """Drop the modules that only training uses (the correlation necks and the feedback loss of HICLSegmentor)
    from ``cfg.model``: inference runs the 3D net alone, and their checkpoint entries are ignored on loading.
    Returns the config (modified in place)."""
    for key in TRAINING_ONLY_MODULES:
        if key in cfg.model:
            cfg.model[key] = None
    return cfg


def add_runner_arguments(parser):
    """The command-line options tools/train.py and tools/test.py share: --cfg-options, --launcher, --local-rank."""
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return parser


def load_runner_config(args):
    """The config of ``args.config`` with ``args.cfg_options`` merged and :func:`configure_runtime` applied."""
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)  # imports the hicl plugin through custom_imports
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return configure_runtime(cfg, args.launcher, args.work_dir, args.config)
