"""tools/benchmark.py --scan-inference: points per second and peak memory of a model on large scans (tools/infer.py's
path: hicl.inference.predict_scan, one pass or tiles), each size in a fresh forked process. The model is a trained
checkpoint, or the config's 3D net with random weights (``checkpoint='random'``: speed and memory do not depend on
the weights), so that a paper-size net can be timed without training it."""
import glob
import multiprocessing
import os.path as osp
import resource
import time

import numpy as np

ROOM_SPACING_M = 12.0  # rooms laid out on a grid this far apart
ROOMS_PER_ROW = 8


def tiled_rooms(points_dir, num_points):
    """(num_points, 6) float32 x y z r g b: the dataset's point files (x y z r g b) copied side by side on a grid
    until there are enough points."""
    files = sorted(glob.glob(osp.join(points_dir, '*.bin')))
    if not files:
        raise FileNotFoundError(f'no point files in {points_dir}: create the dataset first (tools/create_data.py)')
    rooms, total, index = [], 0, 0
    while total < num_points:
        room = np.fromfile(files[index % len(files)], np.float32).reshape(-1, 6).copy()
        room[:, 0] += (index % ROOMS_PER_ROW) * ROOM_SPACING_M
        room[:, 1] += (index // ROOMS_PER_ROW) * ROOM_SPACING_M
        rooms.append(room)
        total += len(room)
        index += 1
    return np.concatenate(rooms)[:num_points]


def benchmark_model(cfg, checkpoint):
    """The 3D net of ``cfg`` in eval mode: with a checkpoint's weights, or random ones (seed 0) for 'random'."""
    if checkpoint != 'random':
        from ..inference import load_inference_model
        return load_inference_model(cfg, checkpoint)
    import torch
    from mmdet3d.registry import MODELS
    from mmengine.registry import init_default_scope

    from ..engine.runtime import inference_only
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    torch.manual_seed(0)
    return MODELS.build(inference_only(cfg.copy()).model).eval()


# Tiled rows of at most this many points also run in one pass (after the timing and the memory reading), to give
# the share of points whose tiled prediction equals the one-pass prediction.
AGREEMENT_MAX_POINTS = 1_000_000


def scan_inference_row(cfg, checkpoint, rooms_dir, num_points, points_per_pass, queue):
    """In this process: the seconds of predict_scan on a scan of ``num_points`` (rooms of ``rooms_dir`` side by side;
    after a 20k-point warm-up), and the process's peak resident memory (MiB); put (seconds, peak MiB, passes,
    agreement with one pass or None) on ``queue``."""
    from ..inference import predict_scan
    from ..scans.readers import Scan
    model = benchmark_model(cfg, checkpoint)
    points = tiled_rooms(rooms_dir, num_points)
    scan = Scan(points[:, :3].astype(np.float64), points[:, 3:6].astype(np.uint8), None, 'benchmark')
    predict_scan(model, cfg, Scan(scan.xyz[:20000], scan.rgb[:20000], None, 'warm-up'))
    passes = []
    start = time.perf_counter()
    prediction, _ = predict_scan(model, cfg, scan, max_points=points_per_pass,
                                 progress=lambda tiles: passes.extend(tiles) or tiles)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    agreement = None
    if passes and num_points <= AGREEMENT_MAX_POINTS:
        agreement = float(np.mean(predict_scan(model, cfg, scan)[0].prediction == prediction.prediction))
    queue.put((seconds, peak, max(len(passes), 1), agreement))


def benchmark_scan_inference(cfg, checkpoint, rooms_dir, sizes=((100_000, None), (1_000_000, None),
                                                                (1_000_000, 250_000), (5_000_000, None),
                                                                (5_000_000, 1_000_000))):
    """[(points, points per pass or None, passes, seconds, points per second, peak MiB, agreement with one pass or
    None)] for each (points, points per pass) of ``sizes``; ``cfg``: an mmengine Config, ``checkpoint``: a .pth or
    'random'."""
    context = multiprocessing.get_context('fork')
    rows = []
    for num_points, per_pass in sizes:
        queue = context.Queue()
        process = context.Process(target=scan_inference_row,
                                  args=(cfg, checkpoint, rooms_dir, num_points, per_pass, queue))
        process.start()
        seconds, peak, passes, agreement = queue.get()
        process.join()
        rows.append((num_points, per_pass, passes, seconds, num_points / seconds, peak, agreement))
    return rows


def format_scan_inference(rows):
    lines = ['| points | points per pass | passes | seconds | points/s | peak memory (MiB) | equal to one pass |',
             '|---|---|---|---|---|---|---|']
    lines += [f'| {points:,} | {per_pass and f"{per_pass:,}" or "all (one pass)"} | {passes} | {seconds:.1f} | '
              f'{rate / 1000:.0f}k | {peak:.0f} | {"-" if agreement is None else f"{100 * agreement:.2f}%"} |'
              for points, per_pass, passes, seconds, rate, peak, agreement in rows]
    return '\n'.join(lines)
