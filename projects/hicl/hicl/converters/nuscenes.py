"""Convert the official nuScenes layout (with lidarseg) into HICL infos in mmdet3d's v2 info style, plus sets.

Reads the tables with nuscenes-devkit. Outputs under ``out``:

- ``hicl_nuscenes_infos_<split>.pkl``: ``dict(metainfo=..., data_list=[info, ...])``, one info per keyframe
  sample, in the devkit's scene order. Paths are file names; the dataset joins them with its ``data_prefix``
  (``samples/LIDAR_TOP``, ``sweeps/LIDAR_TOP``, ``samples/<CAMERA>``, ``lidarseg/<version>``), as mmdet3d's
  nuScenes infos do.
- ``sets/<LiDAR file stem>.bin``: int64 (N,) geometric consistency set of each keyframe point (paper 3.2.1),
  computed per sweep with :func:`hicl.geometry.segmentation.segment_lidar`, unless ``sets=None``.

An info holds ``token``, ``timestamp`` (s), ``scene_name``, ``ego2global`` (4x4, at the LiDAR timestamp),
``lidar_points`` (``lidar_path``, ``num_pts_feats`` 5, ``lidar2ego``), ``lidar_sweeps`` (up to ``max_sweeps``
earlier sweeps, newest first: ``lidar_points.lidar_path`` relative to the root, ``timestamp``, ``sensor2lidar``
4x4 from the sweep's LiDAR frame to the keyframe's), ``images`` (per camera ``img_path``, ``cam2img`` 3x3, ``cam2ego``,
``ego2global`` at the camera timestamp, ``lidar2cam`` composed through the full chain, ``width``, ``height``,
``timestamp``), ``pts_semantic_mask_path`` (lidarseg file, when the version has lidarseg) and
``pts_sets_path``. Matrices are lists of lists in metres.
"""
import functools
import os
import pickle

import numpy as np

from ..dataset_io import (NUM_POINT_FEATURES, info_file_name, lidar_stem, principal_point, principal_point_off_centre,
                          read_lidar_points)
from ..fileio import atomic_write
from ..geometry.nuscenes import NUSCENES_CAMERAS, lidar_to_camera
from ..label_sets import NUSCENES16_CLASSES
from ..parallel import progress_map

INFO_VERSION = 'hicl-nuscenes-1.0'
LIDAR_CHANNEL = 'LIDAR_TOP'
# devkit split names of each version's train / val scenes (nuscenes.utils.splits.create_splits_scenes)
VERSION_SPLITS = {'v1.0-trainval': dict(train='train', val='val'),
                  'v1.0-mini': dict(train='mini_train', val='mini_val'),
                  'v1.0-test': dict(test='test')}
DEFAULT_LIDAR_SET_OPTIONS = dict(k_neighbours=8, k=0.05, min_size=10, max_gap=0.5, distance_weight=0.1)


def pose_matrix(record):
    """4x4 float64 rigid transform of a devkit record with ``rotation`` (w, x, y, z) and ``translation`` (m)."""
    from pyquaternion import Quaternion
    matrix = np.eye(4)
    matrix[:3, :3] = Quaternion(record['rotation']).rotation_matrix
    matrix[:3, 3] = record['translation']
    return matrix


def load_nuscenes(root, version):
    """``nuscenes.nuscenes.NuScenes`` of ``root``; FileNotFoundError naming the table folder when it is absent."""
    from nuscenes.nuscenes import NuScenes
    table_root = os.path.join(root, version)
    if not os.path.isdir(table_root):
        raise FileNotFoundError(f'{table_root} not found: --root must be the folder holding {version}/, samples/ '
                                'and lidarseg/ of the official nuScenes download, and --version one of '
                                f'{", ".join(VERSION_SPLITS)}')
    return NuScenes(version=version, dataroot=root, verbose=False)


def split_scene_names(version):
    """{split: set of scene names} of ``version`` from the devkit's official splits."""
    from nuscenes.utils.splits import create_splits_scenes
    if version not in VERSION_SPLITS:
        raise ValueError(f'unknown nuScenes version {version!r}: use one of {", ".join(VERSION_SPLITS)}')
    official = create_splits_scenes()
    return {split: set(official[name]) for split, name in VERSION_SPLITS[version].items()}


