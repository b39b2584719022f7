"""Evaluate a checkpoint: python tools/test.py CONFIG CKPT [--save-preds DIR] -> per-class IoU table and mIoU."""
import argparse

from mmengine.runner import Runner

from hicl.engine import add_runner_arguments, close_distributed, inference_only, load_runner_config


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--work-dir', help='where logs go (default: work_dirs/<config name>)')
    parser.add_argument('--save-preds', metavar='DIR', help='write <scene>.npy predicted class ids per point here')
    return add_runner_arguments(parser).parse_args()


def main():
    args = parse_args()
    cfg = inference_only(load_runner_config(args))  # the 3D net only: no correlation necks
    cfg.load_from = args.checkpoint
    if args.save_preds:
        cfg.test_evaluator.prediction_dir = args.save_preds
    Runner.from_cfg(cfg).test()
    close_distributed()


if __name__ == '__main__':
    main()
