"""HICL-3D: label-free 3D semantic segmentation by hierarchical intra-modal correlation learning, as an
MMDetection3D plugin. Importing it (configs do so through ``custom_imports``) applies the compatibility fixes
of :mod:`hicl.compat` and registers every component."""
__version__ = '0.1.0'

from . import compat

compat.apply_all()

from . import datasets, engine, evaluation, models, pseudo_labels  # noqa: E402,F401  (registers components)
