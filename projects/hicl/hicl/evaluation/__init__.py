from .seg_metric import PerClassSegMetric, confusion_matrix

__all__ = ['PerClassSegMetric', 'confusion_matrix']
