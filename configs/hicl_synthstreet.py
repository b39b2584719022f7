# HICL (paper EXP V: set voting over per-sweep sets, intra- and inter-scene correlation, feedback KL) on the
# embedded SynthStreet outdoor set, scaled for 2 CPU cores like hicl_synthrooms.py: M = 256 sampled points per
# sweep, correlation blocks at 128 channels between linear maps from / to the 512-d CLIP space, AdamW for the
# 3D net (lr 2e-3) and the necks (lr 2e-4, paper), stages at epochs 4 / 8 of 20.
_base_ = ['./baseline_synthstreet.py']

correlation_transformer = dict(in_dims=512, embed_dims=128, num_layers=3, num_heads=4, mlp_ratio=2.0)
model = dict(
    type='HICLSegmentor',
    num_samples=256,
    intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=correlation_transformer),
    inter_scene_neck=dict(type='InterSceneCorrelationNeck', gather_across_ranks=True,
                          transformer=correlation_transformer),
    feedback_loss=dict(type='FeedbackKL', temperature=1.0, direction='target_to_net'))
train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
optim_wrapper = dict(
    _delete_=True,
    constructor='CorrelationOptimWrapperConstructor',
    net=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4)),
    necks=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4)))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=20, eta_min_ratio=1e-2, by_epoch=True, begin=0, end=20)]
custom_hooks = [dict(type='CorrelationStageHook', correlation_epoch=4, feedback_epoch=8)]
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
