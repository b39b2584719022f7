"""The correlation instruments against hand-computed values, and on the real necks."""
import math

import pytest
import torch

from hicl.metrics import feature_compactness
from hicl.models import correlation_instruments as instruments
from hicl.models.necks import InterSceneCorrelationNeck, IntraSceneCorrelationNeck

SMALL = dict(in_dims=16, num_layers=2, num_heads=2, mlp_ratio=2.0)


def test_relative_change_is_the_ratio_of_frobenius_norms():
    before = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    after = torch.tensor([[3.0, 4.0], [0.0, 5.0]])
    assert instruments.relative_change(before, after) == pytest.approx(1.0)  # ||(0, 5)|| / ||(3, 4)||
    assert instruments.relative_change(before, before) == 0.0


def test_entropy_is_one_for_uniform_and_zero_for_one_hot_rows_of_each_support():
    # rows 0-1 attend within a 2-token sequence, row 2 alone (support 1: entropy 0 by definition)
    weights = torch.tensor([[[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    support = torch.tensor([2, 2, 1])
    assert instruments.attention_entropy(weights, support) == pytest.approx((1 + 0 + 0) / 3)
    uniform = torch.full((2, 4, 4), 0.25)
    assert instruments.attention_entropy(uniform, torch.full((4, ), 4)) == pytest.approx(1.0)


def test_mass_on_the_same_group_by_hand():
    weights = torch.tensor([[[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]]])
    groups = torch.tensor([0, 0, 1])
    # row 0: 0.6 + 0.3; row 1: 0.2 + 0.2; row 2: 0.25
    assert instruments.attention_mass_on_same(weights, groups) == pytest.approx((0.9 + 0.4 + 0.25) / 3)
    # a token of unknown group (-1) is neither a row that counts nor "the same" as another unknown
    assert instruments.attention_mass_on_same(weights, torch.tensor([0, -1, -1])) == pytest.approx(0.6)
    assert math.isnan(instruments.attention_mass_on_same(weights, torch.full((3, ), -1)))


def test_chance_is_the_share_of_the_sequence_in_the_same_group():
    groups = torch.tensor([0, 0, 1, 1])
    assert instruments.chance_mass_on_same(groups, torch.zeros(4, dtype=torch.long)) == pytest.approx(0.5)
    # each sequence holds one group only
    assert instruments.chance_mass_on_same(groups, torch.tensor([0, 0, 1, 1])) == pytest.approx(1.0)


def test_token_labels_are_the_majority_of_their_pairs():
    pair_token_idx = torch.tensor([0, 0, 0, 1, 1, 3])
    pair_labels = torch.tensor([2, 1, 2, 3, 0, 1])
    # token 1: a tie between 3 and 0 goes to the lower id; token 2 has no pair
    assert instruments.token_labels(pair_token_idx, pair_labels, 4, 4).tolist() == [2, 0, -1, 1]


def test_accuracy_and_agreement():
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    assert instruments.accuracy(logits, torch.tensor([0, 0, -1])) == pytest.approx(0.5)
    assert instruments.agreement(logits, torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])) == pytest.approx(2 / 3)


def test_compactness_is_within_over_between_variance():
    features = torch.tensor([[0.0], [2.0], [10.0], [12.0], [99.0]])
    labels = torch.tensor([0, 0, 1, 1, -1])
    # class means 1 and 11, overall mean 6: within 4 * 1, between 2 * 25 + 2 * 25
    assert feature_compactness(features, labels) == pytest.approx(4 / 100)
    assert math.isnan(feature_compactness(features, torch.tensor([0, 0, -1, -1, -1])))


def layer_norm_by_hand(x, norm):
    return (x - x.mean(-1, keepdim=True)) / (x.var(-1, unbiased=False, keepdim=True) + norm.eps).sqrt() \
        * norm.weight + norm.bias


def attention_by_hand(block, tokens):
    """(H, T, T) w_mn = softmax(q_m . k_n / sqrt(d)) per head of Eq. 3, from the block's parameters: q, k are the
    first and second D columns of the qkv map of the layer-normed tokens, each split into H heads of d = D / H."""
    dims, heads = tokens.shape[1], block.num_heads
    qkv = layer_norm_by_hand(tokens, block.norm_attn) @ block.qkv.weight.T + block.qkv.bias
    q, k = qkv[:, :dims], qkv[:, dims:2 * dims]
    d = dims // heads
    return torch.stack([torch.softmax(q[:, h * d:(h + 1) * d] @ k[:, h * d:(h + 1) * d].T / d**0.5, dim=-1)
                        for h in range(heads)])


def block_by_hand(block, tokens):
    """Eq. 3 as the paper writes it: f~ = f + W_o [sum_n w_mn v_n]_heads, f^ = f~ + MLP(LN(f~))."""
    dims, heads = tokens.shape[1], block.num_heads
    v = (layer_norm_by_hand(tokens, block.norm_attn) @ block.qkv.weight.T + block.qkv.bias)[:, 2 * dims:]
    d = dims // heads
    weights = attention_by_hand(block, tokens)
    attended = torch.cat([weights[h] @ v[:, h * d:(h + 1) * d] for h in range(heads)], dim=1)
    mixed = tokens + attended @ block.attn_out.weight.T + block.attn_out.bias
    hidden = torch.nn.functional.gelu(layer_norm_by_hand(mixed, block.norm_mlp) @ block.mlp[0].weight.T
                                      + block.mlp[0].bias)
    return mixed + hidden @ block.mlp[2].weight.T + block.mlp[2].bias


def test_a_correlation_block_is_eq_3():
    torch.manual_seed(0)
    block = IntraSceneCorrelationNeck(SMALL).transformer.blocks[0]
    tokens = torch.randn(5, 16)
    with torch.no_grad():
        assert torch.allclose(block.attention_weights(tokens), attention_by_hand(block, tokens), atol=1e-6)
        assert torch.allclose(block(tokens), block_by_hand(block, tokens), atol=1e-5)


def test_neck_attention_maps_are_the_blocks_weights_per_scene():
    torch.manual_seed(0)
    intra, inter = IntraSceneCorrelationNeck(SMALL), InterSceneCorrelationNeck(SMALL)
    scenes = [torch.randn(3, 16), torch.randn(4, 16)]
    maps, sequences = intra.attention_maps(scenes)
    assert len(maps) == 2 and maps[0].shape == (2, 7, 7) and sequences.tolist() == [0] * 3 + [1] * 4
    blocks = intra.transformer.blocks
    with torch.no_grad():
        assert torch.allclose(maps[0][:, :3, :3], attention_by_hand(blocks[0], scenes[0]), atol=1e-6)
        second_layer_input = block_by_hand(blocks[0], scenes[1])
        assert torch.allclose(maps[1][:, 3:, 3:], attention_by_hand(blocks[1], second_layer_input), atol=1e-5)
    assert maps[0][:, :3, 3:].abs().sum() == 0 and torch.allclose(maps[1].sum(-1), torch.ones(2, 7))
    inter_maps, inter_sequences = inter.attention_maps(scenes)
    assert inter_maps[0].shape == (2, 7, 7) and (inter_maps[0][:, :3, 3:] > 0).all() and inter_sequences.sum() == 0


def test_neck_instruments_of_an_identity_neck():
    torch.manual_seed(0)
    neck = IntraSceneCorrelationNeck(dict(SMALL, embed_dims=8))  # zero-initialised output map: the identity
    scenes = [torch.randn(4, 16), torch.randn(4, 16)]
    logits = torch.tensor([[2.0, 1.0]] * 8)  # every token predicted class 0
    labels = torch.tensor([0, 0, 0, 1, -1, -1, -1, -1])  # 3 of the 4 labelled tokens are class 0
    stats = instruments.neck_instruments('intra', neck, scenes, neck(scenes),
                                         dict(set=torch.tensor([0, 0, 1, 1, 2, 2, 2, -1])), logits, labels)
    assert stats['intra_change'] == 0.0 and stats['acc_intra'] == 0.75
    # uniform attention would put 2 of 4 tokens in the own set for the first scene, 3 of 4 for the second
    assert stats['intra_chance_set'] == pytest.approx((0.5 * 4 + 0.75 * 3) / 7)
    layered = {f'intra_{kind}_l{layer}' for layer in (0, 1) for kind in ('entropy', 'same_set')}
    assert set(stats) == {'intra_change', 'acc_intra', 'intra_chance_set'} | layered


def test_the_narrow_transformer_is_f_plus_w_out_of_the_blocks_of_w_in_f():
    torch.manual_seed(0)
    features = torch.randn(4, 16)
    for zero_init_output in (True, False):
        transformer = IntraSceneCorrelationNeck(dict(SMALL, embed_dims=8, zero_init_output=zero_init_output)) \
            .transformer
        w_in, w_out = transformer.project_in, transformer.project_out
        with torch.no_grad():
            narrow = features @ w_in.weight.T + w_in.bias  # (4, 8)
            for block in transformer.blocks:
                narrow = block_by_hand(block, narrow)
            expected = features + narrow @ w_out.weight.T + w_out.bias
            assert torch.allclose(transformer(features), expected, atol=1e-5)
        # zero-initialised W_out: the identity at the start; PyTorch's default one: not
        assert (w_out.weight.abs().sum() == 0) == zero_init_output
        assert torch.equal(transformer(features), features) == zero_init_output
