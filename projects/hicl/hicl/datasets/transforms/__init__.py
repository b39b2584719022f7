"""Registered data transforms (each documents the keys it reads and writes)."""
from .formatting import PackLabelFreeInputs
from .frames import LoadSceneFrames
from .lidar import LoadLiDARSweeps, NormalizeIntensity
from .pairing import PairPointsWithPixels
from .points import LoadAnnotations3DChecked, LoadPointsChecked
from .set_voting import LoadPointSets, SetVotingRefiner

__all__ = ['LoadAnnotations3DChecked', 'LoadLiDARSweeps', 'LoadPointSets', 'LoadPointsChecked', 'LoadSceneFrames',
           'NormalizeIntensity', 'PackLabelFreeInputs', 'PairPointsWithPixels', 'SetVotingRefiner']
