"""Does intra-set label refinement help? python tools/eval_set_voting.py CONFIG [--split train] [--num-frames 8]
[--predictions DIR]

Prints, over the split's scenes, the 3D pseudo-label mIoU (per-point majority of the pixel labels paired with
each point, on the points that have a pair) before and after SetVotingRefiner, the pair accuracy, and the set
purity (share of points whose set's majority true label is their own). With --predictions (tools/test.py
--save-preds), the net's mIoU on the same points and on all points."""
import argparse

from mmengine.config import Config
from tqdm import tqdm


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config whose train pipeline has the sets and the refiner (EXP II)')
    parser.add_argument('--split', default='train', choices=['train', 'val'])
    parser.add_argument('--num-frames', type=int, default=8, help='views sampled per scene')
    parser.add_argument('--predictions', metavar='DIR', help='<scene>.npy predictions of tools/test.py --save-preds')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    from mmengine.registry import init_default_scope

    from hicl.evaluation.refinement import evaluate_refinement, split_dataset
    init_default_scope('mmdet3d')
    dataset = split_dataset(cfg, args.split)
    predictions = None
    if args.predictions:
        import glob
        import os

        import numpy as np
        predictions = {os.path.basename(path)[:-4]: np.load(path)
                       for path in glob.glob(os.path.join(args.predictions, '*.npy'))}
    with tqdm(total=len(dataset), desc='scenes', unit='scene') as bar:
        r = evaluate_refinement(dataset, cfg.train_pipeline, args.num_frames, cfg.model.decode_head.num_classes,
                                bar.update, predictions)
    print(f'3D pseudo-label mIoU: raw {100 * r["raw_miou"]:.1f}%  ->  refined {100 * r["refined_miou"]:.1f}%')
    print(f'pair accuracy:        raw {100 * r["raw_pair_acc"]:.1f}%  ->  refined {100 * r["refined_pair_acc"]:.1f}%')
    print(f'set purity {100 * r["set_purity"]:.1f}% ({r["num_sets"]:.0f} sets per scene), '
          f'{r["changed"]} pair labels changed; {100 * r["seen_share"]:.1f}% of the labelled points have a pair')
    if predictions is not None:
        print(f'predictions: mIoU {100 * r["prediction_miou_seen"]:.1f}% on the points with a pair, '
              f'{100 * r["prediction_miou_all"]:.1f}% on all points')


if __name__ == '__main__':
    main()
