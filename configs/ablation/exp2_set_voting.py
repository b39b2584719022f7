# Paper EXP II: EXP I + intra-set label refinement (3.2.1): after pairing, the pixel pseudo-labels of each
# geometric consistency set are replaced by their mode, per view. Nothing else changes.
_base_ = ['./exp1_clip2scene.py']

train_pipeline = [
    dict(type='LoadPointsFromFile', coord_type='DEPTH', shift_height=False, use_color=True, load_dim=6,
         use_dim=[0, 1, 2, 3, 4, 5]),
    dict(type='LoadPointSets'),
    dict(type='LoadSceneFrames', num_frames=8),
    dict(type='PairPointsWithPixels', depth_tolerance=0.05),
    dict(type='SetVotingRefiner', num_classes=20),
    dict(type='NormalizePointsColor', color_mean=[127.5, 127.5, 127.5]),
    dict(type='GlobalRotScaleTrans', rot_range=[-3.14159, 3.14159], scale_ratio_range=[0.9, 1.1],
         translation_std=[0, 0, 0]),
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5, flip_ratio_bev_vertical=0.5),
    dict(type='PackLabelFreeInputs', keys=['points']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
