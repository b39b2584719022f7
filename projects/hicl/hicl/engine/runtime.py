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
