"""Registered data transforms (each documents the keys it reads and writes)."""
from .formatting import PackLabelFreeInputs
from .frames import LoadSceneFrames
from .lidar import LoadLiDARSweeps, NormalizeIntensity
from .pairing import PairPointsWithPixels
from .set_voting import LoadPointSets, SetVotingRefiner

__all__ = ['LoadLiDARSweeps', 'LoadPointSets', 'LoadSceneFrames', 'NormalizeIntensity', 'PackLabelFreeInputs',
           'PairPointsWithPixels', 'SetVotingRefiner']
