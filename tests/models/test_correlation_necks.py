"""The correlation necks (Eq. 3, 7) and the gradients of Eq. 4 through the attention (Eq. 5, 6)."""
import pytest
import torch
import torch.nn.functional as F

from hicl.models.losses import cross_modal_ce_loss, text_anchor_logits
from hicl.models.necks import CorrelationBlock, InterSceneCorrelationNeck, IntraSceneCorrelationNeck

SMALL = dict(in_dims=16, num_layers=3, num_heads=2, mlp_ratio=2.0)


def scenes(generator, sizes=(5, 7), dims=16):
    return [torch.randn(size, dims, generator=generator) for size in sizes]


def test_block_is_eq3_attention_sum_plus_mlp():
    """f~_m = f_m + sum_n w_mn v_n (per head, then the output projection); f^ = f~ + MLP(LN(f~))."""
    torch.manual_seed(0)
    block = CorrelationBlock(8, num_heads=2, mlp_ratio=2.0)
    tokens = torch.randn(6, 8)
    weights = block.attention_weights(tokens)  # (H, T, T)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 6))
    values = block.qkv(block.norm_attn(tokens))[:, 16:].unflatten(-1, (2, 4)).transpose(0, 1)  # (H, T, 4)
    attended = torch.cat([weights[h] @ values[h] for h in range(2)], dim=1)  # sum_n w_mn v_n, heads side by side
    f_tilde = tokens + block.attn_out(attended)
    expected = f_tilde + block.mlp(block.norm_mlp(f_tilde))
    assert torch.allclose(block(tokens), expected, atol=1e-5)


@pytest.mark.parametrize('neck_type, crosses_scenes', [(IntraSceneCorrelationNeck, False),
                                                       (InterSceneCorrelationNeck, True)])
def test_only_the_inter_scene_neck_attends_across_scenes(neck_type, crosses_scenes):
    torch.manual_seed(0)
    neck = neck_type(SMALL)
    features = scenes(torch.Generator().manual_seed(1))
    before = neck(features)
    after = neck([features[0], torch.randn(7, 16)])  # scene B replaced
    assert [len(x) for x in after] == [5, 7]
    assert torch.allclose(after[0], before[0], atol=1e-5) != crosses_scenes  # does scene A's output change?
    assert not torch.allclose(after[1], before[1])


def test_narrow_transformer_starts_as_the_identity_and_keeps_the_clip_dimension():
    torch.manual_seed(0)
    neck = IntraSceneCorrelationNeck(dict(in_dims=16, embed_dims=8, num_heads=2))
    features = scenes(torch.Generator().manual_seed(1))
    assert all(torch.equal(out, x) for out, x in zip(neck(features), features))
    assert neck.transformer.project_in.out_features == 8


def test_eq4_gradients_match_eq5_and_eq6():
    """Eq. 4 on correlated features f^_m = f_m + sum_n w_mn v_n gives logits <f_m, T_c> + sum_n w_mn e_nc with
    e_nc = <v_n, T_c>. With p = softmax of the logits and y the one-hot refined labels, the paper's gradients:
    Eq. 5: dL/dw_mn = sum_c (p_mc - y_mc) e_nc;  Eq. 6: dL/de_nc = sum_m w_mn (p_mc - y_mc)
    (L summed over the points: a high w_mn pulls e_n toward the anchor of l_m)."""
    generator = torch.Generator().manual_seed(0)
    num_points, dims, num_classes = 5, 6, 4
    f = torch.randn(num_points, dims, generator=generator)
    anchors = F.normalize(torch.randn(num_classes, dims, generator=generator), dim=1)
    v = torch.randn(num_points, dims, generator=generator)
    w = torch.softmax(torch.randn(num_points, num_points, generator=generator), dim=1).requires_grad_()
    e = (v @ anchors.t()).requires_grad_()
    labels = torch.tensor([0, 2, 2, 1, 3])

    logits = text_anchor_logits(f, anchors) + w @ e
    assert torch.allclose(logits, text_anchor_logits(f + w.detach() @ v, anchors), atol=1e-5)
    loss = cross_modal_ce_loss(logits, labels) * num_points  # the function averages over points; Eq. 4 sums
    loss.backward()

    residual = torch.softmax(logits.detach(), dim=1) - F.one_hot(labels, num_classes).float()  # p - y
    eq5 = residual @ e.detach().t()  # (m, n): sum_c (p_mc - y_mc) e_nc
    eq6 = w.detach().t() @ residual  # (n, c): sum_m w_mn (p_mc - y_mc)
    assert torch.allclose(w.grad, eq5, atol=1e-5)
    assert torch.allclose(e.grad, eq6, atol=1e-5)
    # the pull: the gradient step on e_{n, l_m} raises the anchor score of the point's label for a correlated n
    assert float(e.grad[1, 2]) < 0
