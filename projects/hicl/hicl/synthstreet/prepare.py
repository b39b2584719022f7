"""SynthStreet end to end: generate (official nuScenes layout), convert like real nuScenes, record each camera
image's 2D ground truth in the infos (for the simulated labeller), write the labeller's text anchors."""
import os
import os.path as osp

from ..converters.nuscenes import DEFAULT_LIDAR_SET_OPTIONS, convert_nuscenes, write_info_file
from ..label_sets import get_label_set
from ..pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors
from ..safe_pickle import load_info_file
from .generate import VERSION, generate_synthstreet

ANCHOR_SEED = 0
ANCHOR_DIM = 512
TRUTH_DIRS = dict(label_path='synth_2d/labels', instance_path='synth_2d/instances')


def add_truth_paths(info_path):
    """Give every camera of the infos in ``info_path`` its 2D ground truth (``label_path``, ``instance_path``,
    relative to the data root) and rewrite the file."""
    infos = load_info_file(info_path)
    for info in infos['data_list']:
        for camera, image in info['images'].items():
            stem = osp.splitext(image['img_path'])[0]
            image.update({key: f'{folder}/{camera}/{stem}.png' for key, folder in TRUTH_DIRS.items()})
    write_info_file(info_path, infos['data_list'], infos['metainfo']['version'])


def prepare_synthstreet(out, samples_per_scene=8, sweeps_per_sample=0, seed=0, sets=DEFAULT_LIDAR_SET_OPTIONS,
                        workers=1, overwrite=False, progress=True, **scene_options):
    """Write SynthStreet to ``out`` (nuScenes layout), its infos and per-sweep sets, and ``out/text_anchors.npz``.

    Re-running reuses a complete dataset and existing sets. ``scene_options`` go to :func:`generate_synthstreet`
    (image_size, azimuth_steps). Returns the converter's result dict plus ``anchors_file``.
    """
    generate_synthstreet(out, samples_per_scene=samples_per_scene, sweeps_per_sample=sweeps_per_sample, seed=seed,
                         workers=workers, overwrite=overwrite, progress=progress, **scene_options)
    result = convert_nuscenes(out, out, version=VERSION, sets=sets,
                              workers=workers, overwrite=overwrite, progress=progress)
    for path in result['infos'].values():
        add_truth_paths(path)
    classes = get_label_set('nuscenes16')['classes']
    result['anchors_file'] = os.path.join(out, 'text_anchors.npz')
    save_text_anchors(result['anchors_file'], random_orthonormal_anchors(len(classes), ANCHOR_DIM, ANCHOR_SEED),
                      classes, dict(kind='random_orthonormal', seed=ANCHOR_SEED, label_set='nuscenes16'))
    return result
