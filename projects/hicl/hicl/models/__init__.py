"""Registered model components."""
from .backbones import MinkUNetSpconvBackbone, SPVCNNSpconvBackbone, SPVCNNTorchsparseBackbone
from .heads import PseudoLabelHead
from .losses import FeedbackKL
from .necks import InterSceneCorrelationNeck, IntraSceneCorrelationNeck
from .segmentors import HICLSegmentor, LabelFreeSegmentor

__all__ = ['FeedbackKL', 'HICLSegmentor', 'InterSceneCorrelationNeck', 'IntraSceneCorrelationNeck',
           'LabelFreeSegmentor', 'MinkUNetSpconvBackbone', 'PseudoLabelHead', 'SPVCNNSpconvBackbone',
           'SPVCNNTorchsparseBackbone']
