"""tools/benchmark.py --scan-inference: points per second and peak memory of a trained model on large scans
(tools/infer.py's path: hicl.inference.predict_scan, one pass or tiles), each size in a fresh forked process."""
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


def scan_inference_row(config, checkpoint, num_points, points_per_pass, queue):
    """In this process: the seconds of predict_scan on a scan of ``num_points`` (after a 20k-point warm-up), and
    the process's peak resident memory (MiB); put (seconds, peak MiB, passes) on ``queue``."""
    from mmengine.config import Config

    from ..inference import load_inference_model, predict_scan
    from ..scans.readers import Scan
    from ..scans.tiling import make_tiles, tile_size_for
    cfg = Config.fromfile(config)
    model = load_inference_model(cfg, checkpoint)
    points = tiled_rooms(osp.join(cfg.test_dataloader.dataset.data_root, 'points'), num_points)
    scan = Scan(points[:, :3].astype(np.float64), points[:, 3:6].astype(np.uint8), None, 'benchmark')
    predict_scan(model, cfg, Scan(scan.xyz[:20000], scan.rgb[:20000], None, 'warm-up'))
    start = time.perf_counter()
    predict_scan(model, cfg, scan, max_points=points_per_pass)
    seconds = time.perf_counter() - start
    passes = (1 if points_per_pass is None or num_points <= points_per_pass else
              len(make_tiles(scan.xyz, tile_size_for(scan.xyz, points_per_pass, 2.0), 2.0)))
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, passes))


def benchmark_scan_inference(config, checkpoint, sizes=((100_000, None), (1_000_000, None), (1_000_000, 250_000),
                                                        (5_000_000, 1_000_000))):
    """[(points, points per pass or None, passes, seconds, points per second, peak MiB)] for each (points,
    points per pass) of ``sizes``."""
    context = multiprocessing.get_context('fork')
    rows = []
    for num_points, per_pass in sizes:
        queue = context.Queue()
        process = context.Process(target=scan_inference_row, args=(config, checkpoint, num_points, per_pass, queue))
        process.start()
        seconds, peak, passes = queue.get()
        process.join()
        rows.append((num_points, per_pass, passes, seconds, num_points / seconds, peak))
    return rows


def format_scan_inference(rows):
    lines = ['| points | points per pass | passes | seconds | points/s | peak memory (MiB) |',
             '|---|---|---|---|---|---|']
    lines += [f'| {points:,} | {per_pass and f"{per_pass:,}" or "all (one pass)"} | {passes} | {seconds:.1f} | '
              f'{rate / 1000:.0f}k | {peak:.0f} |' for points, per_pass, passes, seconds, rate, peak in rows]
    return '\n'.join(lines)
