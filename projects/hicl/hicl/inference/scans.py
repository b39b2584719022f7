"""A checkpoint's 3D net on a scan of your own (read and normalised by :mod:`hicl.scans`), of any size: one pass,
or overlapping ground-plane tiles whose voxel grids are aligned to the whole scan's."""
import numpy as np
import torch

from ..models.losses import text_anchor_logits
from .model import ScenePrediction

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
        check_intensity_range(cfg, scan)
        tensor, attributes = torch.cat([xyz, torch.as_tensor(scan.intensity, dtype=torch.float32)[:, None]], 1), None
    else:
        tensor, attributes = xyz, None
    points_class = LiDARPoints if coord_type == 'LIDAR' else DepthPoints
    return points_class(tensor, points_dim=tensor.shape[1], attribute_dims=attributes)


def intensity_divisor(cfg):
    """The ``max_value`` the config's test pipeline divides intensity by (NormalizeIntensity), or 1.0."""
    steps = [step for step in cfg.test_dataloader.dataset.pipeline if step['type'] == 'NormalizeIntensity']
    return float(steps[0].get('max_value', 255.0)) if steps else 1.0


def check_intensity_range(cfg, scan):
    """Warn when the scan's intensity is in [0, 1] (KITTI-style remission) but the model was trained on values up
    to a larger ``max_value`` (nuScenes' 0..255): the net would see near-zero intensity everywhere."""
    import warnings
    divisor = intensity_divisor(cfg)
    top = float(np.max(scan.intensity)) if len(scan.intensity) else 0.0
    if divisor > 1.0 and top <= 1.0:
        warnings.warn(f'{scan.path}: intensity is at most {top:.3g}, but the model was trained on intensity up to '
                      f'{divisor:g} (it divides by {divisor:g}): for remission in [0, 1] (KITTI) pass '
                      f'--intensity-scale {divisor:g}')


@torch.no_grad()
def scan_features(model, cfg, scan, no_color=False):
    """(N, D) float32 CLIP-space features of every point of ``scan``, one pass of the 3D net."""
    from mmengine.dataset import Compose, pseudo_collate

    from ..models.point_voxels import batch_voxel_index
    steps = Compose([step for step in cfg.test_dataloader.dataset.pipeline if step['type'] not in FILE_STEPS])
    data = steps(dict(points=scan_points(cfg, scan, no_color), lidar_path=scan.path))
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    voxel_features = model.decode_head.embed(model.extract_feat(batch['inputs']))
    sample = batch['data_samples'][0]
    rows = batch_voxel_index([sample], [torch.arange(len(sample.point2voxel_map))])[0]
    return voxel_features[rows].cpu().numpy()


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
                 keep_features=False, class_anchors=None):
    """The 3D net on a scan of your own (:mod:`hicl.scans`: read and normalised).

    Returns (:class:`ScenePrediction` of every point of the scan in its order: scene_id = the file's name, truth all
    -1, ``features`` only with ``keep_features`` (N x D floats: the largest array by far), and the
    [:class:`~hicl.text_queries.QueryScores`] of ``score``, a function of point features (``query_scorer``), or []).

    max_points: None, or the most points one pass may take (the memory budget): a larger scan runs in overlapping
    ground-plane tiles of at most that many points with ``tile_margin`` metres of context (:mod:`hicl.scans.tiling`),
    each tile's features reduced to its logits and query scores before the next, so memory is a tile's;
    progress: a wrapper of the tile iterable (e.g. tqdm); class_anchors: (C, D) anchors to segment with (a
    vocabulary's), by default the model's text anchors."""
    import os.path as osp
    from dataclasses import replace

    from ..scans.conventions import select
    from ..scans.tiling import make_tiles, predict_tiled, tile_size_for
    anchors = (model.decode_head.text_anchors if class_anchors is None else torch.as_tensor(class_anchors)).cpu()
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
        per_tile = max_points - 1  # each pass adds the grid anchor's point
        tiles = make_tiles(scan.xyz, tile_size_for(scan.xyz, per_tile, tile_margin), tile_margin, per_tile)
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
