from .label_free_segmentor import LabelFreeSegmentor

__all__ = ['LabelFreeSegmentor']
