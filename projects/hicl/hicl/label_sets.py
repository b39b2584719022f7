"""Label sets, kept in one place: class names, raw-id mappings, palettes.

Shared by the dataset metainfo, the converters, the pseudo-labellers and the text-anchor tool.
Class ids are contiguous 0..C-1; ``IGNORE_INDEX = C`` follows mmdet3d's ScanNet convention
(the evaluation drops it). Label images use ``IMAGE_IGNORE = 255`` for "no label".
"""
import numpy as np

IMAGE_IGNORE = 255

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

LABEL_SETS = {
    'scannet20': dict(classes=SCANNET20_CLASSES, raw_ids=SCANNET20_NYU40_IDS, palette=SCANNET20_PALETTE),
}


def get_label_set(name):
    """Return the label-set dict (classes, raw_ids, palette) registered under ``name``."""
    if name not in LABEL_SETS:
        raise KeyError(f'unknown label set {name!r}; known: {sorted(LABEL_SETS)}')
    return LABEL_SETS[name]


def raw_to_train_lut(raw_ids, ignore_index, max_raw_id=None):
    """Lookup table mapping raw ids (e.g. NYU40) to train ids 0..C-1, everything else to ``ignore_index``.

    Returns an int64 array of length ``max_raw_id + 1`` (default: max(raw_ids) + 1).
    """
    size = (max(raw_ids) if max_raw_id is None else max_raw_id) + 1
    lut = np.full(size, ignore_index, dtype=np.int64)
    lut[np.asarray(raw_ids)] = np.arange(len(raw_ids))
    return lut


def map_raw_labels(raw_labels, raw_ids, ignore_index):
    """Map an array of raw ids to train ids; ids outside the table map to ``ignore_index``."""
    raw_labels = np.asarray(raw_labels).astype(np.int64)
    lut = raw_to_train_lut(raw_ids, ignore_index, max(int(raw_labels.max(initial=0)), max(raw_ids)))
    out = np.full(raw_labels.shape, ignore_index, dtype=np.int64)
    valid = raw_labels >= 0
    out[valid] = lut[raw_labels[valid]]
    return out
