# What HICL adds to a CLIP2Scene config, with the paper's settings: intra- and inter-scene correlation necks
# (M = 1024 sampled points per scene, 3-layer ViT blocks in the 512-d CLIP space), feedback KL, SGD lr 0.2 for
# the 3D net and AdamW lr 2e-4 for the necks. A config takes them as
#   model = {{_base_.hicl_model}}; optim_wrapper = {{_base_.hicl_optim_wrapper}}
# and sets its own pipeline (with sets), cosine schedule and CorrelationStageHook epochs.
correlation_transformer = dict(in_dims=512, num_layers=3, num_heads=8, mlp_ratio=4.0)
hicl_model = dict(
    type='HICLSegmentor',
    num_samples=1024,
    intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=correlation_transformer),
    inter_scene_neck=dict(type='InterSceneCorrelationNeck', gather_across_ranks=True,
                          transformer=correlation_transformer),
    feedback_loss=dict(type='FeedbackKL', temperature=1.0, direction='target_to_net'))
hicl_optim_wrapper = dict(
    _delete_=True,
    constructor='CorrelationOptimWrapperConstructor',
    net=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4)),
    necks=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4)))
# The necks are unused before the correlation stage.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
