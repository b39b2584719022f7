"""Registered model components (backbones come from mmdet3d)."""
from .heads import PseudoLabelHead
from .losses import FeedbackKL
from .necks import InterSceneCorrelationNeck, IntraSceneCorrelationNeck
from .segmentors import HICLSegmentor, LabelFreeSegmentor

__all__ = ['FeedbackKL', 'HICLSegmentor', 'InterSceneCorrelationNeck', 'IntraSceneCorrelationNeck',
           'LabelFreeSegmentor', 'PseudoLabelHead']
