"""ScanNet-layout scenes for label-free training (SynthRooms and real ScanNet v2 alike)."""
import os.path as osp

from mmdet3d.datasets import Seg3DDataset
from mmdet3d.registry import DATASETS

from ..label_sets import SCANNET20_CLASSES, SCANNET20_NYU40_IDS, SCANNET20_PALETTE
from .info_files import SafeInfoFileMixin


@DATASETS.register_module()
class LabelFreeScanNetDataset(SafeInfoFileMixin, Seg3DDataset):
    """Scenes written by ``tools/create_data.py scannet``: points, raw NYU40 masks (evaluation only) and frames.

    Each data info carries ``frames`` (frame_id, 4x4 camera-to-world ``pose``, ``depth_path``, ...) with paths
    made absolute here, ``camera`` (intrinsics and image sizes) and ``pseudo_label_root``, the cache folder of
    per-frame pixel pseudo-labels (``data_prefix['pseudo_labels']``). The 3D ground truth is only read by the
    evaluation pipeline; training pipelines never load it. The info file is unpickled with an allow-list
    (:mod:`hicl.safe_pickle`): a file that names anything but plain data is refused.
    """
    METAINFO = dict(classes=SCANNET20_CLASSES, palette=SCANNET20_PALETTE, seg_valid_class_ids=SCANNET20_NYU40_IDS,
                    seg_all_class_ids=tuple(range(1, 41)))

    def __init__(self, data_root, ann_file, metainfo=None,
                 data_prefix=dict(pts='points', pts_semantic_mask='semantic_mask', pseudo_labels='pseudo_labels'),
                 **kwargs):
        info_path = ann_file if osp.isabs(ann_file) or not data_root else osp.join(data_root, ann_file)
        if not osp.isfile(info_path):
            raise FileNotFoundError(
                f'info file {info_path} not found: convert the dataset first, e.g. '
                f'python tools/create_data.py scannet --root RAW --out {data_root}')
        metainfo = dict(dict(classes=self.METAINFO['classes']), **(metainfo or {}))
        super().__init__(data_root=data_root, ann_file=ann_file, metainfo=metainfo,
                         data_prefix=data_prefix, **kwargs)

    def parse_data_info(self, info):
        info = super().parse_data_info(info)
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
