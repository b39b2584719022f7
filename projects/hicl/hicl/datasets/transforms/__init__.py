"""Registered data transforms (each documents the keys it reads and writes)."""
from .formatting import PackLabelFreeInputs
from .frames import LoadSceneFrames
from .pairing import PairPointsWithPixels

__all__ = ['LoadSceneFrames', 'PackLabelFreeInputs', 'PairPointsWithPixels']
