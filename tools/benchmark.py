"""Benchmarks, printed as a table: python tools/benchmark.py [CONFIG ...] [--iters 10].

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
import os
import argparse

from mmengine.config import Config, DictAction


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('configs', nargs='*',
                        default=['configs/ablation/exp1_baseline.py', 'configs/ablation/exp2_set_voting.py',
                                 'configs/ablation/exp5_feedback_kl.py'])
    parser.add_argument('--iters', type=int, default=10, help='timed iterations (after 2 warm-up ones)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, key=value')
    parser.add_argument('--skip-maskclip', action='store_true', help='do not time MaskCLIP pseudo-labelling')
    parser.add_argument('--segmentator', metavar='BIN',
                        help="ScanNet's C++ Segmentator, built from its source, to time against segment_mesh on the "
                             'reference mesh of ../shared/data/segmentator_reference')
    return parser.parse_args()


def main():
    args = parse_args()
    from hicl.engine.benchmark import (benchmark_maskclip, benchmark_pairing, benchmark_segmentation,
                                       benchmark_training)
    header = (f'{"config":<36} {"voxel m":>7} {"batch":>5} {"voxels":>8} {"pairs":>8} {"data s/it":>9} '
              f'{"step s/it":>9} {"total s/it":>10} {"added":>7} {"peak MiB":>9} {"params":>10}')
    rows, part_rows, baseline_s = [], [], None
    for path in args.configs:
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        r = in_forked_process(benchmark_training, cfg, num_iters=args.iters)
        voxel = cfg.model.data_preprocessor.voxel_layer.voxel_size[0]
        baseline_s = baseline_s or r['iter_s']
        added = f'{100 * (r["iter_s"] / baseline_s - 1):+.1f}%'
        name = path.split('/')[-1]
        rows.append(f'{name:<36} {voxel:>7.2f} {cfg.train_dataloader.batch_size:>5} {r["voxels"]:>8.0f} '
                    f'{r["pairs"]:>8.0f} {r["data_s"]:>9.3f} {r["step_s"]:>9.3f} {r["iter_s"]:>10.3f} '
                    f'{added:>7} {r["peak_mib"]:>9.0f} {r["params"]:>10,d}')
        part_rows += [f'{name:<36} {part:<20} {count:>12,d}' for part, count in r['part_params'].items()]
    print('\n'.join(['', header, '-' * len(header)] + rows))
    header = f'{"parameters":<36} {"part":<20} {"count":>12}'
    print('\n'.join(['', header, '-' * len(header)] + part_rows))
    print_pairing_table(benchmark_pairing())
    print_sweep_backbone_table(sweep_points(demo_sweep()), args.iters)
    print_segmentation_table(benchmark_segmentation(sweep_path=demo_sweep()))
    print_segmentator_reference_table(args.segmentator)
    if not args.skip_maskclip:
        size, batch = (416, 224), 8
        header = f'{"MaskCLIP pseudo-labels":<36} {"input":>9} {"batch":>5} {"frames/s":>9}'
        row = f'{"ViT-B-16 (random weights)":<36} {f"{size[0]}x{size[1]}":>9} {batch:>5} ' \
              f'{benchmark_maskclip(input_size=size, batch_size=batch):>9.2f}'
        print('\n'.join(['', header, '-' * len(header), row]))


def in_forked_process(function, *args, **kwargs):
    """``function(*args, **kwargs)`` run in a forked child process, so its peak memory is its own."""
    import multiprocessing
    with multiprocessing.get_context('fork').Pool(1) as pool:
        return pool.apply(function, args, kwargs)


def demo_sweep():
    """The real nuScenes demo sweep in ../shared/data, or None."""
    folder = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data', 'nuscenes_demo')
    found = [name for name in sorted(os.listdir(folder)) if name.endswith('.pcd.bin')] if os.path.isdir(folder) else []
    return os.path.join(folder, found[0]) if found else None


def sweep_points(path):
    """(N, 4) float32 x y z intensity of the sweep at ``path`` (nuScenes .pcd.bin), or of a synthetic sweep."""
    import numpy as np
    if path:
        from hicl.datasets.nuscenes_converter import read_lidar_points
        return read_lidar_points(path)[:, :4]
    from hicl.engine.benchmark import synthetic_lidar_sweep
    xyz = synthetic_lidar_sweep()
    return np.concatenate([xyz, np.full((len(xyz), 1), 20.0)], axis=1).astype(np.float32)


def print_sweep_backbone_table(points, iters):
    """Time MinkUNet and SPVCNN (spconv) of the nuScenes model config on one sweep, each in a forked process."""
    from hicl.engine.benchmark import benchmark_sweep_backbone
    model = Config.fromfile('configs/_base_/models/spvcnn_clip.py').model
    minkunet = model.copy()
    minkunet.backbone = dict(model.backbone, type='MinkUNetBackbone', sparseconv_backend='spconv')
    minkunet.backbone.pop('drop_ratio')
    header = (f'{"3D net on one LiDAR sweep (train)":<36} {"points":>8} {"voxels":>8} {"params":>10} '
              f'{"s/iter":>8}')
    rows = []
    for name, cfg in (('MinkUNet (spconv)', minkunet), ('SPVCNN (SPVCNNSpconvBackbone)', model)):
        r = in_forked_process(benchmark_sweep_backbone, cfg, points, num_iters=iters)
        rows.append(f'{name:<36} {len(points):>8,d} {r["voxels"]:>8,d} {r["params"]:>10,d} {r["iter_s"]:>8.3f}')
    print('\n'.join(['', header, '-' * len(header)] + rows))


def print_segmentation_table(result):
    """Print the ``benchmark_segmentation`` result: seconds and set counts for the mesh and the sweep."""
    header = f'{"over-segmentation":<36} {"points":>8} {"sets":>6} {"seconds":>8}'
    rows = [f'{"mesh (Segmentator, bumpy grid)":<36} {result["mesh_vertices"]:>8,d} {result["mesh_sets"]:>6} '
            f'{result["mesh_s"]:>8.3f}',
            f'{"LiDAR sweep (segment_lidar)":<36} {result["lidar_points"]:>8,d} {result["lidar_sets"]:>6} '
            f'{result["lidar_s"]:>8.3f}']
    print('\n'.join(['', header, '-' * len(header)] + rows))


def print_segmentator_reference_table(segmentator):
    """segment_mesh against ScanNet's C++ Segmentator on the real-sensor reference mesh (skipped without
    ../shared/data): partition agreement (adjusted Rand index) and times."""
    from hicl.engine.benchmark import benchmark_segmentator_reference
    folder = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data', 'segmentator_reference')
    if not os.path.isdir(folder):
        print(f'\n(no {folder}: the Segmentator comparison is skipped)')
        return
    header = (f'{"segment_mesh vs C++ Segmentator":<36} {"vertices":>8} {"sets":>5} {"C++":>5} {"ARI":>6} '
              f'{"seg s":>6} {"+read s":>7} {"C++ s":>6} {"ratio":>6}')
    rows = []
    for r in benchmark_segmentator_reference(folder, segmentator):
        total = r['seconds'] + r['read_seconds']
        cpp = f'{r["cpp_seconds"]:>6.3f} {total / r["cpp_seconds"]:>6.2f}' if r['cpp_seconds'] else f'{"-":>6} {"-":>6}'
        setting = f'k {r["k"]} / min {r["min_size"]}'
        rows.append(f'{setting:<36} {r["vertices"]:>8,d} {r["sets"]:>5} '
                    f'{r["reference_sets"]:>5} {r["ari"]:>6.4f} {r["seconds"]:>6.3f} {total:>7.3f} {cpp}')
    print('\n'.join(['', header, '-' * len(header)] + rows))
    print('(ratio: ours with reading the PLY over the C++ tool with reading the PLY and writing its JSON; '
          'pass --segmentator BIN for it)')


def print_pairing_table(result):
    """Print the ``benchmark_pairing`` result as a one-row table."""
    header = f'{"pairing (synthetic scene)":<36} {"points":>8} {"frames":>6} {"pairs":>8} {"s/scene":>8} {"proj/s":>12}'
    row = (f'{"depth test + labelled projection":<36} {result["num_points"]:>8,d} {result["num_frames"]:>6} '
           f'{result["pairs"]:>8} {result["seconds_per_scene"]:>8.3f} {result["projections_per_s"]:>12,.0f}')
    print('\n'.join(['', header, '-' * len(header), row]))


if __name__ == '__main__':
    main()
