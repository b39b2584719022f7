"""ScanNet-layout scenes for label-free training (SynthRooms and real ScanNet v2 alike)."""
import os.path as osp

import numpy as np
from mmdet3d.datasets import Seg3DDataset
from mmdet3d.registry import DATASETS

from ..label_sets import get_label_set, seg_metainfo
from .info_files import SafeInfoFileMixin


@DATASETS.register_module()
class LabelFreeScanNetDataset(SafeInfoFileMixin, Seg3DDataset):
    """Scenes written by ``tools/create_data.py scannet``: points, raw NYU40 masks (evaluation only) and frames.

    Each data info carries ``frames`` (frame_id, 4x4 camera-to-world ``pose``, ``depth_path``, ...) with paths
    made absolute here, ``camera`` (intrinsics and image sizes) and ``pseudo_label_root``, the cache folder of
    per-frame pixel pseudo-labels (``data_prefix['pseudo_labels']``). The 3D ground truth is only read by the
    evaluation pipeline; training pipelines never load it. The info file is unpickled with an allow-list
    (:mod:`hicl.safe_pickle`): a file that names anything but plain data is refused.

    The classes, palette and raw-id mapping are those of the label set ``label_set``
    (:func:`hicl.label_sets.register_label_set`; default ScanNet-20 on NYU40 ids), so any ScanNet-layout dataset
    is this class with its own label set (docs/adding_a_dataset.md). An info file converted for another label set
    is refused.
    """
    METAINFO = seg_metainfo('scannet20')

    def __init__(self, data_root, ann_file, label_set='scannet20', metainfo=None,
                 data_prefix=dict(pts='points', pts_semantic_mask='semantic_mask', pseudo_labels='pseudo_labels'),
                 **kwargs):
        info_path = ann_file if osp.isabs(ann_file) or not data_root else osp.join(data_root, ann_file)
        if not osp.isfile(info_path):
            raise FileNotFoundError(
                f'info file {info_path} not found: convert the dataset first, e.g. '
                f'python tools/create_data.py scannet --root RAW --out {data_root}')
        self.label_set = label_set
        self.METAINFO = seg_metainfo(label_set)  # mmdet3d's Seg3DDataset reads the raw ids from here
        metainfo = dict(self.METAINFO, **(metainfo or {}))
        super().__init__(data_root=data_root, ann_file=ann_file, metainfo=metainfo,
                         data_prefix=data_prefix, **kwargs)

    def get_seg_label_mapping(self, metainfo=None):
        """(R,) int64: raw id -> train id of the label set (ignored ids -> C), used by ``PointSegClassMapping``."""
        return np.asarray(get_label_set(self.label_set)['raw_to_train'], dtype=np.int64)

    def load_data_list(self):
        """The infos, refused when the file was converted for another label set than the config's."""
        data_list = super().load_data_list()
        converted_for = self._metainfo.get('label_set')  # the file's (mmengine keeps the info file's metainfo keys
        if converted_for not in (None, self.label_set):  # that the config's metainfo does not set)
            raise ValueError(f'{self.ann_file} was converted for the label set {converted_for!r}, but the dataset is '
                             f'configured with label_set={self.label_set!r}: set the dataset\'s label_set to '
                             f'{converted_for!r}, or convert again with --label-set {self.label_set}')
        self._metainfo['label_set'] = self.label_set
        return data_list

    def parse_data_info(self, info):
        info = super().parse_data_info(info)
        info['num_classes'] = len(self.metainfo['classes'])  # SetVotingRefiner's, for any label set
        for frame in info['frames']:
            for key in ('color_path', 'depth_path', 'label_path', 'instance_path'):
                if frame.get(key):
                    frame[key] = osp.join(self.data_root, frame[key])
        info['pseudo_label_root'] = self.data_prefix.get('pseudo_labels')
        if 'pts_instance_mask_path' in info and 'pts_instance_mask' not in self.data_prefix:
            info['pts_instance_mask_path'] = osp.join(self.data_root or '', 'instance_mask',
                                                      info['pts_instance_mask_path'])
        if 'pts_sets_path' in info:
            sets_root = self.data_prefix.get('pts_sets', osp.join(self.data_root or '', 'sets'))
            info['pts_sets_path'] = osp.join(sets_root, info['pts_sets_path'])
        return info
