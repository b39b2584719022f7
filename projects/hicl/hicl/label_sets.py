"""Label sets, kept in one place: class names, raw-id mappings, palettes.

Shared by the dataset metainfo, the converters, the pseudo-labellers and the text-anchor tool.
Class ids are contiguous 0..C-1; ``IGNORE_INDEX = C`` follows mmdet3d's ScanNet and nuScenes-seg convention
(the evaluation drops it). Label images use ``IMAGE_IGNORE = 255`` for "no label".

Each ``LABEL_SETS`` entry (:func:`register_label_set`; a dataset of your own registers its set the same way)
holds ``classes``, ``ignore_index``, ``palette`` and the raw-id mapping in two forms:
``raw_ids`` (the raw id of each class, in class order; only when raw ids and classes are one-to-one, else None)
and ``raw_to_train`` (lookup table: entry r is the train id of raw id r; always present). ScanNet-20 has both;
nuScenes-16 merges several lidarseg classes into one (adult/child/... -> pedestrian), so only the table.
"""
import csv

import numpy as np

IMAGE_IGNORE = 255
# ScanNet's table of its raw categories (shipped at the root of the ScanNet download): the ``id`` column is what
# the 2D label-filt images hold, ``nyu40id`` the NYU40 class of each id.
SCANNET_LABEL_MAP_FILE = 'scannetv2-labels.combined.tsv'

SCANNET20_CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window', 'bookshelf',
    'picture', 'counter', 'desk', 'curtain', 'refrigerator', 'shower curtain', 'toilet', 'sink',
    'bathtub', 'other furniture')
# NYU40 ids of the 20 benchmark classes, in class order (ScanNet's "valid class ids").
SCANNET20_NYU40_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)
SCANNET20_IGNORE_INDEX = len(SCANNET20_CLASSES)
SCANNET20_PALETTE = (
    (174, 199, 232), (152, 223, 138), (31, 119, 180), (255, 187, 120), (188, 189, 34), (140, 86, 75),
    (255, 152, 150), (214, 39, 40), (197, 176, 213), (148, 103, 189), (196, 156, 148), (23, 190, 207),
    (247, 182, 210), (219, 219, 141), (255, 127, 14), (158, 218, 229), (44, 160, 44), (112, 128, 144),
    (227, 119, 194), (82, 84, 163))

NYU40_MAX_ID = 40

NUSCENES16_CLASSES = (
    'barrier', 'bicycle', 'bus', 'car', 'construction vehicle', 'motorcycle', 'pedestrian', 'traffic cone',
    'trailer', 'truck', 'driveable surface', 'other flat', 'sidewalk', 'terrain', 'manmade', 'vegetation')
NUSCENES16_IGNORE_INDEX = len(NUSCENES16_CLASSES)
# nuScenes-lidarseg general class id (0..31, the devkit's category "index") -> 16-class train id: the standard
# mapping of the nuScenes lidarseg benchmark (as in mmdet3d's nuScenes-seg ``labels_map``); entry r is the train
# id of raw id r, and 16 (= NUSCENES16_IGNORE_INDEX) marks raw classes that the benchmark ignores.
NUSCENES_LIDARSEG_TO_16 = (
    16,  # 0 noise
    16,  # 1 animal
    6, 6, 6,  # 2 human.pedestrian.adult, 3 .child, 4 .construction_worker
    16,  # 5 human.pedestrian.personal_mobility
    6,  # 6 human.pedestrian.police_officer
    16, 16,  # 7 human.pedestrian.stroller, 8 .wheelchair
    0,  # 9 movable_object.barrier
    16, 16,  # 10 movable_object.debris, 11 .pushable_pullable
    7,  # 12 movable_object.trafficcone
    16,  # 13 static_object.bicycle_rack
    1,  # 14 vehicle.bicycle
    2, 2,  # 15 vehicle.bus.bendy, 16 vehicle.bus.rigid
    3,  # 17 vehicle.car
    4,  # 18 vehicle.construction
    16, 16,  # 19 vehicle.emergency.ambulance, 20 .police
    5,  # 21 vehicle.motorcycle
    8,  # 22 vehicle.trailer
    9,  # 23 vehicle.truck
    10,  # 24 flat.driveable_surface
    11,  # 25 flat.other
    12,  # 26 flat.sidewalk
    13,  # 27 flat.terrain
    14,  # 28 static.manmade
    16,  # 29 static.other
    15,  # 30 static.vegetation
    16)  # 31 vehicle.ego
NUSCENES16_PALETTE = (
    (255, 120, 50), (255, 192, 203), (255, 255, 0), (0, 150, 245), (0, 255, 255), (200, 180, 0),
    (255, 0, 0), (255, 240, 150), (135, 60, 0), (160, 32, 240), (255, 0, 255), (139, 137, 137),
    (75, 0, 75), (150, 240, 80), (230, 230, 250), (0, 175, 0))


