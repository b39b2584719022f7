from .minkunet import MinkUNetSpconvBackbone
from .spvcnn import SPVCNNSpconvBackbone, SPVCNNTorchsparseBackbone

__all__ = ['MinkUNetSpconvBackbone', 'SPVCNNSpconvBackbone', 'SPVCNNTorchsparseBackbone']
