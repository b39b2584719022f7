# HICL on ScanNet v2 with the paper's settings: MinkUNet14A, 5 cm voxels, 8 frames per scene, batch 8,
# 120 epochs; intra-set refinement, intra- and inter-scene correlation and feedback KL as in
# _base_/hicl_paper.py; cosine decay; stages: epochs 1-10 L_ce, from 11 + L^_ce, from 21 + L_kl (paper 3.4).
_base_ = ['./baseline_scannet.py', './_base_/hicl_paper.py']

model = {{_base_.hicl_model}}
optim_wrapper = {{_base_.hicl_optim_wrapper}}
train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=120, eta_min_ratio=1e-3, by_epoch=True, begin=0, end=120)]
custom_hooks = [dict(type='CorrelationStageHook', correlation_epoch=10, feedback_epoch=20)]