def sensor_poses(nusc, sample_data):
    """(sensor2ego, ego2global) 4x4 of one sample_data record."""
    return (pose_matrix(nusc.get('calibrated_sensor', sample_data['calibrated_sensor_token'])),
            pose_matrix(nusc.get('ego_pose', sample_data['ego_pose_token'])))


def camera_entry(nusc, sample_data, lidar2ego, ego2global_lidar):
    """The ``images[camera]`` entry of one camera sample_data (see the module docstring)."""
    calibration = nusc.get('calibrated_sensor', sample_data['calibrated_sensor_token'])
    check_camera_intrinsic(sample_data, calibration)
    cam2ego, ego2global = sensor_poses(nusc, sample_data)
    return dict(img_path=os.path.basename(sample_data['filename']),
                cam2img=np.asarray(calibration['camera_intrinsic'], dtype=np.float64).tolist(),
                cam2ego=cam2ego.tolist(), ego2global=ego2global.tolist(),
                lidar2cam=lidar_to_camera(lidar2ego, ego2global_lidar, ego2global, cam2ego).tolist(),
                width=sample_data['width'], height=sample_data['height'],
                timestamp=sample_data['timestamp'] / 1e6, sample_data_token=sample_data['token'])


def check_camera_intrinsic(sample_data, calibration):
    """Raise ValueError naming the image, the calibrated_sensor record, cx/cy and the image size when the
    camera_intrinsic of ``calibration`` puts the principal point outside the middle half of the sample_data's
    width x height (:func:`hicl.dataset_io.principal_point_off_centre`): the tables disagree, and every point
    would be projected to the wrong pixel."""
    size = [sample_data['width'], sample_data['height']]
    if principal_point_off_centre(calibration['camera_intrinsic'], size):
        cx, cy = principal_point(calibration['camera_intrinsic'])
        raise ValueError(
            f'{sample_data["filename"]}: camera_intrinsic of calibrated_sensor {calibration["token"]} puts the '
            f'principal point at cx {cx:g}, cy {cy:g} pixels, outside the middle half of the image, which '
            f'sample_data.json says is {size[0]}x{size[1]} pixels: the tables were edited for resized images '
            'without the other. Fix: restore the official tables (and images), or scale camera_intrinsic to the '
            'width and height')


def sweep_entries(nusc, lidar_data, lidar2ego, ego2global, max_sweeps):
    """Up to ``max_sweeps`` earlier LiDAR sweeps of a keyframe, newest first, each with ``sensor2lidar``: the
    4x4 transform from the sweep's LiDAR frame to the keyframe's (through the global frame). Their ``lidar_path``
    keeps the devkit's folder (earlier keyframes are in samples/, the others in sweeps/), as mmdet3d's infos do."""
    sweeps, token = [], lidar_data['prev']
    while token and len(sweeps) < max_sweeps:
        sweep = nusc.get('sample_data', token)
        sweep_lidar2ego, sweep_ego2global = sensor_poses(nusc, sweep)
        # the keyframe LiDAR plays the "camera" of the chain sweep LiDAR -> ego -> global -> ego -> LiDAR
        sensor2lidar = lidar_to_camera(sweep_lidar2ego, sweep_ego2global, ego2global, lidar2ego)
        sweeps.append(dict(lidar_points=dict(lidar_path=sweep['filename']),  # samples/... or sweeps/...
                           timestamp=sweep['timestamp'] / 1e6, sensor2lidar=sensor2lidar.tolist(),
                           sample_data_token=sweep['token']))
        token = sweep['prev']
    return sweeps


def sample_info(nusc, sample, scene_name, cameras, max_sweeps):
    """The info of one keyframe sample (see the module docstring), without ``pts_sets_path``."""
    lidar_data = nusc.get('sample_data', sample['data'][LIDAR_CHANNEL])
    lidar2ego, ego2global = sensor_poses(nusc, lidar_data)
    missing = [camera for camera in cameras if camera not in sample['data']]
    if missing:
        raise ValueError(f'sample {sample["token"]} of {scene_name} has no {", ".join(missing)}')
    info = dict(token=sample['token'], timestamp=sample['timestamp'] / 1e6, scene_name=scene_name,
                ego2global=ego2global.tolist(),
                lidar_points=dict(lidar_path=os.path.basename(lidar_data['filename']),
                                  num_pts_feats=NUM_POINT_FEATURES, lidar2ego=lidar2ego.tolist(),
                                  sample_data_token=lidar_data['token']),
                lidar_sweeps=sweep_entries(nusc, lidar_data, lidar2ego, ego2global, max_sweeps),
                images={camera: camera_entry(nusc, nusc.get('sample_data', sample['data'][camera]), lidar2ego,
                                             ego2global) for camera in cameras})
    if getattr(nusc, 'lidarseg', None):
        info['pts_semantic_mask_path'] = os.path.basename(nusc.get('lidarseg', lidar_data['token'])['filename'])
    return info, nusc.get_sample_data_path(lidar_data['token'])


