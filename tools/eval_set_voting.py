"""Does intra-set label refinement help? python tools/eval_set_voting.py CONFIG [--split train] [--num-frames 8]

Prints, over the split's scenes, the 3D pseudo-label mIoU (per-point majority of the pixel labels paired with
each point) before and after SetVotingRefiner, the pair accuracy, and the set purity (share of points whose set's
majority true label is their own)."""
import argparse

from mmengine.config import Config
from tqdm import tqdm


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config whose train pipeline has the sets and the refiner (EXP II)')
    parser.add_argument('--split', default='train', choices=['train', 'val'])
    parser.add_argument('--num-frames', type=int, default=8, help='views sampled per scene')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    from mmdet3d.registry import DATASETS
    from mmengine.registry import init_default_scope
    from hicl.evaluation.refinement import evaluate_refinement
    init_default_scope('mmdet3d')
    loader = cfg.train_dataloader if args.split == 'train' else cfg.val_dataloader
    dataset = DATASETS.build(dict(loader.dataset, ann_file=f'hicl_infos_{args.split}.pkl', pipeline=[],
                                  test_mode=False, data_prefix=cfg.train_dataloader.dataset.data_prefix))
    with tqdm(total=len(dataset), desc='scenes', unit='scene') as bar:
        r = evaluate_refinement(dataset, cfg.train_pipeline, args.num_frames, cfg.model.decode_head.num_classes,
                                bar.update)
    print(f'3D pseudo-label mIoU: raw {100 * r["raw_miou"]:.1f}%  ->  refined {100 * r["refined_miou"]:.1f}%')
    print(f'pair accuracy:        raw {100 * r["raw_pair_acc"]:.1f}%  ->  refined {100 * r["refined_pair_acc"]:.1f}%')
    print(f'set purity {100 * r["set_purity"]:.1f}% ({r["num_sets"]:.0f} sets per scene), '
          f'{r["changed"]} pair labels changed')


if __name__ == '__main__':
    main()
