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


def test_eq4_gradients_through_the_block_match_eq5_and_eq6():
    """Eq. 4 through a real CorrelationBlock, against the paper's closed forms. With the MLP's output map zeroed
    (f^ = f~), the logits are <f_m + b, T_c> + sum_h sum_n w^h_mn e^h_nc, where w^h are the block's attention
    weights and e^h_nc = <u^h_n, T_c> the anchor scores of token n's contribution through head h
    (u^h_n = W_out^h v^h_n, the output projection's head-h columns applied to the value). With p = softmax of the
    logits and y the one-hot refined labels (L summed over the points):
    Eq. 5: dL/de_nc = sum_m w_mn (p_mc - y_mc), reaching the values linearly: dL/dv_n;
    Eq. 6: dL/dw_mn = sum_c (p_mc - y_mc) e_nc, reaching the queries through the softmax: dL/dq_m.
    Both are compared with autograd through the module's own forward (its fused attention)."""
    torch.manual_seed(0)
    num_points, dims, num_heads, num_classes = 6, 8, 2, 4
    head_dims = dims // num_heads
    block = CorrelationBlock(dims, num_heads=num_heads, mlp_ratio=2.0)
    torch.nn.init.zeros_(block.mlp[-1].weight)
    torch.nn.init.zeros_(block.mlp[-1].bias)
    tokens = torch.randn(num_points, dims)
    anchors = F.normalize(torch.randn(num_classes, dims), dim=1)
    labels = torch.tensor([0, 2, 2, 1, 3, 0])
    captured = {}

    def keep_qkv(module, inputs, output):
        output.retain_grad()
        captured['qkv'] = output

    hook = block.qkv.register_forward_hook(keep_qkv)
    logits = text_anchor_logits(block(tokens), anchors)
    hook.remove()
    (cross_modal_ce_loss(logits, labels) * num_points).backward()  # the function averages; Eq. 4 sums
    q_grad, _, v_grad = captured['qkv'].grad.unflatten(-1, (3, num_heads, head_dims)).unbind(1)  # (T, H, d)

    with torch.no_grad():
        w = block.attention_weights(tokens)  # (H, T, T) w^h_mn
        q, k, v = block._heads(tokens)  # (H, T, d)
        out_columns = block.attn_out.weight.unflatten(1, (num_heads, head_dims))  # (D, H, d): W_out^h
        e = torch.einsum('ohj,hnj->hno', out_columns, v) @ anchors.t()  # (H, T, C) e^h_nc = <u^h_n, T_c>
        assert torch.allclose(logits, text_anchor_logits(tokens + block.attn_out.bias, anchors)
                              + torch.einsum('hmn,hnc->mc', w, e), atol=1e-5)
        residual = torch.softmax(logits, dim=1) - F.one_hot(labels, num_classes).float()  # p - y
        eq5 = torch.einsum('hmn,mc->hnc', w, residual)  # dL/de^h_nc
        eq6 = torch.einsum('mc,hnc->hmn', residual, e)  # dL/dw^h_mn
        expected_v_grad = torch.einsum('hnc,co,ohj->hnj', eq5, anchors, out_columns)  # e = <W_out^h v, T>
        score_grad = w * (eq6 - (w * eq6).sum(-1, keepdim=True))  # w = softmax(s), s = q k^T / sqrt(d)
        expected_q_grad = score_grad @ k / head_dims ** 0.5
    assert torch.allclose(v_grad.transpose(0, 1), expected_v_grad, atol=1e-5)
    assert torch.allclose(q_grad.transpose(0, 1), expected_q_grad, atol=1e-5)
