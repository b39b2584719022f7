# What HICL adds to a baseline config, scaled for 2 CPU cores (the demos; costs in docs/benchmarks.md): M = 256
# sampled points per scene instead of 1024, and the 3-layer correlation blocks run at 128 channels between linear
# maps from / to the 512-d CLIP space (paper: full width, _base_/hicl_paper.py). The necks get AdamW lr 2e-4 as
# in the paper; the 3D net keeps the baseline's optimizer. The ablation rows take the pieces one at a time:
#   model = {{_base_.intra_scene_model}} (EXP III), {{_base_.inter_scene_model}} (IV), {{_base_.hicl_model}} (V)
# and compose the optimizers as _base_/hicl_paper.py shows. The stage epochs belong to the baseline's schedule
# (its correlation_stages).
correlation_transformer = dict(in_dims=512, embed_dims=128, num_layers=3, num_heads=4, mlp_ratio=2.0)
intra_scene_model = dict(
    type='HICLSegmentor',
    num_samples=256,
    intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=correlation_transformer))
inter_scene_model = dict(
    intra_scene_model,
    inter_scene_neck=dict(type='InterSceneCorrelationNeck', gather_across_ranks=True,
                          transformer=correlation_transformer))
hicl_model = dict(inter_scene_model, feedback_loss=dict(type='FeedbackKL', temperature=1.0, direction='target_to_net'))
neck_optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4))
# The necks are unused before the correlation stage.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
