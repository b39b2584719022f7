"""Render intra-set label refinement of one scene (paper Fig. 3) to a PNG:
python tools/render_sets.py CONFIG --scene SCENE_ID --out fig.png [--num-frames 4] [--sets-from-mesh]

Loads the scene with the loading and pairing steps of the config's train pipeline, attaches its geometric
consistency sets (the converter's sets/<scene>.bin, or computed here with --sets-from-mesh), refines the pair
labels with SetVotingRefiner and draws top-down views coloured by set, by raw and refined 3D pseudo-labels (the
majority of each point's pair labels; grey = unlabelled) and by the true labels when the scene has them.
"""
import argparse

from hicl.engine.runtime import ConfigOptionsAction, load_config


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config whose train dataset and pipeline load the scene')
    parser.add_argument('--scene', required=True, help='scene id, e.g. scene0000_00 (train split, else val)')
    parser.add_argument('--out', required=True, help='PNG file to write')
    parser.add_argument('--num-frames', type=int, default=4, help='views sampled for the pairs')
    parser.add_argument('--seed', type=int, default=0, help='seed of the view sampling')
    parser.add_argument('--sets-from-mesh', action='store_true',
                        help='compute the sets here (Segmentator on the scene points) instead of reading them')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    import numpy as np
    from mmengine.registry import init_default_scope

    from hicl.evaluation.refinement import (find_scene, load_refined_scene, pair_agreement, refinement_panels,
                                            true_point_labels)
    from hicl.vis.top_down import render_top_down
    init_default_scope('mmdet3d')
    dataset, index = find_scene(cfg, args.scene)
    point_sets_of = None
    if args.sets_from_mesh:
        from hicl.geometry.segmentation import segment_points
        point_sets_of = segment_points
    np.random.seed(args.seed)
    results = load_refined_scene(dataset, index, cfg.train_pipeline, args.num_frames, point_sets_of)
    render_top_down(results['points'].coord.numpy(), refinement_panels(results, dataset.metainfo['palette']), args.out,
                    f'{args.scene}: {args.num_frames} views, {len(results["pair_label"])} pairs')
    print(f'{args.scene}: {results["set_voting_changed"]} of {len(results["pair_label"])} pair labels changed')
    truth = true_point_labels(results)
    if truth is not None:
        raw_rate, refined_rate = pair_agreement(results, truth)
        print(f'pair labels equal to the true point label: raw {raw_rate:.3f}, refined {refined_rate:.3f}')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
