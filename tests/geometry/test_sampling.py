"""Proportional sampling over the geometric consistency sets (paper 3.2.2, M_k = M * N_k / N)."""
import pytest
import torch

from hicl.geometry.sampling import largest_remainder_quotas, proportional_quotas, sample_points_by_set


def test_quotas_follow_the_exact_shares_when_every_set_gets_a_point():
    for every_set in (False, True):
        # shares 50, 30, 15, 4, 1 exactly
        assert proportional_quotas([500, 300, 150, 40, 10], 100, every_set).tolist() == [50, 30, 15, 4, 1]
        # shares 3.5, 2.5, 1.0, 3.0 -> floors 3, 2, 1, 3 (9); one more to the largest remainder, ties to the lower id
        assert proportional_quotas([35, 25, 10, 30], 10, every_set).tolist() == [4, 2, 1, 3]


def test_the_papers_rule_keeps_the_large_sets_share_when_small_sets_get_nothing():
    # M_k = M * N_k / N: shares 9.97, 0.01, 0.01, 0.01 -> 10, 0, 0, 0 (the paper's rule, the default)
    assert proportional_quotas([1000, 1, 1, 1], 10).tolist() == [10, 0, 0, 0]
    # M = 256 over a SynthRooms-like room, N = 15000: a wall and a floor (60% of the points) and 150 sets of 40.
    # Shares 85.33, 68.27 and 0.68 each; floors 85 + 68 = 153, the other 103 go to the largest remainders (0.68:
    # 103 of the small sets). Wall + floor keep 153 / 256 = 60% of the tokens.
    sizes = torch.tensor([5000, 4000] + [40] * 150)
    quotas = proportional_quotas(sizes, 256)
    assert quotas[:2].tolist() == [85, 68] and quotas[2:].tolist() == [1] * 103 + [0] * 47


def test_every_set_option_reserves_one_point_per_set_first():
    # one point each, the other M - K = 6 by the sizes N_k - 1: the big set gets 1 + 6 = 7
    assert proportional_quotas([1000, 1, 1, 1], 10, every_set=True).tolist() == [7, 1, 1, 1]
    # the room above: 152 reserved, the other 104 by N_k - 1 (4999, 3999, 39 x 150 of 14848): 35.01, 28.01, 0.27
    # each -> floors 35, 28, the remaining 41 to 41 small sets. Wall + floor drop to 65 / 256 = 25% of the tokens.
    sizes = torch.tensor([5000, 4000] + [40] * 150)
    quotas = proportional_quotas(sizes, 256, every_set=True)
    assert quotas[:2].tolist() == [36, 29] and quotas[2:].tolist() == [2] * 41 + [1] * 109


def test_fewer_samples_than_sets_go_to_the_largest_sets():
    for every_set in (False, True):
        assert proportional_quotas([2, 9, 5, 1], 2, every_set).tolist() == [0, 1, 1, 0]


def test_quotas_sum_to_m_and_never_exceed_the_set_sizes():
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        sizes = torch.randint(1, 300, (int(torch.randint(1, 80, (1,), generator=generator)),), generator=generator)
        for num_samples in (1, 17, 256, 1024, 100_000):
            for every_set in (False, True):
                quotas = proportional_quotas(sizes, num_samples, every_set)
                assert int(quotas.sum()) == min(num_samples, int(sizes.sum()))
                assert bool((quotas <= sizes).all()) and bool((quotas >= 0).all())
                if every_set and len(sizes) <= num_samples:
                    assert bool((quotas >= 1).all())
            exact = sizes * min(num_samples, int(sizes.sum())) / sizes.sum()
            assert bool(((proportional_quotas(sizes, num_samples) - exact).abs() < 1).all())  # the paper's rule


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
