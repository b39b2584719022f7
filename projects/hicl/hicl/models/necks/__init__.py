from .correlation import CorrelationBlock, CorrelationTransformer, InterSceneCorrelationNeck, IntraSceneCorrelationNeck
from .rank_gather import gather_sequences

__all__ = ['CorrelationBlock', 'CorrelationTransformer', 'InterSceneCorrelationNeck', 'IntraSceneCorrelationNeck',
           'gather_sequences']
