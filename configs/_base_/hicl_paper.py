# What HICL adds to a baseline config, with the paper's settings: intra- and inter-scene correlation necks
# (M = 1024 sampled points per scene, 3-layer ViT blocks in the 512-d CLIP space), feedback KL, AdamW lr 2e-4 for
# the necks (the 3D net keeps the baseline's optimizer); the stages (3.4) belong to the baseline's schedule (its
# correlation_stages). A config composes them as
#   model = {{_base_.hicl_model}}
#   optim_wrapper = dict(_delete_=True, constructor='CorrelationOptimWrapperConstructor',
#                        net={{_base_.optim_wrapper}}, necks={{_base_.neck_optim_wrapper}})
#   custom_hooks = {{_base_.correlation_stages}}
# and reads the pipeline with sets: train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}})).
correlation_transformer = dict(in_dims=512, num_layers=3, num_heads=8, mlp_ratio=4.0)
hicl_model = dict(
    type='HICLSegmentor',
    num_samples=1024,
    intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=correlation_transformer),
    inter_scene_neck=dict(type='InterSceneCorrelationNeck', gather_across_ranks=True,
                          transformer=correlation_transformer),
    feedback_loss=dict(type='FeedbackKL', temperature=1.0, direction='target_to_net'))
neck_optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4))
# The necks are unused before the correlation stage.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
