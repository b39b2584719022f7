"""Evaluate a checkpoint: python tools/test.py CONFIG CKPT [--save-preds DIR] -> per-class IoU table and mIoU."""
import argparse

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--work-dir', help='where logs go (default: work_dirs/<config name>)')
    parser.add_argument('--save-preds', metavar='DIR', help='write <scene>.npy predicted class ids per point here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    from hicl.engine import configure_runtime
    configure_runtime(cfg, args.launcher, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    if args.save_preds:
        cfg.test_evaluator.prediction_dir = args.save_preds
    Runner.from_cfg(cfg).test()


if __name__ == '__main__':
    main()
