# The HICL models, scaled for 2 CPU cores (the demos; costs in docs/benchmarks.md): M = 256 sampled points per
# scene instead of 1024, and the 3-layer correlation blocks run at 128 channels between linear maps from / to the
# 512-d CLIP space (paper: full width, _base_/hicl_paper.py). A HICL config is its dataset's baseline, this file,
# the set-voted train pipeline and one of the models; the ablation rows take the pieces one at a time:
#   model = {{_base_.intra_scene_model}} (EXP III), {{_base_.inter_scene_model}} (IV), {{_base_.hicl_model}} (V)
# The necks' optimizer (AdamW lr 2e-4) is in the schedule (_base_/schedules/), the stage epochs in the baseline's
# default_hooks.correlation_stages.
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
# The necks are unused before the correlation stage.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
