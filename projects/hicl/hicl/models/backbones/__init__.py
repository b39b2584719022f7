from .spvcnn import SPVCNNSpconvBackbone

__all__ = ['SPVCNNSpconvBackbone']
