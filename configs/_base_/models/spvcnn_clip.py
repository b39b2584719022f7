# The outdoor 3D net (HICL on nuScenes: SPVCNN): the CLIP2Scene MinkUNet config with SPVCNN's point branch
# (SPVCNNSpconvBackbone on spconv; with torchsparse installed, type='SPVCNNTorchsparseBackbone' runs mmdet3d's own
# SPVCNN with the same arguments), mmdet3d's SPVCNN widths and blocks, 10 cm voxels, intensity as the input feature,
# 16 classes. Back to MinkUNet: backbone type 'MinkUNetSpconvBackbone' (same other arguments).
_base_ = ['./minkunet14a_clip.py']

model = dict(
    feature_dims=[3],  # intensity (normalised to 0..1); x y z only locate the voxels
    data_preprocessor=dict(voxel_layer=dict(voxel_size=[0.1, 0.1, 0.1])),
    backbone=dict(
        type='SPVCNNSpconvBackbone',
        in_channels=1,
        encoder_blocks=[2, 2, 2, 2],
        decoder_channels=[256, 128, 96, 96],
        decoder_blocks=[2, 2, 2, 2],
        drop_ratio=0.3),
    decode_head=dict(num_classes=16, anchors_file='data/nuscenes/text_anchors.npz'))
