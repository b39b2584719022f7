from .seg_metric import PerClassSegMetric

__all__ = ['PerClassSegMetric']
