from .cross_modal import cross_modal_ce_loss, text_anchor_logits

__all__ = ['cross_modal_ce_loss', 'text_anchor_logits']
