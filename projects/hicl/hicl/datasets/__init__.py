"""Datasets and data transforms (never imports models)."""
import warnings

from .label_free_nuscenes import LabelFreeNuScenesDataset
from .label_free_scannet import LabelFreeScanNetDataset
from .transforms import LoadSceneFrames, PackLabelFreeInputs, PairPointsWithPixels

__all__ = ['LabelFreeNuScenesDataset', 'LabelFreeScanNetDataset', 'LoadSceneFrames', 'PackLabelFreeInputs',
           'PairPointsWithPixels']

# mmdet3d's own NormalizePointsColor stores centred colours, and BasePoints then warns for every sample that
# they are outside [0, 255]. Expected here: silence exactly that message.
warnings.filterwarnings('ignore', message='point got color value beyond', category=UserWarning)
