# Label-free ScanNet-layout data (real ScanNet v2 after tools/create_data.py scannet).
# Training sees only pixel pseudo-labels paired with points; the 3D labels are read by evaluation alone.
dataset_type = 'LabelFreeScanNetDataset'
data_root = 'data/scannet/'
pseudo_label_dir = 'pseudo_labels/maskclip'
num_frames = 8  # frames sampled per scene per iteration (CLIP2Scene)
depth_tolerance = 0.05  # metres, |depth - z| for a point to count as seen by a pixel

# LoadPointsChecked / LoadAnnotations3DChecked: mmdet3d's loaders, refusing (naming the file and the fix) a points
# file that is not whole points, empty or holds NaN/Inf, and a mask without one value per point.
load_points = dict(type='LoadPointsChecked', coord_type='DEPTH', shift_height=False, use_color=True, load_dim=6,
                   use_dim=[0, 1, 2, 3, 4, 5])
normalize_color = dict(type='NormalizePointsColor', color_mean=[127.5, 127.5, 127.5])  # (rgb - 127.5) / 255
pair_with_frames = [
    dict(type='LoadSceneFrames', num_frames=num_frames),
    dict(type='PairPointsWithPixels', depth_tolerance=depth_tolerance),  # before anything moves points
]
augment = [
    dict(type='GlobalRotScaleTrans', rot_range=[-3.14159, 3.14159], scale_ratio_range=[0.9, 1.1],
         translation_std=[0, 0, 0]),
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5, flip_ratio_bev_vertical=0.5),
    dict(type='PackLabelFreeInputs', keys=['points']),
]
train_pipeline = [load_points] + pair_with_frames + [normalize_color] + augment
# Paper EXP II onwards: intra-set label refinement (3.2.1) after pairing; the sets also feed the correlation
# sampling of the HICL segmentor.
refined_train_pipeline = [load_points, dict(type='LoadPointSets')] + pair_with_frames + [
    dict(type='SetVotingRefiner'), normalize_color] + augment
test_pipeline = [
    load_points,
    dict(type='LoadAnnotations3DChecked', with_bbox_3d=False, with_label_3d=False, with_mask_3d=False,
         with_seg_3d=True, seg_3d_dtype='np.int64'),
    dict(type='PointSegClassMapping'),
    normalize_color,
    dict(type='Pack3DDetInputs', keys=['points']),
]
data_prefix = dict(pts='points', pts_semantic_mask='semantic_mask', pseudo_labels=pseudo_label_dir)
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='hicl_infos_train.pkl', data_prefix=data_prefix,
                 pipeline=train_pipeline, test_mode=False))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='hicl_infos_val.pkl', data_prefix=data_prefix,
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='PerClassSegMetric')
test_evaluator = val_evaluator

# How tools/make_pseudo_labels.py fills the cache that LoadSceneFrames reads (the labeller is chosen here):
# MaskCLIP on CLIP ViT-B/16 with the anchors of tools/make_text_embeddings.py (pretrained: 'openai' or a local
# checkpoint file).
pseudo_labels = dict(
    labeller=dict(type='MaskCLIPLabeller', anchors_file=data_root + 'text_anchors.npz', model='ViT-B-16',
                  pretrained='openai', input_size=(448, 336)),
    cache_root=data_root + pseudo_label_dir,
    label_size=(320, 240),
    # real ScanNet's label-filt images hold ScanNet category ids: the converter copies ScanNet's table here
    label_map_file=data_root + 'scannetv2-labels.combined.tsv')
