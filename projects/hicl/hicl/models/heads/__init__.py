from .pseudo_label_head import PseudoLabelHead

__all__ = ['PseudoLabelHead']
