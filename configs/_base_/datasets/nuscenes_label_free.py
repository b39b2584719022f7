# Label-free nuScenes lidarseg (tools/create_data.py nuscenes): keyframe sweeps paired with their 6 cameras.
# Training sees only pixel pseudo-labels paired with points (camera z > 1 m, inside the image: nuScenes has no
# depth maps); the lidarseg labels are read by evaluation alone. Input feature: intensity (CLIP2Scene).
dataset_type = 'LabelFreeNuScenesDataset'
data_root = 'data/nuscenes/'
version = 'v1.0-trainval'
pseudo_label_dir = 'pseudo_labels/maskclip'
min_depth = 1.0  # metres, camera z below which a point is not paired

# LoadPointsChecked / LoadAnnotations3DChecked: mmdet3d's loaders, refusing (naming the file and the fix) a points
# file that is not whole points, empty or holds NaN/Inf, and a mask without one value per point.
load_points = dict(type='LoadPointsChecked', coord_type='LIDAR', load_dim=5, use_dim=[0, 1, 2, 3])
normalize_intensity = dict(type='NormalizeIntensity', max_value=255.0)
augment = [
    dict(type='GlobalRotScaleTrans', rot_range=[-3.14159, 3.14159], scale_ratio_range=[0.95, 1.05],
         translation_std=[0.1, 0.1, 0.1]),
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5, flip_ratio_bev_vertical=0.5),
    dict(type='PackLabelFreeInputs', keys=['points']),
]
pair_with_cameras = [
    dict(type='LoadSceneFrames', num_frames=6, load_depth=False),  # all 6 cameras of the keyframe
    dict(type='PairPointsWithPixels', use_depth=False, min_depth=min_depth),
]
train_pipeline = [load_points] + pair_with_cameras + [normalize_intensity] + augment
# Paper EXP II onwards: intra-set label refinement (3.2.1) over the per-sweep sets of the converter.
refined_train_pipeline = [load_points, dict(type='LoadPointSets')] + pair_with_cameras + [
    dict(type='SetVotingRefiner'), normalize_intensity] + augment
# Optional multi-sweep input: insert this after the pairing (keyframe points stay first, pairs stay valid).
load_sweeps = dict(type='LoadLiDARSweeps', num_sweeps=9, load_dim=5, use_dim=[0, 1, 2, 3])
test_pipeline = [
    load_points,
    dict(type='LoadAnnotations3DChecked', with_bbox_3d=False, with_label_3d=False, with_mask_3d=False,
         with_seg_3d=True, seg_3d_dtype='np.uint8'),
    dict(type='PointSegClassMapping'),  # lidarseg general ids 0..31 -> 16 classes, 16 = ignored
    normalize_intensity,
    dict(type='Pack3DDetInputs', keys=['points']),
]
data_prefix = dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP', pts_semantic_mask='lidarseg/' + version,
                   pts_sets='sets', pseudo_labels=pseudo_label_dir)
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='hicl_nuscenes_infos_train.pkl',
                 data_prefix=data_prefix, pipeline=train_pipeline, test_mode=False))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='hicl_nuscenes_infos_val.pkl',
                 data_prefix=data_prefix, pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='PerClassSegMetric')
test_evaluator = val_evaluator

# How tools/make_pseudo_labels.py fills the cache (<cache_root>/<LiDAR file stem>/<CAMERA>.png): MaskCLIP on
# CLIP ViT-B/16 with the anchors of tools/make_text_embeddings.py --label-set nuscenes16.
pseudo_labels = dict(
    labeller=dict(type='MaskCLIPLabeller', anchors_file=data_root + 'text_anchors.npz', model='ViT-B-16',
                  pretrained='openai', input_size=(448, 256), prompt_denoising=False),
    cache_root=data_root + pseudo_label_dir,
    label_size=(400, 225))
