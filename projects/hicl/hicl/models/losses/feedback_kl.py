"""Eq. 8 of the paper: feedback distillation of the correlated features into the 3D net."""
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import nn

KL_DIRECTIONS = ('target_to_net', 'net_to_target')


def feedback_kl_divergence(net_logits, target_logits, temperature=1.0, direction='target_to_net'):
    """Eq. 8, L_kl = sum_m KL(f_m, f^_m), read as a KL between class distributions over the text anchors.

    p_net = softmax(<f_m, T_c> / tau) of the 3D net, p_target = softmax(<f^_m, T_c> / tau) of the correlation
    necks. The target side is DETACHED: the loss trains the 3D net toward the necks, never the reverse.

    Args:
        net_logits: (M, C) <f_m, T_c> of the sampled points from the 3D net.
        target_logits: (M, C) <f^_m, T_c> of the same points after the correlation necks.
        temperature: tau; the loss is multiplied by tau^2 so gradient magnitudes do not shrink with tau.
        direction: 'target_to_net' = KL(p_target || p_net) (distillation's usual direction, mass-covering);
            'net_to_target' = KL(p_net || p_target) (mode-seeking).
    Returns a float32 scalar, the mean over the M points (computed in float32 whatever the logits' precision).
    """
    if direction not in KL_DIRECTIONS:
        raise ValueError(f'unknown KL direction {direction!r}; choose one of {KL_DIRECTIONS}')
    log_p_net = F.log_softmax(net_logits.float() / temperature, dim=-1)
    log_p_target = F.log_softmax(target_logits.detach().float() / temperature, dim=-1)
    if direction == 'target_to_net':
        per_point = (log_p_target.exp() * (log_p_target - log_p_net)).sum(-1)
    else:
        per_point = (log_p_net.exp() * (log_p_net - log_p_target)).sum(-1)
    return per_point.mean() * temperature**2


@MODELS.register_module()
class FeedbackKL(nn.Module):
    """Registered wrapper of :func:`feedback_kl_divergence` (Eq. 8) with its options and a loss weight."""

    def __init__(self, temperature=1.0, direction='target_to_net', loss_weight=1.0):
        super().__init__()
        if direction not in KL_DIRECTIONS:
            raise ValueError(f'unknown KL direction {direction!r}; choose one of {KL_DIRECTIONS}')
        self.temperature, self.direction, self.loss_weight = temperature, direction, loss_weight

    def forward(self, net_logits, target_logits):
        """(M, C) logits of the 3D net and of the necks -> scalar weighted Eq. 8."""
        return self.loss_weight * feedback_kl_divergence(net_logits, target_logits, self.temperature,
                                                         self.direction)
