# Paper EXP III: EXP II + intra-scene correlation (3.2.2): M points per scene, sampled over the geometric
# consistency sets, pass a 3-layer transformer within their scene; its outputs are classified against the text
# anchors with the refined labels (Eq. 4). Staged as the paper (3.4), scaled to 30 epochs: L_ce alone for 5
# epochs, then L_ce + L^_ce averaged. The 3D net keeps its optimizer; the necks get AdamW lr 2e-4 (paper).
# Scaled for CPU (documented in README, costs in tools/benchmark.py): M = 256 instead of 1024 and the
# transformer blocks run at 128 channels between linear maps from / to the 512-d CLIP space.
_base_ = ['./exp2_set_voting.py']

correlation_transformer = dict(in_dims=512, embed_dims=128, num_layers=3, num_heads=4, mlp_ratio=2.0)
model = dict(type='HICLSegmentor', num_samples=256,
             intra_scene_neck=dict(type='IntraSceneCorrelationNeck', transformer=correlation_transformer))
optim_wrapper = dict(
    _delete_=True,
    constructor='CorrelationOptimWrapperConstructor',
    net=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4)),
    necks=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4)))
# One cosine schedule per optimizer, each decaying to 1% of its own learning rate.
param_scheduler = [dict(type='CosineAnnealingLR', T_max=30, eta_min_ratio=1e-2, by_epoch=True, begin=0, end=30)]
custom_hooks = [dict(type='CorrelationStageHook', correlation_epoch=5, feedback_epoch=10)]
# The necks are unused before the correlation stage.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
