"""Training-iteration cost: seconds per iteration (data and model separately) and peak memory."""
import resource
import time

import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner


def peak_memory_mib():
    """Peak resident memory of this process (CPU) or peak allocated CUDA memory, MiB."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark_training(cfg, num_iters=10, warmup=2):
    """Run ``warmup + num_iters`` training iterations of ``cfg`` in this process (no dataloader workers).

    Returns dict(data_s, step_s, iter_s: mean seconds per iteration after warm-up; voxels, pairs: mean per
    batch; peak_mib; params: parameter count).
    """
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    model = MODELS.build(cfg.model)
    model.train()
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
                params=sum(p.numel() for p in model.parameters()))
