"""Train a label-free segmentor: python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
[--auto-scale-lr]."""
import argparse
import sys

from mmengine.runner import Runner

from hicl.engine import (WorkDirLockedError, add_runner_arguments, close_distributed, configure_resume,
                         load_runner_config, work_dir_lock)
from hicl.engine.config_options import ConfigOptionError
from hicl.engine.runtime import (NoCheckpointToResumeError, TrainingOptionError, add_training_arguments, configure_amp,
                                 configure_auto_scale_lr)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config file, e.g. configs/baseline_synthrooms.py')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or from the latest checkpoint in the work dir when no CKPT is given')
    return add_training_arguments(add_runner_arguments(parser)).parse_args()


def main():
    args = parse_args()
    try:
        cfg = load_runner_config(args)
        if args.amp:
            configure_amp(cfg)
        if args.auto_scale_lr:
            configure_auto_scale_lr(cfg)
        with work_dir_lock(cfg.work_dir):  # one run per work dir
            configure_resume(cfg, args.resume)
            Runner.from_cfg(cfg).train()
    except (ConfigOptionError, NoCheckpointToResumeError, TrainingOptionError, WorkDirLockedError) as err:
        sys.exit(f'error: {err}')
    close_distributed()


if __name__ == '__main__':
    main()
