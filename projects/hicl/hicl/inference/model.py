"""A checkpoint's 3D net for inference, and what it predicts for one scene.

``load_inference_model`` builds the config's 3D net (no correlation necks) and loads a checkpoint into it with the
checks of ``tools/test.py`` (keys, shapes, version metadata, label set); :class:`ScenePrediction` holds one scene's
points, colours, true classes and the net's CLIP-space features and logits.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class ScenePrediction:
    """One scene through the 3D net.

    Attributes:
        scene_id: the scene's id (the point file's name without extension).
        xyz: (N, 3) float32 point coordinates in metres (the dataset's frame, before any augmentation).
        rgb: (N, 3) uint8 point colours (grey levels of the intensity for LiDAR points without colour).
        truth: (N,) int64 true class ids; -1 where the truth is unlabelled or outside the classes.
        features: (N, D) float32 point features in the CLIP space (D = the anchors' dimension).
        logits: (N, C) float32 <f, T_c> against the net's text anchors; argmax = the prediction of tools/test.py.
    """
    scene_id: str
    xyz: np.ndarray
    rgb: np.ndarray
    truth: np.ndarray
    features: np.ndarray
    logits: np.ndarray

    @property
    def prediction(self):
        """(N,) int64 predicted class ids."""
        return self.logits.argmax(1).astype(np.int64)


def load_inference_model(cfg, checkpoint_path, allow_settings_mismatch=False):
    """The 3D net of ``cfg`` (an mmengine Config; correlation necks dropped) in eval mode, with the checkpoint's
    weights (:func:`hicl.engine.export.load_3d_net`). A checkpoint with other keys or shapes, non-finite weights,
    or trained with another voxel size or label set than the config's (``allow_settings_mismatch``: warned about
    instead) raises an error naming what differs."""
    from ..engine.export import load_3d_net
    model, _ = load_3d_net(cfg, checkpoint_path, config_classes(cfg), allow_settings_mismatch)
    return model.eval()


def config_metainfo(cfg, key, split='test'):
    """``key`` ('classes', 'palette') of the ``split`` dataset of ``cfg``, without building it: its
    ``metainfo``'s, else its ``label_set``'s, else its dataset class's METAINFO (None when none has it)."""
    from mmdet3d.registry import DATASETS

    from ..label_sets import get_label_set
    dataset = cfg[f'{split}_dataloader'].dataset
    value = (dataset.get('metainfo') or {}).get(key)
    if value is None and 'label_set' in dataset:
        value = get_label_set(dataset.label_set)[key]
    if value is None:
        value = getattr(DATASETS.get(dataset.type), 'METAINFO', {}).get(key)
    return value


def config_classes(cfg, split='test'):
    """The class names of the ``split`` dataset of ``cfg`` (:func:`config_metainfo`)."""
    return config_metainfo(cfg, 'classes', split)
