"""Registered model components (backbones come from mmdet3d)."""
from .heads import PseudoLabelHead

__all__ = ['PseudoLabelHead']
