"""The inter-scene neck under 2-process gloo: the gathered sequence behaves like one process with the whole batch."""
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from hicl.models.necks import InterSceneCorrelationNeck

SCENE_SIZES = (3, 5, 4, 6)  # rank 0 holds scenes 0-1, rank 1 scenes 2-3
TRANSFORMER = dict(in_dims=8, num_layers=2, num_heads=2, mlp_ratio=2.0)


def whole_batch():
    """The scenes' features and a fixed random weighting of the outputs (the loss is their weighted sum)."""
    generator = torch.Generator().manual_seed(0)
    features = [torch.randn(size, 8, generator=generator) for size in SCENE_SIZES]
    weights = torch.randn(sum(SCENE_SIZES), 8, generator=generator)
    return features, weights


def build_neck(gather):
    torch.manual_seed(0)
    return InterSceneCorrelationNeck(TRANSFORMER, gather_across_ranks=gather)


def run_rank(rank, init_file, out_dir):
    """Rank ``rank`` of 2: the neck on its own two scenes with gathering, loss on its own points."""
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    try:
        features, weights = whole_batch()
        own = [x.clone().requires_grad_() for x in features[2 * rank:2 * rank + 2]]
        start = sum(SCENE_SIZES[:2 * rank])
        neck = build_neck(gather=True)
        outputs = torch.cat(neck(own))
        (outputs * weights[start:start + len(outputs)]).sum().backward()  # this rank's loss: its own points
        torch.save(dict(outputs=outputs.detach(), input_grads=[x.grad for x in own],
                        param_grads={name: p.grad for name, p in neck.named_parameters()}),
                   f'{out_dir}/rank{rank}.pt')
    finally:
        dist.destroy_process_group()


def test_two_process_gather_equals_one_process_with_the_whole_batch(tmp_path):
    run_two_ranks(run_rank, tmp_path)
    ranks = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]

    features, weights = whole_batch()
    features = [x.clone().requires_grad_() for x in features]
    neck = build_neck(gather=True)  # no process group here: the whole batch in one sequence
    outputs = torch.cat(neck(features))
    (outputs * weights).sum().backward()

    assert torch.allclose(torch.cat([r['outputs'] for r in ranks]), outputs.detach(), atol=1e-5)
    distributed_grads = ranks[0]['input_grads'] + ranks[1]['input_grads']
    for got, expected in zip(distributed_grads, [x.grad for x in features]):
        assert torch.allclose(got, expected, atol=1e-5)  # other ranks' losses reach each rank's own points
    for name, parameter in neck.named_parameters():  # DDP sums (then averages) these across ranks
        assert torch.allclose(ranks[0]['param_grads'][name] + ranks[1]['param_grads'][name], parameter.grad,
                              atol=1e-4)


def run_rank_without_gathering(rank, init_file, out_dir):
    """Rank ``rank`` of 2: the neck on its own two scenes, gathering switched off."""
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    try:
        features, _ = whole_batch()
        outputs = torch.cat(build_neck(gather=False)(features[2 * rank:2 * rank + 2]))
        torch.save(outputs.detach(), f'{out_dir}/local{rank}.pt')
    finally:
        dist.destroy_process_group()


def run_two_ranks(function, tmp_path):
    # spawned, not forked: forking a process whose OpenMP pool is running can deadlock the children
    mp.start_processes(function, args=(str(tmp_path / 'init'), str(tmp_path)), nprocs=2, start_method='spawn')


def test_without_gathering_each_rank_sees_only_its_own_scenes(tmp_path):
    run_two_ranks(run_rank_without_gathering, tmp_path)
    features, _ = whole_batch()
    neck = build_neck(gather=False)
    for rank in range(2):
        expected = torch.cat(neck(features[2 * rank:2 * rank + 2])).detach()
        assert torch.allclose(torch.load(tmp_path / f'local{rank}.pt'), expected, atol=1e-5)
