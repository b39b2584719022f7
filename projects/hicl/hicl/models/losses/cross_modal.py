"""Eq. 1 of the paper: the cross-modal cross-entropy between 3D features and fixed text anchors.

The logits and their softmax are computed in float32 even under mixed precision (``tools/train.py --amp``): the
loss compares inner products of unit-scale 512-d vectors, which half precision rounds to about 3 digits.
"""
import torch
import torch.nn.functional as F


def text_anchor_logits(features, anchors):
    """psi(f, T_c) = <f, T_c>: (N, D) features x (C, D) text anchors -> (N, C) float32 logits (paper 3.1), outside
    autocast."""
    with torch.autocast(device_type=features.device.type, enabled=False):
        return features.float() @ anchors.float().t()


def cross_modal_ce_loss(logits, labels, ignore_index=255):
    """Eq. 1, L_ce = -sum_M log(exp<f_m, T_l_m> / sum_c exp<f_m, T_c>), averaged over the P pairs.

    Args:
        logits: (P, C) <f_m, T_c> of the paired points (a point seen in k views appears k times).
        labels: (P,) pixel pseudo-labels l_m; ``ignore_index`` entries do not count.
    Returns a scalar; 0 (with gradient) when no pair is labelled.
    """
    if labels.numel() == 0 or bool((labels == ignore_index).all()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits.float(), labels, ignore_index=ignore_index, reduction='mean')
