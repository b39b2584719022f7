"""Registered model components (besides mmdet3d's own backbones)."""
from .backbones import SPVCNNSpconvBackbone
from .heads import PseudoLabelHead
from .losses import FeedbackKL
from .necks import InterSceneCorrelationNeck, IntraSceneCorrelationNeck
from .segmentors import HICLSegmentor, LabelFreeSegmentor

__all__ = ['FeedbackKL', 'HICLSegmentor', 'InterSceneCorrelationNeck', 'IntraSceneCorrelationNeck',
           'LabelFreeSegmentor', 'PseudoLabelHead', 'SPVCNNSpconvBackbone']
