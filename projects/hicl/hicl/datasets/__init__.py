"""Datasets and data transforms (never imports models)."""
from .label_free_scannet import LabelFreeScanNetDataset
from .transforms import LoadSceneFrames, PackLabelFreeInputs, PairPointsWithPixels

__all__ = ['LabelFreeScanNetDataset', 'LoadSceneFrames', 'PackLabelFreeInputs', 'PairPointsWithPixels']