def split_infos(nusc, scene_names, cameras, max_sweeps):
    """[(info, absolute LiDAR path)] of every keyframe of the scenes named in ``scene_names``, scene by scene."""
    infos = []
    for scene in nusc.scene:
        if scene['name'] not in scene_names:
            continue
        token = scene['first_sample_token']
        while token:
            sample = nusc.get('sample', token)
            infos.append(sample_info(nusc, sample, scene['name'], cameras, max_sweeps))
            token = sample['next']
    return infos


def write_sweep_sets(task, options):
    """Worker: compute and write the sets of one sweep unless present; returns True when it wrote them."""
    lidar_path, sets_path, overwrite = task
    if os.path.isfile(sets_path) and not overwrite:
        return False
    from ..geometry.segmentation import segment_lidar
    set_ids = segment_lidar(read_lidar_points(lidar_path)[:, :3], **options)
    atomic_write(sets_path, np.ascontiguousarray(set_ids, dtype=np.int64).tofile)
    return True


def write_info_file(path, data_list, version):
    """Pickle ``dict(metainfo, data_list)`` to ``path`` atomically."""
    metainfo = dict(dataset='nuscenes', version=version, info_version=INFO_VERSION,
                    classes=list(NUSCENES16_CLASSES))
    atomic_write(path, functools.partial(pickle.dump, dict(metainfo=metainfo, data_list=data_list)))


def convert_nuscenes(root, out, version='v1.0-trainval', splits=None, max_sweeps=10, cameras=NUSCENES_CAMERAS,
                     sets=DEFAULT_LIDAR_SET_OPTIONS, workers=1, overwrite=False, progress=True):
    """Write the info file of each split and the sets of every keyframe sweep (see the module docstring).

    Args:
        root: the nuScenes root (``<version>/`` tables, ``samples/``, ``sweeps/``, ``lidarseg/``).
        out: output folder (infos and ``sets/``); the dataset config's ``data_root`` when it equals ``root``.
        version: 'v1.0-trainval', 'v1.0-mini' or 'v1.0-test'.
        splits: subset of the version's splits (train / val, or test); all of them by default.
        max_sweeps: earlier sweeps recorded per keyframe for multi-sweep input.
        sets: ``segment_lidar`` options, or None to skip the sets.
        workers: processes computing sets; overwrite: recompute sets that exist.
    Returns:
        dict(infos={split: path}, samples={split: count}, sets_written=int, sets_reused=int).
    """
    scene_names = split_scene_names(version)
    splits = list(splits or scene_names)
    unknown = [split for split in splits if split not in scene_names]
    if unknown:
        raise ValueError(f'{version} has no split {unknown}: choose from {sorted(scene_names)}')
    nusc = load_nuscenes(root, version)
    result = dict(infos={}, samples={}, sets_written=0, sets_reused=0)
    for split in splits:
        infos = split_infos(nusc, scene_names[split], cameras, max_sweeps)
        if not infos:
            raise ValueError(f'no scene of split {split!r} is in {os.path.join(root, version)}: wrong --version?')
        if sets is not None:
            tasks = []
            for info, lidar_path in infos:
                info['pts_sets_path'] = lidar_stem(lidar_path) + '.bin'
                tasks.append((lidar_path, os.path.join(out, 'sets', info['pts_sets_path']), overwrite))
            written = progress_map(functools.partial(write_sweep_sets, options=dict(sets)), tasks, workers,
                                   f'sets ({split})', 'sweep', progress)
            result['sets_written'] += sum(written)
            result['sets_reused'] += len(written) - sum(written)
        path = os.path.join(out, info_file_name(split, 'nuscenes'))
        write_info_file(path, [info for info, _ in infos], version)
        result['infos'][split], result['samples'][split] = path, len(infos)
    return result
