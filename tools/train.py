"""Train a label-free segmentor: python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]."""
import argparse
import sys

from mmengine.runner import Runner

from hicl.engine import (WorkDirLockedError, add_runner_arguments, close_distributed, configure_resume,
                         load_runner_config, work_dir_lock)
from hicl.engine.config_options import ConfigOptionError
from hicl.engine.runtime import NoCheckpointToResumeError


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config file, e.g. configs/baseline_synthrooms.py')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or from the latest checkpoint in the work dir when no CKPT is given')
    return add_runner_arguments(parser).parse_args()


def main():
    args = parse_args()
    try:
        cfg = load_runner_config(args)
        with work_dir_lock(cfg.work_dir):  # one run per work dir
            configure_resume(cfg, args.resume)
            Runner.from_cfg(cfg).train()
    except (ConfigOptionError, NoCheckpointToResumeError, WorkDirLockedError) as err:
        sys.exit(f'error: {err}')
    close_distributed()


if __name__ == '__main__':
    main()
