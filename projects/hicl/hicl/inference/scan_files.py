"""tools/infer.py from Python: scan files in, segmented scans out (labels, scores, coloured PLY, viewer page).

    from hicl.inference import infer_scans
    for result in infer_scans('configs/hicl_synthrooms.py', 'model.pth', ['room.ply'], 'out/', texts=['chair']):
        print(result.path, result.report.points, result.table[:3])
"""
import os
import os.path as osp
from dataclasses import dataclass

import numpy as np

from ..scans.conventions import ScanReport

# The class colours of a vocabulary's names that count as no class of the model (matplotlib's tab10, uint8).
UNMAPPED_NAME_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                         (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


@dataclass
class ScanResult:
    """One scan through :func:`infer_scans`.

    path: the input file. report: what normalising did (:class:`hicl.scans.conventions.ScanReport`).
    outputs: {kind: written path} (:func:`hicl.scans.outputs.write_scan_outputs`).
    table: [(class name, points, share of the scan)] of the predicted classes (cleaned points), most points first.
    """
    path: str
    report: ScanReport
    outputs: dict
    table: list


def vocabulary_palette(vocabulary, classes, palette):
    """(V, 3) uint8 colours of a vocabulary's names: the model's colour of the first class a name counts as (so
    synonyms share it), else a tab10 colour."""
    colour_of = dict(zip(classes, np.asarray(palette, dtype=np.uint8).tolist()))
    unmapped = iter(UNMAPPED_NAME_COLOURS * (1 + len(vocabulary.names) // len(UNMAPPED_NAME_COLOURS)))
    return np.array([colour_of[targets[0]] if targets and targets[0] in colour_of else next(unmapped)
                     for targets in vocabulary.targets], dtype=np.uint8)


def consistency_sets(scan, lidar):
    """(N,) int64 geometric consistency sets of a scan's points: the Segmentator on the points
    (:func:`~hicl.geometry.segmentation.segment_points`), or its LiDAR variant for a sweep (``lidar``: the model reads
    intensity; :func:`~hicl.geometry.segmentation.segment_lidar`, sensor at the origin)."""
    from ..geometry.segmentation import segment_lidar, segment_points
    return segment_lidar(scan.xyz) if lidar else segment_points(scan.xyz)


def infer_scans(config, checkpoint, scans, out_dir, *, up='z', scale=1.0, intensity_scale=1.0, no_color=False,
                bin_columns=None, texts=(), score='cosine', vocabulary=None, clip_model=None, clip_pretrained=None,
                sets=False, page_points=None, points_per_pass=1_000_000, tile_margin=2.0,
                allow_settings_mismatch=False, device='cpu', progress=None):
    """Yield a :class:`ScanResult` per file of ``scans`` after writing its outputs into ``out_dir`` (created).

    config: an mmengine Config or its path; checkpoint: a .pth of tools/train.py or tools/export_3d_net.py.
    up, scale, intensity_scale, no_color, bin_columns: how to read the files (tools/infer.py's options of the same
    names).
    texts: queries scored per point (``score``: 'cosine' or 'softmax', as tools/query.py) and shown as viewer layers.
    vocabulary: None (the model's classes), or a name of configs/vocabularies or a JSON file: the scan is segmented
    into its names, as ``tools/test.py --vocabulary`` does, and softmax queries compete with them.
    sets: add the scan's geometric consistency sets (:func:`consistency_sets`) as a viewer layer and write them as
    ``<name>.sets.npy`` (a kNN graph over every point: minutes on millions of points).
    page_points: subsample the viewer page to this many points. points_per_pass, tile_margin: the memory budget
    and the context of tiles (:func:`hicl.inference.predict_scan`). device: where the net runs ('cpu', 'cuda');
    the scan, the sets and the outputs stay on the CPU. progress: a wrapper of iterables (tqdm).
    """
    from mmengine.config import Config

    from ..open_vocabulary import DEFAULT_CLIP_MODEL, VOCABULARY_DIR, load_vocabulary, vocabulary_path
    from ..scans import normalise_scan, read_scan
    from ..scans.outputs import class_table, write_scan_outputs
    from ..scans.readers import scan_name
    from ..text_queries import query_scorer
    from .model import config_metainfo, load_inference_model
    from .scans import predict_scan, scan_input_columns
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    os.makedirs(out_dir, exist_ok=True)
    clip_model = clip_model or DEFAULT_CLIP_MODEL
    model = load_inference_model(cfg, checkpoint, allow_settings_mismatch).to(device)
    classes, palette = config_metainfo(cfg, 'classes'), config_metainfo(cfg, 'palette')
    class_anchors = None
    if vocabulary:
        loaded = load_vocabulary(vocabulary_path(vocabulary, VOCABULARY_DIR), clip_model, clip_pretrained)
        classes, palette, class_anchors = loaded.names, vocabulary_palette(loaded, classes, palette), loaded.anchors
    anchors_file = cfg.model.decode_head.get('anchors_file')
    scorer = (query_scorer(texts, anchors_file, score, vocabulary, clip_model, clip_pretrained) if texts else None)
    lidar = scan_input_columns(cfg)[1] == 'intensity'
    wrap = progress or (lambda items, **_: items)
    for path in wrap(scans, desc='scans', unit='scan'):
        scan, report = normalise_scan(read_scan(path, bin_columns), up, scale, intensity_scale)
        prediction, queries = predict_scan(
            model, cfg, scan, no_color, points_per_pass, tile_margin,
            lambda tiles: wrap(tiles, desc='tiles', unit='tile', leave=False), scorer, class_anchors=class_anchors)
        outputs = write_scan_outputs(prediction, out_dir, scan_name(path), classes, palette, queries, page_points,
                                     f'{osp.basename(path)}, {osp.basename(checkpoint)}',
                                     consistency_sets(scan, lidar) if sets else None, report.file_rows)
        yield ScanResult(path, report, outputs, class_table(prediction.prediction, classes))
