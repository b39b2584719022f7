"""FeedbackKL, Eq. 8: KL between the 3D net's and the necks' class distributions, the necks' side detached."""
import math

import pytest
import torch

from hicl.models.losses import FeedbackKL, feedback_kl_divergence


def test_value_against_a_hand_computed_kl_in_both_directions():
    net = torch.log(torch.tensor([[0.5, 0.5]]))
    target = torch.log(torch.tensor([[0.9, 0.1]]))
    target_to_net = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    net_to_target = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert feedback_kl_divergence(net, target) == pytest.approx(target_to_net, rel=1e-5)
    assert feedback_kl_divergence(net, target, direction='net_to_target') == pytest.approx(net_to_target, rel=1e-5)
    assert float(feedback_kl_divergence(target, target)) == pytest.approx(0.0, abs=1e-7)


def test_temperature_softens_both_sides_and_rescales_by_its_square():
    net, target = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    p_net = torch.softmax(net / 2, 1)[0]
    p_target = torch.softmax(target / 2, 1)[0]
    expected = 4 * float((p_target * (p_target / p_net).log()).sum())
    assert float(feedback_kl_divergence(net, target, temperature=2.0)) == pytest.approx(expected, rel=1e-5)


def test_the_target_side_gets_no_gradient():
    net = torch.randn(6, 4, requires_grad=True)
    target = torch.randn(6, 4, requires_grad=True)
    loss = FeedbackKL(loss_weight=0.5)(net, target)
    loss.backward()
    assert target.grad is None
    assert net.grad is not None and float(net.grad.abs().sum()) > 0
    # d/d net of KL(p_t || p_net) = (p_net - p_t) / M, times the weight
    expected = 0.5 * (torch.softmax(net.detach(), 1) - torch.softmax(target.detach(), 1)) / 6
    assert torch.allclose(net.grad, expected, atol=1e-6)


def test_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="unknown KL direction 'both'"):
        FeedbackKL(direction='both')
