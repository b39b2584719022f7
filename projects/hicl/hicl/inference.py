"""Run a trained 3D net on the scenes of a split, outside the runner: what the query, figure and viewer tools use.

``load_inference_model`` builds the config's 3D net (no correlation necks) and loads a checkpoint into it with the
checks of ``tools/test.py`` (keys, shapes, version metadata, label set); ``predict_scenes`` yields one
:class:`ScenePrediction` per scene: the points, their colours, their true classes and the net's CLIP-space
features and logits.
"""
from dataclasses import dataclass

import numpy as np
import torch

from .evaluation.correlation_probe import scene_point_features
from .models.losses import text_anchor_logits

SPLITS = ('train', 'val', 'test')


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
    from .engine.export import load_3d_net
    model, _ = load_3d_net(cfg, checkpoint_path, config_classes(cfg), allow_settings_mismatch)
    return model.eval()


def config_metainfo(cfg, key, split='test'):
    """``key`` ('classes', 'palette') of the ``split`` dataset of ``cfg``, without building it: its
    ``metainfo``'s, else its ``label_set``'s, else its dataset class's METAINFO (None when none has it)."""
    from mmdet3d.registry import DATASETS

    from .label_sets import get_label_set
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
    from .dataset_io import lidar_stem
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


# The test-pipeline steps that read files (a scan of your own brings its points itself).
FILE_STEPS = ('LoadPointsChecked', 'LoadPointsFromFile', 'LoadAnnotations3DChecked', 'LoadAnnotations3D',
              'PointSegClassMapping', 'LoadLiDARSweeps')


class ScanInputError(ValueError):
    """A scan that lacks what the model was trained with (colour or intensity); the message names the option."""


def scan_input_columns(cfg):
    """What the config's test pipeline loads per point: (coord_type, 'color' | 'intensity' | None)."""
    load = next((step for step in cfg.test_dataloader.dataset.pipeline
                 if step['type'] in ('LoadPointsChecked', 'LoadPointsFromFile')), None)
    if load is None:
        raise KeyError('the config\'s test pipeline has no point loader (LoadPointsChecked / LoadPointsFromFile)')
    if load.get('use_color'):
        return load.get('coord_type', 'DEPTH'), 'color'
    return load.get('coord_type', 'DEPTH'), 'intensity' if len(load.get('use_dim', [0, 1, 2])) > 3 else None


def scan_points(cfg, scan, no_color=False):
    """The scan as the points the config's test pipeline would have loaded: mmdet3d DepthPoints / LiDARPoints
    with x y z and r g b (0..255) or intensity (as the file stores it). A model trained with colour refuses a scan
    without it unless ``no_color`` (grey 127.5 for every point: the net then sees no colour, and its predictions
    rest on geometry it was not trained to use alone)."""
    from mmdet3d.structures import DepthPoints, LiDARPoints
    coord_type, extra = scan_input_columns(cfg)
    xyz = torch.as_tensor(scan.xyz, dtype=torch.float32)
    if extra == 'color':
        if scan.rgb is None and not no_color:
            raise ScanInputError(f'{scan.path} has no colours, but the model was trained with colour: pass '
                                 '--no-color to run it on grey points (its predictions then rest on geometry alone, '
                                 'which it was not trained for: expect them to be much worse)')
        rgb = torch.full((len(xyz), 3), 127.5) if scan.rgb is None else torch.as_tensor(scan.rgb, dtype=torch.float32)
        tensor, attributes = torch.cat([xyz, rgb], 1), dict(color=[3, 4, 5])
    elif extra == 'intensity':
        if scan.intensity is None:
            raise ScanInputError(f'{scan.path} has no intensity, but the model was trained with LiDAR intensity: '
                                 'give a LiDAR file with it (PLY property "intensity", .bin, .npy with 4 columns)')
        tensor, attributes = torch.cat([xyz, torch.as_tensor(scan.intensity, dtype=torch.float32)[:, None]], 1), None
    else:
        tensor, attributes = xyz, None
    points_class = LiDARPoints if coord_type == 'LIDAR' else DepthPoints
    return points_class(tensor, points_dim=tensor.shape[1], attribute_dims=attributes)


@torch.no_grad()
def scan_features(model, cfg, scan, no_color=False):
    """(N, D) float32 CLIP-space features of every point of ``scan``, one pass of the 3D net."""
    from mmengine.dataset import Compose, pseudo_collate

    from .models.point_voxels import batch_voxel_index
    steps = Compose([step for step in cfg.test_dataloader.dataset.pipeline if step['type'] not in FILE_STEPS])
    data = steps(dict(points=scan_points(cfg, scan, no_color), lidar_path=scan.path))
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    voxel_features = model.decode_head.embed(model.extract_feat(batch['inputs']))
    sample = batch['data_samples'][0]
    rows = batch_voxel_index([sample], [torch.arange(len(sample.point2voxel_map))])[0]
    return voxel_features[rows].numpy()


