# HICL on ScanNet v2 with the paper's settings: MinkUNet14A, 5 cm voxels, 8 frames per scene, batch 8,
# 120 epochs; intra-set refinement, intra- and inter-scene correlation (M = 1024 points per scene, 3-layer
# ViT blocks in the 512-d CLIP space), feedback KL; SGD lr 0.2 for the 3D net, AdamW lr 2e-4 for the necks,
# cosine decay; stages: epochs 1-10 L_ce, from 11 + L^_ce, from 21 + L_kl (paper 3.4).
_base_ = ['./clip2scene_scannet.py']

correlation_transformer = dict(in_dims=512, num_layers=3, num_heads=8, mlp_ratio=4.0)
model = dict(
    type='HICLSegmentor',
    num_samples=1024,
    intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=correlation_transformer),
    inter_scene_neck=dict(type='InterSceneCorrelationNeck', gather_across_ranks=True,
                          transformer=correlation_transformer),
    feedback_loss=dict(type='FeedbackKL', temperature=1.0, direction='target_to_net'))
train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
optim_wrapper = dict(
    _delete_=True,
    constructor='CorrelationOptimWrapperConstructor',
    net=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4)),
    necks=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4)))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=120, eta_min_ratio=1e-3, by_epoch=True, begin=0, end=120)]
custom_hooks = [dict(type='CorrelationStageHook', correlation_epoch=10, feedback_epoch=20)]
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
