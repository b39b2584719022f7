"""Evaluate a checkpoint: python tools/test.py CONFIG CKPT [--save-preds DIR] -> per-class IoU table and mIoU.

Open vocabulary: --vocabulary NAME_OR_FILE segments with another class list (configs/vocabularies/*.json, see
hicl/open_vocabulary.py) and scores it on the dataset's classes through the file's mapping; names without an
anchor file are encoded by the CLIP text tower (--clip-pretrained).
"""
import argparse
import sys

from mmengine.runner import Runner

from hicl.engine import (add_runner_arguments, add_settings_mismatch_argument, close_distributed, inference_only,
                         load_runner_config)
from hicl.engine.runtime import DEVICES, TrainingOptionError, resolve_device
from hicl.evaluation.seg_metric import vocabulary_miou_note
from hicl.fileio import UnwritableFolderError, check_writable_folder
from hicl.open_vocabulary import (CLIP_WEIGHTS_HELP, DEFAULT_CLIP_MODEL, VOCABULARY_DIR, configure_open_vocabulary,
                                  load_vocabulary, vocabulary_path)


def parse_args():
    """The options; a --save-preds folder is created and checked to be writable before any work."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--work-dir', help='where logs go (default: work_dirs/<config name>)')
    parser.add_argument('--save-preds', metavar='DIR',
                        help='write <scene>.npy predicted class ids per point and <scene>.{pred,gt,errors}.ply here')
    parser.add_argument('--vocabulary', metavar='NAME_OR_FILE',
                        help=f'segment with this vocabulary (a JSON file, or a name in {VOCABULARY_DIR})')
    parser.add_argument('--clip-model', default=DEFAULT_CLIP_MODEL, help='open_clip model of the text tower')
    parser.add_argument('--clip-pretrained', help=CLIP_WEIGHTS_HELP)
    parser.add_argument('--device', choices=DEVICES,
                        help="where the net runs (default: the config's device key; 'auto': cuda when there is a GPU)")
    args = add_settings_mismatch_argument(add_runner_arguments(parser)).parse_args()
    if args.save_preds:
        try:
            check_writable_folder(args.save_preds)
        except UnwritableFolderError as err:
            parser.error(f'--save-preds: {err}')
    return args


def main():
    args = parse_args()
    cfg = inference_only(load_runner_config(args))  # the 3D net only: no correlation necks
    try:
        device = resolve_device(args.device or cfg.get('device'))
    except TrainingOptionError as err:
        sys.exit(f'error: {err}')
    cfg.load_from = args.checkpoint
    cfg.default_hooks.checkpoint.allow_settings_mismatch = args.allow_settings_mismatch
    if args.save_preds:
        cfg.test_evaluator.prediction_dir = args.save_preds
    hooks = []
    if args.vocabulary:
        vocabulary = load_vocabulary(vocabulary_path(args.vocabulary, VOCABULARY_DIR), args.clip_model,
                                     args.clip_pretrained)
        mapping, hook = configure_open_vocabulary(cfg, vocabulary)
        hooks.append(hook)
        print(f'vocabulary {args.vocabulary}: {len(vocabulary.names)} names scored as {len(mapping.classes)} classes; '
              + vocabulary_miou_note(mapping.classes, mapping.dataset_classes))
    runner = Runner.from_cfg(cfg)
    if args.launcher == 'none':
        runner.model.to(device)  # the runner put it on CUDA whenever there is a GPU
    print(f'testing on {device}')
    for hook in hooks:
        runner.register_hook(hook)
    runner.test()
    close_distributed()


if __name__ == '__main__':
    main()
