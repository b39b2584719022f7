"""Registries of components that mmdet3d has no registry for. Models, datasets, transforms, metrics and
hooks use mmdet3d's own registries (``mmdet3d.registry``)."""
from mmengine.registry import Registry

# Per-frame pixel labellers (simulated VLM, MaskCLIP): build with PSEUDO_LABELLERS.build(cfg).
PSEUDO_LABELLERS = Registry('pseudo labeller', locations=['hicl.pseudo_labels'])
