"""Packing of label-free samples for the model."""
import torch
from mmdet3d.datasets.transforms import Pack3DDetInputs
from mmdet3d.registry import TRANSFORMS
from mmengine.structures import BaseDataElement

PAIR_KEYS = ('pair_point_idx', 'pair_view_idx', 'pair_label')


@TRANSFORMS.register_module()
class PackLabelFreeInputs(Pack3DDetInputs):
    """Pack3DDetInputs plus the point-pixel pairs.

    Writes ``data_samples.pseudo_pairs`` with ``point_idx``, ``view_idx``, ``label`` (P,) int64 tensors when
    the pairs are present (training), ``data_samples.point_sets`` (N,) int64 when the geometric consistency
    sets are loaded (LoadPointSets); everything else as Pack3DDetInputs.
    """

    def pack_single_results(self, results):
        packed = super().pack_single_results(results)
        if all(key in results for key in PAIR_KEYS):
            packed['data_samples'].pseudo_pairs = BaseDataElement(**{
                key[len('pair_'):]: torch.as_tensor(results[key], dtype=torch.long) for key in PAIR_KEYS})
        if 'point_sets' in results:
            packed['data_samples'].point_sets = torch.as_tensor(results['point_sets'], dtype=torch.long)
        return packed
