"""What tools/benchmark.py measures: training-iteration cost (data and model separately, peak memory), the 3D net
alone on one LiDAR sweep, MaskCLIP throughput, point <-> pixel pairing throughput on a synthetic ScanNet-size
scene, over-segmentation time, and segment_mesh against ScanNet's C++ Segmentator."""
import resource
import time

import numpy as np
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner

from ..geometry import depth_agrees, pair_points_with_pixels
from .benchmark_scenes import bumpy_grid_mesh, synthetic_lidar_sweep, synthetic_pairing_scene


def peak_memory_mib():
    """Peak resident memory of this process (CPU) or peak allocated CUDA memory, MiB."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark_training(cfg, num_iters=10, warmup=2):
    """Run ``warmup + num_iters`` training iterations of ``cfg`` in this process (no dataloader workers).
    A model with training stages (HICLSegmentor) is timed in its last stage, every loss on.

    Returns dict(data_s, step_s, iter_s: mean seconds per iteration after warm-up; voxels, pairs: mean per
    batch; peak_mib; params: parameter count; part_params: {top-level module name: parameter count}).
    """
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    model = MODELS.build(cfg.model)
    model.train()
    if hasattr(model, 'set_stage'):
        model.set_stage(2)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data_times, step_times, voxels, pairs = [], [], [], []
    batches = iter(loader)
    for i in range(warmup + num_iters):
        start = time.perf_counter()
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        loaded = time.perf_counter()
        with optim_wrapper.optim_context(model):  # what BaseModel.train_step does, keeping the voxel count
            data = model.data_preprocessor(batch, True)
            loss, _ = model.parse_losses(model(**data, mode='loss'))
        optim_wrapper.update_params(loss)
        done = time.perf_counter()
        if i >= warmup:
            data_times.append(loaded - start)
            step_times.append(done - loaded)
            pairs.append(sum(len(s.pseudo_pairs.label) for s in batch['data_samples']))
            voxels.append(len(data['inputs']['voxels']['voxels']))
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return dict(data_s=mean(data_times), step_s=mean(step_times), iter_s=mean(data_times) + mean(step_times),
                voxels=mean(voxels), pairs=mean(pairs), peak_mib=peak_memory_mib(),
                params=sum(p.numel() for p in model.parameters()), part_params=module_parameter_counts(model))


def benchmark_sweep_backbone(model_cfg, points, num_iters=5, warmup=1):
    """Seconds per training iteration of the 3D net of ``model_cfg`` (a LabelFreeSegmentor config) on one sweep.

    An iteration is the data preprocessor's voxelisation, the backbone's forward pass on the ``feature_dims``
    columns, the backward pass of a mean-square loss on its output features and an SGD step.
    points: (N, 4+) float32 x y z intensity ... of the sweep. Returns dict(iter_s, voxels, params).
    """
    from mmdet3d.structures import Det3DDataSample, PointData
    init_default_scope('mmdet3d')
    preprocessor = MODELS.build(model_cfg.data_preprocessor)
    backbone = MODELS.build(model_cfg.backbone).train()
    optimizer = torch.optim.SGD(backbone.parameters(), lr=1e-3)
    batch = dict(inputs=dict(points=[torch.as_tensor(points, dtype=torch.float32)]),
                 data_samples=[Det3DDataSample(gt_pts_seg=PointData())])
    times = []
    for i in range(warmup + num_iters):
        start = time.perf_counter()
        voxels = preprocessor(batch, True)['inputs']['voxels']
        features = backbone(voxels['voxels'][:, list(model_cfg.feature_dims)], voxels['coors'])
        features.square().mean().backward()
        optimizer.step()
        optimizer.zero_grad()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return dict(iter_s=sum(times) / len(times), voxels=len(voxels['coors']),
                params=sum(p.numel() for p in backbone.parameters()))


def module_parameter_counts(model):
    """{name: parameter count} of the model's top-level modules that have parameters (the paper's Table 1)."""
    counts = {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
    return {name: count for name, count in counts.items() if count}


def benchmark_maskclip(model='ViT-B-16', input_size=(416, 224), batch_size=8, iters=3):
    """MaskCLIP dense-feature throughput of a random-weight ``model`` at input_size = (W, H) pixels: frames per
    second over ``iters`` batches of ``batch_size`` frames, after one warm-up batch."""
    from ..pseudo_labels.maskclip import build_dense_features
    dense_features = build_dense_features(model, pretrained=None)
    images = torch.rand(batch_size, 3, input_size[1], input_size[0])
    dense_features(images)
    start = time.perf_counter()
    for _ in range(iters):
        dense_features(images)
    return iters * batch_size / (time.perf_counter() - start)


def benchmark_pairing(num_points=150_000, num_frames=8, image_size=(640, 480), repeats=3):
    """Time the pairing of one scene: the depth test (5 cm) and the labelled projection, as the data pipeline runs
    them, on a synthetic ScanNet-size scene (N points, V frames, (W, H) depth and label images).

    Returns dict(seconds_per_scene: median over ``repeats``; projections_per_s: point-frame projections per second
    (N * V / seconds); pairs: pairs of one scene; num_points, num_frames).
    """
    xyz, poses, depth, labels, intrinsic = synthetic_pairing_scene(num_points, num_frames, image_size)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        visible = depth_agrees(xyz, poses, depth, intrinsic, tolerance=0.05)
        pairs = pair_points_with_pixels(xyz, poses, labels, intrinsic, visible=visible)
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    return dict(seconds_per_scene=seconds, projections_per_s=num_points * num_frames / seconds,
                pairs=len(pairs.label), num_points=num_points, num_frames=num_frames)


def benchmark_segmentation(mesh_side=317, sweep_path=None, repeats=3):
    """Seconds (median of ``repeats``, after a compile warm-up) to over-segment a ``mesh_side``^2-vertex bumpy mesh
    (317^2 ~ 100k) with ``segment_mesh`` and a LiDAR sweep with ``segment_lidar``: the nuScenes ``*.pcd.bin`` at
    ``sweep_path`` (float32 x 5) if given, else ``synthetic_lidar_sweep()`` (34688 points).

    Returns dict(mesh_s, mesh_vertices, mesh_sets, lidar_s, lidar_points, lidar_sets).
    """
    from ..geometry.segmentation import segment_lidar, segment_mesh
    vertices, faces = bumpy_grid_mesh(mesh_side)
    if sweep_path is None:
        sweep = synthetic_lidar_sweep()
    else:
        sweep = np.fromfile(sweep_path, dtype=np.float32).reshape(-1, 5)[:, :3]
    segment_mesh(*bumpy_grid_mesh(5))
    segment_lidar(sweep[:100])
    mesh_s, mesh_ids = median_seconds(lambda: segment_mesh(vertices, faces), repeats)
    lidar_s, lidar_ids = median_seconds(lambda: segment_lidar(sweep), repeats)
    return dict(mesh_s=mesh_s, mesh_vertices=len(vertices), mesh_sets=int(mesh_ids.max()) + 1, lidar_s=lidar_s,
                lidar_points=len(sweep), lidar_sets=int(lidar_ids.max()) + 1)


def median_seconds(run, repeats):
    """(median wall-clock seconds of ``repeats`` calls of ``run()``, the last call's result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


SEGMENTATOR_REFERENCE_SETTINGS = ((0.01, 20), (0.05, 50))  # (k, min_size) of the reference outputs


def benchmark_segmentator_reference(folder, segmentator=None, repeats=3):
    """``segment_mesh`` against ScanNet's C++ Segmentator on the real-sensor mesh of ``folder``
    (shared/data/segmentator_reference: scene0707_00_depth0.ply and the tool's ``.<k>.segs.json`` outputs).

    segmentator: path of the C++ tool built from ScanNet's source (timed here on a copy of the mesh, reading the
    PLY and writing its JSON included), or None (no time ratio). Returns a list of dict(k, min_size, vertices,
    sets, reference_sets, ari, seconds, read_seconds, cpp_seconds) per reference setting; seconds: segmentation
    alone, read_seconds: reading the PLY (plyfile, memory-mapped faces), cpp_seconds None without the tool.
    """
    import json
    import os
    import shutil
    import subprocess
    import tempfile

    import plyfile
    from sklearn.metrics import adjusted_rand_score

    from ..geometry.segmentation import segment_mesh
    mesh_path = os.path.join(folder, 'scene0707_00_depth0.ply')

    def read_mesh():
        ply = plyfile.PlyData.read(mesh_path, known_list_len={'face': {'vertex_indices': 3}})  # memory-mapped
        return (np.stack([ply['vertex'][axis] for axis in 'xyz'], axis=1),
                np.asarray(ply['face']['vertex_indices']))

    read_seconds, (vertices, faces) = median_seconds(read_mesh, repeats)
    segment_mesh(vertices[:3], [[0, 1, 2]])  # compile
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        mesh_copy = shutil.copy(mesh_path, scratch)  # the tool writes its JSON next to the mesh
        for k, min_size in SEGMENTATOR_REFERENCE_SETTINGS:
            with open(os.path.join(folder, f'scene0707_00_depth0.{k:.6f}.segs.json')) as file:
                reference = np.asarray(json.load(file)['segIndices'])
            seconds, ids = median_seconds(lambda: segment_mesh(vertices, faces, k=k, min_size=min_size), repeats)
            cpp_seconds = None
            if segmentator:
                cpp_seconds = median_seconds(lambda: subprocess.run(
                    [segmentator, mesh_copy, str(k), str(min_size)], check=True, capture_output=True), repeats)[0]
            rows.append(dict(k=k, min_size=min_size, vertices=len(vertices), sets=int(ids.max()) + 1,
                             reference_sets=len(np.unique(reference)), ari=adjusted_rand_score(reference, ids),
                             seconds=seconds, read_seconds=read_seconds, cpp_seconds=cpp_seconds))
    return rows
