# The CLIP2Scene 3D net: mmdet3d's MinkUNet on spconv (MinkUNetSpconvBackbone: mmdet3d's MinkUNetBackbone with a
# padded grid and copied channel lists) configured as MinkUNet14A, 5 cm voxels,
# colour as the input feature, and the pseudo-label head (features -> CLIP space, logits against fixed text
# anchors, Eq. 1).
model = dict(
    type='LabelFreeSegmentor',
    # r g b of the voxel's representative point (CLIP2Scene); xyz only locate the voxels. On SynthRooms v1 (8 epochs,
    # 2026-11-22) colour alone gave 16.1% val mIoU against 13.1% for x y z r g b and 11.6% for z r g b.
    feature_dims=[3, 4, 5],
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        voxel=True,
        voxel_type='minkunet',
        batch_first=True,  # spconv takes (batch, x, y, z) coordinates
        max_voxels=None,  # keep every voxel: pairs index points through point2voxel_map
        voxel_layer=dict(max_num_points=-1, point_cloud_range=[-100, -100, -20, 100, 100, 20],
                         voxel_size=[0.05, 0.05, 0.05], max_voxels=(-1, -1))),
    backbone=dict(
        type='MinkUNetSpconvBackbone',
        in_channels=3,
        base_channels=32,
        num_stages=4,
        encoder_channels=[32, 64, 128, 256],
        encoder_blocks=[1, 1, 1, 1],
        decoder_channels=[128, 128, 96, 96],
        decoder_blocks=[1, 1, 1, 1],
        block_type='basic'),
    decode_head=dict(
        type='PseudoLabelHead',
        channels=96,
        num_classes=20,
        embed_dim=512,
        anchors_file='data/synthrooms/text_anchors.npz',
        ignore_index=255,
        loss_decode=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False)),  # unused: Eq. 1 is in the head
    train_cfg=dict(),
    test_cfg=dict())
