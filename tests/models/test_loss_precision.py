"""Under mixed precision (tools/train.py --amp) the logits, the cross-entropy of Eq. 1 and the KL of Eq. 8 are
computed in float32: half-precision inputs give float32 results equal to the float32 computation."""
import torch

from hicl.models.losses import cross_modal_ce_loss, feedback_kl_divergence, text_anchor_logits


def test_logits_are_float32_inner_products_inside_autocast():
    generator = torch.Generator().manual_seed(0)
    features, anchors = torch.randn(6, 512, generator=generator), torch.randn(4, 512, generator=generator)
    with torch.autocast('cpu', dtype=torch.bfloat16):  # would run the matmul in bfloat16
        logits = text_anchor_logits(features, anchors)
    assert logits.dtype == torch.float32
    torch.testing.assert_close(logits, features @ anchors.t(), rtol=0, atol=0)


def test_the_losses_of_half_precision_logits_are_float32():
    generator = torch.Generator().manual_seed(0)
    net, target = torch.randn(5, 4, generator=generator), torch.randn(5, 4, generator=generator)
    half_net, half_target = net.bfloat16(), target.bfloat16()
    labels = torch.tensor([0, 3, 255, 1, 2])
    ce = cross_modal_ce_loss(half_net, labels)
    kl = feedback_kl_divergence(half_net, half_target, temperature=2.0)
    assert ce.dtype == kl.dtype == torch.float32
    torch.testing.assert_close(ce, cross_modal_ce_loss(half_net.float(), labels), rtol=0, atol=0)
    torch.testing.assert_close(kl, feedback_kl_divergence(half_net.float(), half_target.float(), 2.0), rtol=0, atol=0)
