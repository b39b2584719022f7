"""A checkpoint's 3D net on the scenes of a dataset split, outside the runner: what the query, figure and viewer
tools use. ``predict_scenes`` yields one :class:`~hicl.inference.model.ScenePrediction` per scene."""
import numpy as np
import torch

from ..evaluation.correlation_probe import scene_point_features
from ..models.losses import text_anchor_logits
from .model import ScenePrediction

SPLITS = ('train', 'val', 'test')


def build_split_dataset(cfg, split='test'):
    """The dataset of ``split`` with the config's test pipeline (all points, true classes, no augmentation)."""
    from mmdet3d.registry import DATASETS
    from mmengine.registry import init_default_scope
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}; choose one of {SPLITS}')
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    test_dataset = cfg.test_dataloader.dataset
    if split == 'test':
        return DATASETS.build(test_dataset)
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    return DATASETS.build(dict(loader.dataset, pipeline=test_dataset.pipeline, test_mode=True))


def scene_ids(dataset):
    """The scene ids of a dataset, in its order."""
    return [scene_id_of(dataset.get_data_info(index)) for index in range(len(dataset))]


def scene_id_of(data_info):
    """A data info's scene id: ``scene_id`` when the converter recorded it, else the point file's stem."""
    from ..dataset_io import lidar_stem
    return data_info.get('scene_id') or lidar_stem(data_info['lidar_points']['lidar_path'])


def raw_point_colours(dataset, index):
    """(N, 3) uint8 colours of a scene's points as the file holds them (the pipeline's first step, the point
    loader, alone): RGB when the loader reads colour, else the grey level of the intensity column."""
    from mmengine.dataset import Compose
    loader = Compose([dataset.pipeline.transforms[0]])
    points = loader(dataset.get_data_info(index))['points']
    if points.attribute_dims and 'color' in points.attribute_dims:
        return np.clip(points.color.numpy(), 0, 255).round().astype(np.uint8)
    intensity = points.tensor[:, 3].numpy() if points.tensor.shape[1] > 3 else np.zeros(len(points))
    grey = np.clip(255 * intensity / max(float(intensity.max()), 1e-6), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, None], 3, axis=1)


@torch.no_grad()
def predict_scenes(model, dataset, scenes=None):
    """Yield a :class:`ScenePrediction` for each scene of ``dataset`` (its order), or for the ids in ``scenes``
    (their order); an unknown id raises KeyError listing a few known ones."""
    from mmengine.dataset import pseudo_collate
    known = scene_ids(dataset)
    if scenes is None:
        indices = range(len(known))
    else:
        missing = [scene for scene in scenes if scene not in known]
        if missing:
            raise KeyError(f'scene(s) {missing} not in this split (it has {len(known)} scenes, e.g. {known[:3]})')
        indices = [known.index(scene) for scene in scenes]
    for index in indices:
        data_batch = pseudo_collate([dataset[index]])
        features, truth = next(scene_point_features(model, data_batch))
        xyz = data_batch['inputs']['points'][0][:, :3].numpy().astype(np.float32)
        logits = text_anchor_logits(features, model.decode_head.text_anchors)
        yield ScenePrediction(scene_id=known[index], xyz=xyz, rgb=raw_point_colours(dataset, index),
                              truth=truth.numpy().astype(np.int64), features=features.numpy(),
                              logits=logits.numpy())
