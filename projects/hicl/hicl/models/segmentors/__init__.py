from .hicl_segmentor import HICLSegmentor
from .label_free_segmentor import LabelFreeSegmentor

__all__ = ['HICLSegmentor', 'LabelFreeSegmentor']
