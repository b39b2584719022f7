"""LabelFreeSegmentor: the backbone sees the configured voxel feature columns; prediction covers every point."""
import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample, PointData
from mmengine.registry import init_default_scope

from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors


def build(anchors_file, feature_dims, in_channels):
    init_default_scope('mmdet3d')
    return MODELS.build(dict(
        type='LabelFreeSegmentor', feature_dims=feature_dims,
        data_preprocessor=dict(type='Det3DDataPreprocessor', voxel=True, voxel_type='minkunet', batch_first=True,
                               max_voxels=None,
                               voxel_layer=dict(max_num_points=-1, point_cloud_range=[-100, -100, -20, 100, 100, 20],
                                                voxel_size=[0.05, 0.05, 0.05], max_voxels=(-1, -1))),
        backbone=dict(type='MinkUNetSpconvBackbone', in_channels=in_channels, base_channels=8, num_stages=2,
                      encoder_channels=[8, 16], encoder_blocks=[1, 1], decoder_channels=[16, 8], decoder_blocks=[1, 1]),
        decode_head=dict(type='PseudoLabelHead', channels=8, num_classes=4, embed_dim=16, anchors_file=anchors_file)))


def batch(num_points=300):
    rng = np.random.default_rng(0)
    points = torch.as_tensor(np.c_[rng.uniform(0, 1, (num_points, 3)), rng.uniform(-0.5, 0.5, (num_points, 3))],
                             dtype=torch.float32)
    return dict(inputs=dict(points=[points]), data_samples=[Det3DDataSample(gt_pts_seg=PointData())])


def test_colour_only_features_and_a_label_for_every_point(tmp_path):
    anchors_file = str(tmp_path / 'a.npz')
    save_text_anchors(anchors_file, random_orthonormal_anchors(4, 16), list('abcd'), {})
    model = build(anchors_file, feature_dims=[3, 4, 5], in_channels=3).eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    pred = results[0].pred_pts_seg.pts_semantic_mask
    assert pred.shape == (300,) and int(pred.max()) < 4  # one label per original point, not per voxel
    # all six columns do not fit a 3-channel backbone
    with pytest.raises(AssertionError, match="channel size mismatch"):
        build(anchors_file, feature_dims=None, in_channels=3).eval()(**data, mode='predict')
