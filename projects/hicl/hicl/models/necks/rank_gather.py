"""Concatenating per-rank token sequences across distributed ranks, with gradients back to each rank."""
import torch
import torch.distributed as dist


def distributed_world_size():
    """Number of ranks of the default process group (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


class _GatherSequences(torch.autograd.Function):
    """Forward: every rank's rows (padded to the longest for all_gather), concatenated in rank order.
    Backward: every rank's loss may depend on all rows, so the gradients of all ranks are summed and each rank
    keeps the slice of the rows it owns."""

    @staticmethod
    def forward(ctx, local, counts):
        padded = local.new_zeros((max(counts), ) + local.shape[1:])
        padded[:len(local)] = local
        gathered = [torch.empty_like(padded) for _ in counts]
        dist.all_gather(gathered, padded)
        rank = dist.get_rank()
        ctx.start, ctx.end = sum(counts[:rank]), sum(counts[:rank + 1])
        return torch.cat([rows[:count] for rows, count in zip(gathered, counts)])

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.start:ctx.end], None


def gather_sequences(local):
    """(T_r, D) rows of this rank -> ((T, D) rows of all ranks in rank order, (start, end) of this rank's rows).

    Differentiable: the gradient reaching a rank's rows is the sum over ranks of the gradients of their losses,
    so with each rank's loss taken on its own rows a distributed batch trains like one large batch. Without a
    process group (or with one rank) the rows are returned unchanged.
    """
    if distributed_world_size() == 1:
        return local, (0, len(local))
    counts = [torch.zeros(1, dtype=torch.long, device=local.device) for _ in range(distributed_world_size())]
    dist.all_gather(counts, torch.tensor([len(local)], dtype=torch.long, device=local.device))
    counts = [int(count) for count in counts]
    start = sum(counts[:dist.get_rank()])
    return _GatherSequences.apply(local, counts), (start, start + len(local))