def raw_to_train_lut(raw_ids, ignore_index, max_raw_id=None):
    """Lookup table mapping raw ids (e.g. NYU40) to train ids 0..C-1, everything else to ``ignore_index``.

    Returns an int64 array of length ``max_raw_id + 1`` (default: max(raw_ids) + 1).
    """
    size = (max(raw_ids) if max_raw_id is None else max_raw_id) + 1
    lut = np.full(size, ignore_index, dtype=np.int64)
    lut[np.asarray(raw_ids)] = np.arange(len(raw_ids))
    return lut


def read_scannet_label_map(path):
    """{ScanNet category id: NYU40 id} from ``scannetv2-labels.combined.tsv`` (columns ``id`` and ``nyu40id``);
    rows without a NYU40 id are left out. ValueError naming the file when the columns are missing."""
    with open(path, newline='') as file:
        rows = list(csv.DictReader(file, delimiter='\t'))
    if not rows or not {'id', 'nyu40id'} <= set(rows[0]):
        raise ValueError(f'{path} is not ScanNet\'s {SCANNET_LABEL_MAP_FILE}: it needs the columns id and nyu40id')
    return {int(row['id']): int(row['nyu40id']) for row in rows if row['nyu40id'].strip()}


def image_label_lut(raw_ids, label_map_file=None, ignore_index=IMAGE_IGNORE):
    # raw_ids: a label set's image_raw_ids (get_label_set(name)['image_raw_ids'])
    """(R,) int64 train id of every raw id a 2D label image holds (``ignore_index`` for the others).

    raw_ids: the raw ids of classes 0..C-1 (NYU40 ids for ScanNet-20). label_map_file: None when the images hold
    those ids themselves (SynthRooms writes NYU40 ids), or ScanNet's ``scannetv2-labels.combined.tsv`` when they
    hold ScanNet category ids, as real ScanNet's label-filt images do (chair: 2 in label-filt, 5 in NYU40): the
    ids then map category id -> NYU40 id (:func:`read_scannet_label_map`) -> class.
    """
    class_lut = raw_to_train_lut(raw_ids, ignore_index)
    if label_map_file is None:
        return class_lut
    to_nyu40 = read_scannet_label_map(label_map_file)
    lut = np.full(max(to_nyu40) + 1, ignore_index, dtype=np.int64)
    for category, nyu40 in to_nyu40.items():
        if 0 <= nyu40 < len(class_lut):
            lut[category] = class_lut[nyu40]
    return lut


LABEL_SETS = {}


def default_palette(num_classes, seed=0):
    """(C, 3) uint8 RGB tuples, distinct random colours from ``seed`` (for a label set registered without one)."""
    colours = np.random.default_rng(seed).integers(30, 256, size=(num_classes, 3))
    return tuple(tuple(int(c) for c in colour) for colour in colours)


