"""Benchmarks, printed as a table: python tools/benchmark.py [CONFIG ...] [--iters 10] [--training-only].

Rows: seconds per training iteration (data loading and model step separately), peak memory and the time added
relative to the first config, for each config (default: the ablation rows EXP I baseline, EXP II + set voting
and EXP V full HICL on the SynthRooms demo scenes; each timed in a fresh forked process), then the parameter
count of each part of each model (the paper's Table 1 columns). A second table gives the point <-> pixel pairing
throughput (depth test + labelled projection) on a synthetic ScanNet-size scene (150k points, 8 frames, 640x480),
a third the 3D net alone (MinkUNet and SPVCNN of configs/_base_/models/spvcnn_clip.py, 10 cm voxels, intensity
input) training on one 35k-point LiDAR sweep, a fourth MaskCLIP pseudo-labelling throughput (ViT-B-16, random
weights, batched, 416x224 input), a fifth the over-segmentation time of a 100k-vertex mesh and a 35k-point LiDAR
sweep, a sixth segment_mesh against ScanNet's C++ Segmentator on a real-sensor mesh (adjusted Rand index, and the
time ratio when --segmentator gives the C++ tool). The sweep is the real nuScenes demo sweep when ../shared/data
is there, else a synthetic one."""
import argparse
import os

from mmengine.config import Config, DictAction

SHARED_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'data')
SWEEP_MODEL_CONFIG = 'configs/_base_/models/spvcnn_clip.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('configs', nargs='*',
                        default=['configs/ablation/exp1_baseline.py', 'configs/ablation/exp2_set_voting.py',
                                 'configs/ablation/exp5_feedback_kl.py'])
    parser.add_argument('--iters', type=int, default=10, help='timed iterations (after 2 warm-up ones)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, key=value')
    parser.add_argument('--skip-maskclip', action='store_true', help='do not time MaskCLIP pseudo-labelling')
    parser.add_argument('--training-only', action='store_true',
                        help='only the training tables of the configs (cost and parameters)')
    parser.add_argument('--scan-inference', metavar='CKPT',
                        help='only the table of tools/infer.py on large scans (100k to 5M points, one pass and tiled) '
                             'with this checkpoint of the first config, or "random" (its 3D net with random weights: '
                             'speed and memory of a net nobody has trained here, e.g. configs/hicl_scannet.py)')
    parser.add_argument('--rooms', default='data/synthrooms/points',
                        help='--scan-inference: the point files (x y z r g b float32) laid side by side into scans')
    parser.add_argument('--segmentator', metavar='BIN',
                        help="ScanNet's C++ Segmentator, built from its source, to time against segment_mesh on the "
                             'reference mesh of ../shared/data/segmentator_reference')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.scan_inference:
        from hicl.experiments.benchmark_scans import benchmark_scan_inference, format_scan_inference
        cfg = Config.fromfile(args.configs[0])
        cfg.merge_from_dict(args.cfg_options or {})
        print(format_scan_inference(benchmark_scan_inference(cfg, args.scan_inference, args.rooms)))
        return
    from hicl.experiments.benchmark_report import benchmark_tables, training_tables
    if args.training_only:
        tables = training_tables(args.configs, args.iters, args.cfg_options)
    else:
        shared_data = SHARED_DATA if os.path.isdir(SHARED_DATA) else None
        tables = benchmark_tables(args.configs, Config.fromfile(SWEEP_MODEL_CONFIG).model, args.iters,
                                  args.cfg_options, shared_data, args.segmentator, not args.skip_maskclip)
    for text in tables:
        print(text, flush=True)


if __name__ == '__main__':
    main()
