"""Registered data transforms (each documents the keys it reads and writes)."""
from .formatting import PackLabelFreeInputs
from .frames import LoadSceneFrames
from .pairing import PairPointsWithPixels
from .set_voting import LoadPointSets, SetVotingRefiner

__all__ = ['LoadPointSets', 'LoadSceneFrames', 'PackLabelFreeInputs', 'PairPointsWithPixels', 'SetVotingRefiner']
