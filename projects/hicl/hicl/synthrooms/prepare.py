"""SynthRooms end to end: generate raw scans (ScanNet layout), convert them, write the labeller's text anchors."""
import os.path as osp

from ..converters.point_sets import DEFAULT_SET_OPTIONS
from ..converters.scannet import convert_scannet
from ..label_sets import get_label_set
from ..pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors

ANCHOR_SEED = 0
ANCHOR_DIM = 512


def prepare_synthrooms(out, num_train=24, num_val=6, seed=0, frames_per_scene=16, workers=1, overwrite=False,
                       progress=True, **scene_options):
    """Write ``out/raw`` (ScanNet layout), the converted dataset (with geometric consistency sets from the
    meshes) in ``out`` and ``out/text_anchors.npz``.

    Re-running skips finished scenes. ``scene_options`` go to :func:`generate_synthrooms` (e.g. image sizes).
    Returns the converter's result dict plus ``anchors_file``.
    """
    from . import generate_synthrooms
    raw = osp.join(out, 'raw')
    generate_synthrooms(raw, num_train=num_train, num_val=num_val, seed=seed, frames_per_scene=frames_per_scene,
                        workers=workers, overwrite=overwrite, progress=progress, **scene_options)
    result = convert_scannet(raw, out, workers=workers, overwrite=overwrite, progress=progress,
                             dataset_name='SynthRooms', sets=DEFAULT_SET_OPTIONS)
    classes = get_label_set('scannet20')['classes']
    result['anchors_file'] = osp.join(out, 'text_anchors.npz')
    save_text_anchors(result['anchors_file'], random_orthonormal_anchors(len(classes), ANCHOR_DIM, ANCHOR_SEED),
                      classes, dict(kind='random_orthonormal', seed=ANCHOR_SEED, label_set='scannet20'))
    return result
