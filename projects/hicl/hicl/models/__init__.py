"""Registered model components (backbones come from mmdet3d)."""
from .heads import PseudoLabelHead
from .segmentors import LabelFreeSegmentor

__all__ = ['LabelFreeSegmentor', 'PseudoLabelHead']
