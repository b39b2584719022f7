from .cross_modal import cross_modal_ce_loss, text_anchor_logits
from .feedback_kl import FeedbackKL, feedback_kl_divergence

__all__ = ['FeedbackKL', 'cross_modal_ce_loss', 'feedback_kl_divergence', 'text_anchor_logits']