def register_label_set(name, classes, raw_ids=None, raw_to_train=None, palette=None, max_raw_id=None,
                       image_raw_ids=None):
    """Register a label set under ``name`` and return its dict (see the module docstring).

    Args:
        classes: the C class names, in train-id order 0..C-1.
        raw_ids: the raw id stored in the dataset's label files for each class (one-to-one), e.g. NYU40 ids; or
        raw_to_train: a lookup table, entry r = the train id of raw id r (several raw ids per class allowed;
            raw ids that no class takes map to C). Give one of the two.
        palette: C (r, g, b) colours; default :func:`default_palette`.
        max_raw_id: with ``raw_ids``, the largest raw id the label files may hold (default: max(raw_ids)); ids
            above it are refused when read.
        image_raw_ids: the id of each class in the dataset's 2D label images, when it has any (read by the
            simulated labeller and the 2D evaluation); default ``raw_ids`` (ScanNet layout: the images hold the
            same ids as the 3D labels).
    Registering a name again with other contents is refused (ValueError naming both); with the same contents it
    is a no-op, so a module that registers its label set may be imported twice.
    """
    classes = tuple(classes)
    if len(set(classes)) != len(classes) or not classes:
        raise ValueError(f'label set {name!r}: classes must be distinct and at least one, got {classes}')
    if (raw_ids is None) == (raw_to_train is None):
        raise ValueError(f'label set {name!r}: give raw_ids (one raw id per class) or raw_to_train (a lookup '
                         'table), not both or neither')
    ignore_index = len(classes)
    if raw_ids is not None:
        raw_ids = tuple(int(i) for i in raw_ids)
        if len(raw_ids) != len(classes) or len(set(raw_ids)) != len(raw_ids) or min(raw_ids) < 0:
            raise ValueError(f'label set {name!r}: raw_ids must be {len(classes)} distinct ids >= 0 (one per '
                             f'class), got {raw_ids}')
        if max_raw_id is not None and max_raw_id < max(raw_ids):
            raise ValueError(f'label set {name!r}: max_raw_id={max_raw_id} is below the largest raw id {max(raw_ids)}')
        raw_to_train = tuple(raw_to_train_lut(raw_ids, ignore_index, max_raw_id).tolist())
    raw_to_train = tuple(int(i) for i in raw_to_train)
    if not all(0 <= i <= ignore_index for i in raw_to_train):
        raise ValueError(f'label set {name!r}: raw_to_train entries must be train ids 0..{ignore_index - 1} or '
                         f'{ignore_index} (ignored), got {sorted(set(raw_to_train))}')
    palette = default_palette(len(classes)) if palette is None else tuple(tuple(int(c) for c in p) for p in palette)
    if len(palette) != len(classes):
        raise ValueError(f'label set {name!r}: {len(palette)} palette colours for {len(classes)} classes')
    image_raw_ids = raw_ids if image_raw_ids is None else tuple(int(i) for i in image_raw_ids)
    if image_raw_ids is not None and len(image_raw_ids) != len(classes):
        raise ValueError(f'label set {name!r}: image_raw_ids must give one id per class ({len(classes)}), got '
                         f'{image_raw_ids}')
    entry = dict(classes=classes, ignore_index=ignore_index, raw_ids=raw_ids, raw_to_train=raw_to_train,
                 palette=palette, image_raw_ids=image_raw_ids)
    if name in LABEL_SETS and LABEL_SETS[name] != entry:
        raise ValueError(f'label set {name!r} is registered already with other contents: choose another name')
    LABEL_SETS[name] = entry
    return entry


register_label_set('scannet20', SCANNET20_CLASSES, raw_ids=SCANNET20_NYU40_IDS, palette=SCANNET20_PALETTE,
                   max_raw_id=NYU40_MAX_ID)
# nuScenes has no 2D labels; SynthStreet's 2D ground truth holds the 16 train ids.
register_label_set('nuscenes16', NUSCENES16_CLASSES, raw_to_train=NUSCENES_LIDARSEG_TO_16, palette=NUSCENES16_PALETTE,
                   image_raw_ids=range(len(NUSCENES16_CLASSES)))


def get_label_set(name):
    """Return the label-set dict (classes, ignore_index, raw_ids, raw_to_train, palette) registered as ``name``."""
    if name not in LABEL_SETS:
        raise KeyError(f'unknown label set {name!r}; known: {sorted(LABEL_SETS)}. A label set of your own is '
                       'registered with hicl.label_sets.register_label_set in a module the config imports '
                       '(custom_imports; docs/adding_a_dataset.md)')
    return LABEL_SETS[name]


def seg_metainfo(name):
    """The metainfo of mmdet3d's ``Seg3DDataset`` for label set ``name``: classes, palette, the raw id of each
    class (``seg_valid_class_ids``; the train ids for a set given by a lookup table), the raw ids 1..R-1 of its
    table of R entries (``seg_all_class_ids``, so that mmdet3d's label mapping has R entries)."""
    label_set = get_label_set(name)
    valid = label_set['raw_ids'] or tuple(range(len(label_set['classes'])))
    return dict(classes=label_set['classes'], palette=label_set['palette'], seg_valid_class_ids=valid,
                seg_all_class_ids=tuple(range(1, len(label_set['raw_to_train']))))


def map_raw_labels(raw_labels, raw_ids, ignore_index):
    """Map an array of raw ids to train ids; ids outside the table map to ``ignore_index``."""
    raw_labels = np.asarray(raw_labels).astype(np.int64)
    lut = raw_to_train_lut(raw_ids, ignore_index, max(int(raw_labels.max(initial=0)), max(raw_ids)))
    out = np.full(raw_labels.shape, ignore_index, dtype=np.int64)
    valid = raw_labels >= 0
    out[valid] = lut[raw_labels[valid]]
    return out


def map_with_lut(raw_labels, raw_to_train, ignore_index):
    """Map raw ids through a lookup table (entry r = train id of raw id r, e.g. ``NUSCENES_LIDARSEG_TO_16``).

    Returns int64 train ids of the same shape; raw ids outside the table (negative or too large) map to
    ``ignore_index``.
    """
    raw_labels = np.asarray(raw_labels).astype(np.int64)
    lut = np.asarray(raw_to_train, dtype=np.int64)
    in_table = (raw_labels >= 0) & (raw_labels < len(lut))
    return np.where(in_table, lut[np.where(in_table, raw_labels, 0)], ignore_index)
