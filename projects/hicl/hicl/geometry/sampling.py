"""Proportional sampling of points over the geometric consistency sets (paper 3.2.2: M_k = M * N_k / N)."""
import torch


def largest_remainder_quotas(weights, total):
    """Integers proportional to ``weights`` (K,) that sum to ``total``: floors of the exact shares, plus one
    for the largest remainders (ties: lower index). Returns (K,) int64."""
    weights = torch.as_tensor(weights, dtype=torch.double)
    if total == 0 or float(weights.sum()) == 0:
        return torch.zeros(len(weights), dtype=torch.long)
    shares = weights * total / weights.sum()
    quotas = shares.floor().long()
    missing = total - int(quotas.sum())
    quotas[(shares - quotas).argsort(descending=True, stable=True)[:missing]] += 1
    return quotas


def proportional_quotas(set_sizes, num_samples, every_set=False):
    """How many of ``num_samples`` points each set contributes: M_k = M * N_k / N, rounded to integers.

    The quotas sum to min(M, N) and no quota exceeds its set's size. The paper's rule (the default): the exact
    shares M * N_k / N rounded by largest remainder, so small sets may get no point and the large ones (walls,
    floors) keep their share of the tokens.

    every_set: an option of this project, not the paper's: when there are at least as many samples as sets and
    the rounding leaves a set without a point, one point is reserved per set and the other M - K follow the sizes
    N_k - 1 (small sets are then over-represented). With fewer samples than sets both rules give the largest
    remainders, i.e. one point to each of the largest sets.

    Args:
        set_sizes: (K,) int64 N_k > 0, the number of candidate points of each set.
        num_samples: M.
        every_set: reserve one point per set (see above).
    Returns (K,) int64 M_k.
    """
    set_sizes = torch.as_tensor(set_sizes, dtype=torch.long)
    if set_sizes.numel() and int(set_sizes.min()) <= 0:
        raise ValueError(f'set sizes must be positive, got minimum {int(set_sizes.min())}')
    if num_samples >= int(set_sizes.sum()):
        return set_sizes.clone()
    quotas = largest_remainder_quotas(set_sizes, num_samples)
    if every_set and num_samples >= len(set_sizes) and bool((quotas == 0).any()):
        quotas = 1 + largest_remainder_quotas(set_sizes - 1, num_samples - len(set_sizes))
    return quotas


def sample_points_by_set(point_sets, candidates, num_samples, generator=None, every_set=False):
    """Draw M points of one scene across its sets in proportion to their sizes (paper 3.2.2).

    Args:
        point_sets: (N,) int64 set id of each point; -1 (no set) counts as one more set.
        candidates: (N,) bool, the points that may be drawn (those with a labelled pair).
        num_samples: M (all candidates are returned when there are fewer).
        generator: torch.Generator for reproducible draws (default: torch's global generator, which the
            runner seeds).
        every_set: the quota rule (see :func:`proportional_quotas`; default the paper's).
    Returns (min(M, #candidates),) int64 point indices, unique, grouped by set.
    """
    point_sets = torch.as_tensor(point_sets, dtype=torch.long)
    candidates = torch.as_tensor(candidates, dtype=torch.bool)
    if point_sets.shape != candidates.shape:
        raise ValueError(f'{len(point_sets)} set ids but {len(candidates)} candidate flags: one of each per point')
    candidate_idx = candidates.nonzero().squeeze(1)
    if len(candidate_idx) == 0:
        return candidate_idx
    shuffled = candidate_idx[torch.randperm(len(candidate_idx), generator=generator)]
    set_ids, set_of_point, set_sizes = torch.unique(point_sets[shuffled], return_inverse=True,
                                                    return_counts=True)
    order = set_of_point.argsort(stable=True)  # grouped by set, random within a set
    grouped_sets = set_of_point[order]
    first_of_set = torch.cumsum(set_sizes, 0) - set_sizes
    rank_in_set = torch.arange(len(order)) - first_of_set[grouped_sets]
    keep = rank_in_set < proportional_quotas(set_sizes, num_samples, every_set)[grouped_sets]
    return shuffled[order[keep]]
