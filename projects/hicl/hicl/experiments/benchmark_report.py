"""The tables of ``tools/benchmark.py``: each benchmark of :mod:`hicl.experiments.benchmark` run (the timed
ones in a forked process, so each peak memory is its own) and formatted as a fixed-width text table."""
import multiprocessing
import os

import numpy as np
from mmengine.config import Config

from ..dataset_io import read_lidar_points
from .benchmark import (benchmark_maskclip, benchmark_pairing, benchmark_segmentation, benchmark_segmentator_reference,
                        benchmark_sweep_backbone, benchmark_training)
from .benchmark_scenes import synthetic_lidar_sweep

MASKCLIP_INPUT_SIZE, MASKCLIP_BATCH = (416, 224), 8
SYNTHETIC_SWEEP_INTENSITY = 20.0  # the synthetic sweep's constant intensity column (nuScenes: 0..255)


def in_forked_process(function, *args, **kwargs):
    """``function(*args, **kwargs)`` run in a forked child process, so its peak memory is its own."""
    with multiprocessing.get_context('fork').Pool(1) as pool:
        return pool.apply(function, args, kwargs)


def table(header, rows):
    """A text table: a blank line, the header, a rule as wide as the header, the rows."""
    return '\n'.join(['', header, '-' * len(header)] + rows)


def training_tables(config_paths, iters, cfg_options=None):
    """(cost table, parameter table) of ``benchmark_training`` for each config; 'added' is the time per
    iteration relative to the first config."""
    header = (f'{"config":<36} {"voxel m":>7} {"batch":>5} {"voxels":>8} {"pairs":>8} {"data s/it":>9} '
              f'{"step s/it":>9} {"total s/it":>10} {"added":>7} {"peak MiB":>9} {"params":>10}')
    rows, part_rows, baseline_s = [], [], None
    for path in config_paths:
        cfg = Config.fromfile(path)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        r = in_forked_process(benchmark_training, cfg, num_iters=iters)
        voxel = cfg.model.data_preprocessor.voxel_layer.voxel_size[0]
        baseline_s = baseline_s or r['iter_s']
        added = f'{100 * (r["iter_s"] / baseline_s - 1):+.1f}%'
        name = os.path.basename(path)
        rows.append(f'{name:<36} {voxel:>7.2f} {cfg.train_dataloader.batch_size:>5} {r["voxels"]:>8.0f} '
                    f'{r["pairs"]:>8.0f} {r["data_s"]:>9.3f} {r["step_s"]:>9.3f} {r["iter_s"]:>10.3f} '
                    f'{added:>7} {r["peak_mib"]:>9.0f} {r["params"]:>10,d}')
        part_rows += [f'{name:<36} {part:<20} {count:>12,d}' for part, count in r['part_params'].items()]
    return table(header, rows), table(f'{"parameters":<36} {"part":<20} {"count":>12}', part_rows)


def pairing_table(result):
    """The ``benchmark_pairing`` result as a one-row table."""
    header = f'{"pairing (synthetic scene)":<36} {"points":>8} {"frames":>6} {"pairs":>8} {"s/scene":>8} {"proj/s":>12}'
    row = (f'{"depth test + labelled projection":<36} {result["num_points"]:>8,d} {result["num_frames"]:>6} '
           f'{result["pairs"]:>8} {result["seconds_per_scene"]:>8.3f} {result["projections_per_s"]:>12,.0f}')
    return table(header, [row])


def demo_sweep(shared_data):
    """Path of the real nuScenes demo sweep in ``shared_data``/nuscenes_demo, or None."""
    folder = os.path.join(shared_data, 'nuscenes_demo') if shared_data else ''
    found = [name for name in sorted(os.listdir(folder)) if name.endswith('.pcd.bin')] if os.path.isdir(folder) else []
    return os.path.join(folder, found[0]) if found else None


def sweep_points(path):
    """(N, 4) float32 x y z intensity of the sweep at ``path`` (nuScenes .pcd.bin), or of a synthetic sweep."""
    if path:
        return read_lidar_points(path)[:, :4]
    xyz = synthetic_lidar_sweep()
    return np.concatenate([xyz, np.full((len(xyz), 1), SYNTHETIC_SWEEP_INTENSITY)], axis=1).astype(np.float32)


def sweep_backbone_models(model):
    """[(name, model config)]: the SPVCNN model config ``model`` (configs/_base_/models/spvcnn_clip.py) and the
    same model with the MinkUNet backbone (MinkUNetSpconvBackbone) in its place."""
    minkunet = model.copy()
    minkunet.backbone = dict(model.backbone, type='MinkUNetSpconvBackbone')
    minkunet.backbone.pop('drop_ratio')
    return [('MinkUNet (spconv)', minkunet), ('SPVCNN (SPVCNNSpconvBackbone)', model)]