def grid_anchor(cfg, xyz):
    """A function giving, for the points of one tile of the (N, 3) scan ``xyz``, the corner point that puts the
    tile's voxels on the same coarsest-stride grid as the whole scan's.

    mmdet3d's minkunet voxelisation counts voxels from the lowest point of each sample, and the net's stride-2
    convolutions are aligned to that origin: a tile whose lowest voxel is not a multiple of the coarsest stride
    (2^num_stages voxels) away from the scan's would be cut into other coarse voxels and get other features. A
    point at the returned corner (at or below the tile's points on every axis, a multiple of the stride away from
    the scan's lowest voxel) becomes the tile's origin instead; its own prediction is dropped."""
    voxel = np.asarray(cfg.model.data_preprocessor.voxel_layer.voxel_size, dtype=np.float64)
    stride = 2 ** cfg.model.backbone.get('num_stages', 4)
    scan_origin = np.round(xyz.min(0) / voxel)

    def anchor(tile_xyz):
        steps = np.floor((np.round(tile_xyz.min(0) / voxel) - scan_origin) / stride)
        return (scan_origin + stride * steps) * voxel
    return anchor


def with_point(scan, xyz):
    """The scan with one more point at ``xyz`` (3,), black and of zero intensity, last."""
    from dataclasses import replace
    return replace(scan, xyz=np.vstack([scan.xyz, xyz]),
                   rgb=None if scan.rgb is None else np.vstack([scan.rgb, np.zeros((1, 3), np.uint8)]),
                   intensity=None if scan.intensity is None else np.append(scan.intensity, np.float32(0)))


@torch.no_grad()
def predict_scan(model, cfg, scan, no_color=False, max_points=None, tile_margin=2.0, progress=None, score=None,
                 keep_features=False):
    """The 3D net on a scan of your own (:mod:`hicl.scans`: read and normalised).

    Returns (:class:`ScenePrediction` of every point of the scan in its order: scene_id = the file's name, truth all
    -1, ``features`` only with ``keep_features`` (N x D floats: the largest array by far), and the
    [:class:`~hicl.text_queries.QueryScores`] of ``score``, a function of point features (``query_scorer``), or []).

    max_points: None, or the most points one pass may take (the memory budget): a larger scan runs in overlapping
    ground-plane tiles of that size with ``tile_margin`` metres of context (:mod:`hicl.scans.tiling`), each tile's
    features reduced to its logits and query scores before the next, so memory is a tile's;
    progress: a wrapper of the tile iterable (e.g. tqdm)."""
    import os.path as osp
    from dataclasses import replace

    from .scans.conventions import select
    from .scans.tiling import make_tiles, predict_tiled, tile_size_for
    anchors = model.decode_head.text_anchors
    templates = []  # the first pass's QueryScores: what each column of query scores is

    def reduce(features):
        """(M, C [+ Q] [+ D]) logits, query scores and (with keep_features) features of M points."""
        columns = [text_anchor_logits(torch.from_numpy(features), anchors).numpy()]
        if score is not None:
            queries = score(features)
            templates[:] = templates or queries
            columns.append(np.stack([query.scores for query in queries], 1))
        if keep_features:
            columns.append(features)
        return np.concatenate(columns, 1).astype(np.float32)

    if max_points is None or len(scan.xyz) <= max_points:
        rows = reduce(scan_features(model, cfg, scan, no_color))
    else:
        tiles = make_tiles(scan.xyz, tile_size_for(scan.xyz, max_points, tile_margin), tile_margin)
        keep = np.zeros(len(scan.xyz), dtype=bool)
        align = grid_anchor(cfg, scan.xyz)

        def tile_rows(indices):
            keep[:] = False
            keep[indices] = True
            tile = select(scan, keep)
            return reduce(scan_features(model, cfg, with_point(tile, align(tile.xyz)), no_color)[:-1])
        rows = predict_tiled(tile_rows, len(scan.xyz), tiles, progress)
    num_classes = len(anchors)
    queries = []
    for column, template in enumerate(templates):
        scores = rows[:, num_classes + column].copy()
        colour_range = ((float(scores.min()), float(scores.max())) if template.method == 'cosine'
                        else template.colour_range)
        queries.append(replace(template, scores=scores, colour_range=colour_range))
    rgb = scan.rgb if scan.rgb is not None else np.full((len(scan.xyz), 3), 127, np.uint8)
    prediction = ScenePrediction(scene_id=osp.basename(scan.path), xyz=scan.xyz.astype(np.float32), rgb=rgb,
                                 truth=np.full(len(scan.xyz), -1, np.int64),
                                 features=rows[:, num_classes + len(templates):] if keep_features else None,
                                 logits=rows[:, :num_classes].copy())
    return prediction, queries
