"""HICL-3D: label-free 3D semantic segmentation by hierarchical intra-modal correlation learning, as an
MMDetection3D plugin. Importing it (configs do so through ``custom_imports``) applies the compatibility fixes
of :mod:`hicl.compat` and registers every component."""
__version__ = '0.1.0'

from . import compat, safe_pickle

compat.apply_all()
safe_pickle.register_info_file_handler()  # mmengine.load of .pkl info files: allow-listed globals only

from . import datasets, engine, evaluation, models, pseudo_labels  # noqa: E402,F401  (registers components)
