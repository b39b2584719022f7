"""Pixel pseudo-labels: labellers (simulated, MaskCLIP), the per-frame cache, and their 2D evaluation."""
from .cache import PseudoLabelCache, PseudoLabelFileError, StaleCacheError, make_manifest
from .labeller import PseudoLabeller
from .labelling import label_dataset, load_scene_infos
from .maskclip import MaskCLIPDenseFeatures, MaskCLIPLabeller
from .simulated import SimulatedVLMLabeller

__all__ = ['PseudoLabelCache', 'PseudoLabelFileError', 'StaleCacheError', 'make_manifest', 'PseudoLabeller',
           'label_dataset', 'load_scene_infos', 'MaskCLIPDenseFeatures', 'MaskCLIPLabeller', 'SimulatedVLMLabeller']
