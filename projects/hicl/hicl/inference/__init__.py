"""A trained 3D net outside the runner.

- :mod:`~hicl.inference.model`: :func:`load_inference_model` (the config's 3D net with a checkpoint's weights, checked
  as ``tools/test.py`` checks them) and :class:`ScenePrediction` (points, colours, truth, features, logits);
- :mod:`~hicl.inference.splits`: :func:`predict_scenes` over the scenes of a dataset split (the query, figure and
  viewer tools);
- :mod:`~hicl.inference.scans`: :func:`predict_scan` on a scan of your own, of any size (tiles);
- :mod:`~hicl.inference.scan_files`: :func:`infer_scans`, files in, segmented files out (``tools/infer.py``).
"""
from .model import ScenePrediction, config_classes, config_metainfo, load_inference_model
from .scan_files import ScanResult, infer_scans
from .scans import ScanInputError, grid_anchor, predict_scan, scan_features
from .splits import SPLITS, build_split_dataset, predict_scenes, raw_point_colours, scene_id_of, scene_ids

__all__ = ['SPLITS', 'ScanInputError', 'ScanResult', 'ScenePrediction', 'build_split_dataset', 'config_classes',
           'config_metainfo', 'grid_anchor', 'infer_scans', 'load_inference_model', 'predict_scan',
           'predict_scenes', 'raw_point_colours', 'scan_features', 'scene_id_of', 'scene_ids']
