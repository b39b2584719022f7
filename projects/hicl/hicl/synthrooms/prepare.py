"""SynthRooms end to end: generate raw scans (ScanNet layout), convert them, write the labeller's text anchors."""
import os.path as osp

from ..converters.point_sets import DEFAULT_SET_OPTIONS
from ..converters.scannet import convert_scannet
from ..label_sets import get_label_set
from ..pseudo_labels.anchors import clip_like_anchors, cosine_statistics, random_orthonormal_anchors, save_text_anchors
from ..pseudo_labels.simulated import DEFAULT_CONFUSION_GROUPS

ANCHOR_SEED = 0
ANCHOR_DIM = 512
ANCHOR_KINDS = ('clip_like', 'orthonormal')


def synthrooms_anchors(kind='clip_like', seed=ANCHOR_SEED):
    """(anchors (20, 512), meta) of the SynthRooms text anchors: 'clip_like' (default: a common component plus
    the simulated labeller's confusion groups, pairwise cosines as CLIP's, see ``clip_like_anchors``) or
    'orthonormal' (cosine 0 between classes, the earlier default)."""
    classes = get_label_set('scannet20')['classes']
    if kind == 'clip_like':
        anchors = clip_like_anchors(classes, DEFAULT_CONFUSION_GROUPS, ANCHOR_DIM, seed)
    elif kind == 'orthonormal':
        anchors = random_orthonormal_anchors(len(classes), ANCHOR_DIM, seed)
    else:
        raise ValueError(f'unknown anchor kind {kind!r}: use one of {ANCHOR_KINDS}')
    stats = cosine_statistics(anchors, classes, DEFAULT_CONFUSION_GROUPS)
    return anchors, dict(kind=kind, seed=seed, label_set='scannet20',
                         cosine={key: round(value, 4) for key, value in stats.items()})


def prepare_synthrooms(out, num_train=24, num_val=6, num_test=10, seed=0, frames_per_scene=16, workers=1,
                       overwrite=False, progress=True, anchors='clip_like', **scene_options):
    """Write ``out/raw`` (ScanNet layout), the converted dataset (with geometric consistency sets from the
    meshes) in ``out`` and ``out/text_anchors.npz`` (``anchors``: see :func:`synthrooms_anchors`).

    Re-running skips finished scenes. ``scene_options`` go to :func:`generate_synthrooms` (e.g. image sizes).
    Returns the converter's result dict plus ``anchors_file`` and ``anchor_cosine`` (pairwise cosine statistics).
    """
    from . import generate_synthrooms
    raw = osp.join(out, 'raw')
    generate_synthrooms(raw, num_train=num_train, num_val=num_val, num_test=num_test, seed=seed,
                        frames_per_scene=frames_per_scene, workers=workers, overwrite=overwrite, progress=progress,
                        **scene_options)
    splits = [split for split, count in (('train', num_train), ('val', num_val), ('test', num_test)) if count]
    result = convert_scannet(raw, out, splits=splits, workers=workers, overwrite=overwrite, progress=progress,
                             dataset_name='SynthRooms', sets=DEFAULT_SET_OPTIONS)
    vectors, meta = synthrooms_anchors(anchors)
    result['anchors_file'] = osp.join(out, 'text_anchors.npz')
    save_text_anchors(result['anchors_file'], vectors, get_label_set('scannet20')['classes'], meta)
    result['anchor_cosine'] = meta['cosine']
    return result
