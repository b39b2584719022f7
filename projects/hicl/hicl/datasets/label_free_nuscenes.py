"""nuScenes lidarseg keyframes for label-free training (real nuScenes, SynthStreet, mmdet3d's own v2 infos)."""
import os.path as osp

import numpy as np
from mmdet3d.datasets import Seg3DDataset
from mmdet3d.registry import DATASETS

from ..dataset_io import lidar_stem
from ..geometry.nuscenes import NUSCENES_CAMERAS, camera_poses_from_info
from ..label_sets import NUSCENES16_CLASSES, NUSCENES16_PALETTE, NUSCENES_LIDARSEG_TO_16
from .info_files import SafeInfoFileMixin

DEFAULT_DATA_PREFIX = dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP',
                           pts_semantic_mask='lidarseg/v1.0-trainval', pts_sets='sets',
                           pseudo_labels='pseudo_labels/maskclip',
                           **{camera: f'samples/{camera}' for camera in NUSCENES_CAMERAS})


@DATASETS.register_module()
class LabelFreeNuScenesDataset(SafeInfoFileMixin, Seg3DDataset):
    """Keyframe LiDAR sweeps with their 6 cameras, from ``tools/create_data.py nuscenes`` infos (or mmdet3d's).

    Each data info gets, for the transforms of this package:

    - ``scene_id``: the LiDAR file stem (names the sweep's sets file and pseudo-label cache folder);
    - ``frames``: one per camera (``frame_id`` = camera name, ``pose`` 4x4 camera-to-LiDAR from the full
      calibration chain, ``intrinsic`` 3x3 at ``image_size`` (W, H), ``color_path``, and ``label_path`` /
      ``instance_path`` when the info has 2D ground truth (SynthStreet)); none when the info has no ``images``
      (evaluation needs only the LiDAR and lidarseg files);
    - ``pseudo_label_root``, ``pts_sets_path`` and the sweeps' absolute paths.

    The lidarseg labels (raw general ids 0..31) map to the 16 classes through ``NUSCENES_LIDARSEG_TO_16``
    (``seg_label_mapping``, used by ``PointSegClassMapping``); 16 is the ignore index. Only the evaluation
    pipeline reads them.

    Args:
        data_prefix: folders (relative to ``data_root``) of the LiDAR files ('pts'), sweeps, lidarseg labels
            ('pts_semantic_mask': ``lidarseg/<version>``), sets, the pseudo-label cache and each camera.
        cameras: camera names paired with the points.
    """
    METAINFO = dict(classes=NUSCENES16_CLASSES, palette=NUSCENES16_PALETTE,
                    seg_valid_class_ids=tuple(range(len(NUSCENES16_CLASSES))),
                    seg_all_class_ids=tuple(range(len(NUSCENES_LIDARSEG_TO_16))), label_set='nuscenes16')

    def __init__(self, data_root, ann_file, metainfo=None, data_prefix=DEFAULT_DATA_PREFIX,
                 cameras=NUSCENES_CAMERAS, **kwargs):
        info_path = ann_file if osp.isabs(ann_file) or not data_root else osp.join(data_root, ann_file)
        if not osp.isfile(info_path):
            raise FileNotFoundError(
                f'info file {info_path} not found: convert the dataset first, e.g. python tools/create_data.py '
                f'nuscenes --root {data_root or "NUSCENES"} --version v1.0-trainval --out {data_root or "OUT"}')
        self.cameras = tuple(cameras)
        metainfo = dict(dict(classes=self.METAINFO['classes']), **(metainfo or {}))
        super().__init__(data_root=data_root, ann_file=ann_file, metainfo=metainfo,
                         data_prefix=dict(DEFAULT_DATA_PREFIX, **data_prefix), **kwargs)

    def get_seg_label_mapping(self, metainfo=None):
        """(32,) int64: lidarseg general id -> 16-class train id (16 = ignored), the benchmark's merge."""
        return np.asarray(NUSCENES_LIDARSEG_TO_16, dtype=np.int64)

    def parse_data_info(self, info):
        info = super().parse_data_info(info)
        info['num_classes'] = len(self.metainfo['classes'])  # SetVotingRefiner's
        info['scene_id'] = lidar_stem(info['lidar_path'])
        info['frames'] = self.camera_frames(info) if 'images' in info else []
        info['pseudo_label_root'] = self.data_prefix.get('pseudo_labels')
        for sweep in info.get('lidar_sweeps', []):  # earlier keyframes live in samples/, the rest in sweeps/
            path = sweep['lidar_points']['lidar_path']
            folder = self.data_prefix['pts'] if 'samples' in path else self.data_prefix['sweeps']
            sweep['lidar_points']['lidar_path'] = osp.join(folder, osp.basename(path))
        if 'pts_sets_path' in info:
            info['pts_sets_path'] = osp.join(self.data_prefix['pts_sets'], info['pts_sets_path'])
        return info

    def camera_frames(self, info):
        """The frames of one info's cameras (see the class docstring); paths made absolute."""
        cameras = camera_poses_from_info(info, self.cameras)
        frames = []
        for camera, pose, intrinsic in zip(cameras.names, cameras.cam2lidar, cameras.intrinsic):
            image = info['images'][camera]
            frame = dict(frame_id=camera, pose=pose, intrinsic=intrinsic, image_size=cameras.image_size,
                         color_path=osp.join(self.data_prefix.get(camera, ''), image['img_path']))
            for key in ('label_path', 'instance_path'):
                if image.get(key):
                    frame[key] = osp.join(self.data_root, image[key])
            frames.append(frame)
        return frames
