"""Proportional sampling over the geometric consistency sets (paper 3.2.2, M_k = M * N_k / N)."""
import pytest
import torch

from hicl.geometry.sampling import largest_remainder_quotas, proportional_quotas, sample_points_by_set


def test_quotas_follow_the_exact_shares_when_every_set_gets_a_point():
    # shares 50, 30, 15, 4, 1 exactly
    assert proportional_quotas([500, 300, 150, 40, 10], 100).tolist() == [50, 30, 15, 4, 1]
    # shares 3.5, 2.5, 1.0, 3.0 -> floors 3, 2, 1, 3 (9); one more to the largest remainder, ties to the lower id
    assert proportional_quotas([35, 25, 10, 30], 10).tolist() == [4, 2, 1, 3]


def test_every_set_is_represented_when_there_are_enough_samples():
    # exact shares 9.97, 0.01, 0.01, 0.01 would leave three sets empty: one point each, the rest (7) to the big one
    assert proportional_quotas([1000, 1, 1, 1], 10).tolist() == [7, 1, 1, 1]


def test_fewer_samples_than_sets_go_to_the_largest_sets():
    assert proportional_quotas([2, 9, 5, 1], 2).tolist() == [0, 1, 1, 0]


def test_quotas_sum_to_m_and_never_exceed_the_set_sizes():
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        sizes = torch.randint(1, 300, (int(torch.randint(1, 80, (1,), generator=generator)),), generator=generator)
        for num_samples in (1, 17, 256, 1024, 100_000):
            quotas = proportional_quotas(sizes, num_samples)
            assert int(quotas.sum()) == min(num_samples, int(sizes.sum()))
            assert bool((quotas <= sizes).all()) and bool((quotas >= 0).all())
            if len(sizes) <= num_samples:
                assert bool((quotas >= 1).all())


def test_largest_remainder_of_nothing_is_zero():
    assert largest_remainder_quotas([0, 0], 0).tolist() == [0, 0]


def test_non_positive_set_size_is_refused():
    with pytest.raises(ValueError, match='set sizes must be positive'):
        proportional_quotas([3, 0], 2)


def test_sampled_points_are_unique_candidates_with_the_set_quotas():
    point_sets = torch.tensor([0] * 60 + [1] * 30 + [-1] * 10 + [2] * 20)
    candidates = torch.ones(len(point_sets), dtype=torch.bool)
    candidates[:20] = False  # set 0 keeps 40 candidates; candidates: 40, 30, 10 (no set), 20 -> N = 100
    sampled = sample_points_by_set(point_sets, candidates, 10, torch.Generator().manual_seed(3))
    assert len(sampled) == 10 and len(set(sampled.tolist())) == 10
    assert bool(candidates[sampled].all())
    counts = {int(s): int((point_sets[sampled] == s).sum()) for s in (-1, 0, 1, 2)}
    assert counts == {0: 4, 1: 3, -1: 1, 2: 2}


def test_sampling_is_reproducible_under_a_seed_and_varies_without_one():
    point_sets = torch.arange(5000) % 37
    candidates = torch.ones(5000, dtype=torch.bool)
    first = sample_points_by_set(point_sets, candidates, 256, torch.Generator().manual_seed(7))
    again = sample_points_by_set(point_sets, candidates, 256, torch.Generator().manual_seed(7))
    other = sample_points_by_set(point_sets, candidates, 256, torch.Generator().manual_seed(8))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_all_candidates_when_fewer_than_m_and_none_without_candidates():
    point_sets = torch.tensor([0, 0, 1, 1, 2])
    few = torch.tensor([True, False, True, False, True])
    assert sorted(sample_points_by_set(point_sets, few, 1024).tolist()) == [0, 2, 4]
    assert len(sample_points_by_set(point_sets, torch.zeros(5, dtype=torch.bool), 8)) == 0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match='3 set ids but 2 candidate flags'):
        sample_points_by_set(torch.tensor([0, 1, 1]), torch.tensor([True, True]), 2)
