"""Correlation necks: modules that refine the 3D net's features of the sampled points (paper 3.2.2-3.2.3).

The interface a neck implements (what HICLSegmentor and the instruments rely on; write a new neck to it, register
it in mmdet3d's MODELS and name it in ``model.intra_scene_neck`` / ``model.inter_scene_neck``):

- ``forward(scene_features)``: a list of B tensors (M_b, D), the features in CLIP space (D = the text anchors'
  dimension, 512 for ViT-B/16) of the M_b points sampled in scene b of the batch; returns a list of B tensors
  (M_b, D) in the same order and space, differentiable with respect to its inputs (Eq. 4 trains the 3D net
  through them) and to its own parameters (trained by the necks' optimizer). The segmentor classifies the
  outputs against the text anchors with the refined labels (Eq. 4) and, in the feedback stage, distils the last
  neck's logits into the net (Eq. 8).
- ``attention_maps(scene_features)``, for the instruments only (CorrelationInstrumentHook,
  CorrelationProbeHook; called under ``torch.no_grad``): with T = sum M_b tokens, returns ``(maps, sequences)``,
  a list with one (H, T, T) tensor per layer whose rows are a distribution over the tokens (zero where a token
  may not attend), and the (T,) long sequence id of every token (the rows of one sequence share their support).
  A neck without attention can return one (1, T, T) map of its mixing weights, or be left out of the instruments
  (then their hooks must stay off for configs using it).
- Parameters: everything under the neck's attribute name goes to the necks' optimizer
  (CorrelationOptimWrapperConstructor), and is dropped for inference and export.
"""
from .correlation import CorrelationBlock, CorrelationTransformer, InterSceneCorrelationNeck, IntraSceneCorrelationNeck
from .rank_gather import gather_sequences

__all__ = ['CorrelationBlock', 'CorrelationTransformer', 'InterSceneCorrelationNeck', 'IntraSceneCorrelationNeck',
           'gather_sequences']