def sweep_backbone_table(model, points, iters):
    """``benchmark_sweep_backbone`` of each of ``sweep_backbone_models(model)`` on ``points``."""
    header = (f'{"3D net on one LiDAR sweep (train)":<36} {"points":>8} {"voxels":>8} {"params":>10} '
              f'{"s/iter":>8}')
    rows = []
    for name, cfg in sweep_backbone_models(model):
        r = in_forked_process(benchmark_sweep_backbone, cfg, points, num_iters=iters)
        rows.append(f'{name:<36} {len(points):>8,d} {r["voxels"]:>8,d} {r["params"]:>10,d} {r["iter_s"]:>8.3f}')
    return table(header, rows)


def segmentation_table(result):
    """The ``benchmark_segmentation`` result: seconds and set counts for the mesh and the sweep."""
    header = f'{"over-segmentation":<36} {"points":>8} {"sets":>6} {"seconds":>8}'
    rows = [f'{"mesh (Segmentator, bumpy grid)":<36} {result["mesh_vertices"]:>8,d} {result["mesh_sets"]:>6} '
            f'{result["mesh_s"]:>8.3f}',
            f'{"LiDAR sweep (segment_lidar)":<36} {result["lidar_points"]:>8,d} {result["lidar_sets"]:>6} '
            f'{result["lidar_s"]:>8.3f}']
    return table(header, rows)


def segmentator_reference_table(results):
    """The ``benchmark_segmentator_reference`` rows: partition agreement (adjusted Rand index) and times; the
    time ratio needs the C++ tool's time."""
    header = (f'{"segment_mesh vs C++ Segmentator":<36} {"vertices":>8} {"sets":>5} {"C++":>5} {"ARI":>6} '
              f'{"seg s":>6} {"+read s":>7} {"C++ s":>6} {"ratio":>6}')
    rows = []
    for r in results:
        total = r['seconds'] + r['read_seconds']
        cpp = f'{r["cpp_seconds"]:>6.3f} {total / r["cpp_seconds"]:>6.2f}' if r['cpp_seconds'] else f'{"-":>6} {"-":>6}'
        setting = f'k {r["k"]} / min {r["min_size"]}'
        rows.append(f'{setting:<36} {r["vertices"]:>8,d} {r["sets"]:>5} '
                    f'{r["reference_sets"]:>5} {r["ari"]:>6.4f} {r["seconds"]:>6.3f} {total:>7.3f} {cpp}')
    return table(header, rows) + ('\n(ratio: ours with reading the PLY over the C++ tool with reading the PLY and '
                                  'writing its JSON; pass --segmentator BIN for it)')


def maskclip_table():
    """MaskCLIP pseudo-labelling throughput of ViT-B-16 with random weights."""
    size, batch = MASKCLIP_INPUT_SIZE, MASKCLIP_BATCH
    header = f'{"MaskCLIP pseudo-labels":<36} {"input":>9} {"batch":>5} {"frames/s":>9}'
    row = (f'{"ViT-B-16 (random weights)":<36} {f"{size[0]}x{size[1]}":>9} {batch:>5} '
           f'{benchmark_maskclip(input_size=size, batch_size=batch):>9.2f}')
    return table(header, [row])


def benchmark_tables(config_paths, sweep_model, iters=10, cfg_options=None, shared_data=None, segmentator=None,
                     maskclip=True):
    """Yield every table of tools/benchmark.py in turn (each as soon as it is measured).

    config_paths: the training configs; sweep_model: the SPVCNN model config for the sweep table; shared_data:
    the real sample folder (../shared/data) or None (then the synthetic sweep is used and the Segmentator
    comparison is skipped); segmentator: path of ScanNet's C++ Segmentator, or None.
    """
    yield from training_tables(config_paths, iters, cfg_options)
    yield pairing_table(benchmark_pairing())
    sweep = demo_sweep(shared_data)
    yield sweep_backbone_table(sweep_model, sweep_points(sweep), iters)
    yield segmentation_table(benchmark_segmentation(sweep_path=sweep))
    reference = os.path.join(shared_data, 'segmentator_reference') if shared_data else None
    if reference and os.path.isdir(reference):
        yield segmentator_reference_table(benchmark_segmentator_reference(reference, segmentator))
    else:
        yield f'\n(no {reference or "shared data"}: the Segmentator comparison is skipped)'
    if maskclip:
        yield maskclip_table()
