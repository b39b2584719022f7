# HICL on nuScenes lidarseg with the paper's settings (23.0% val mIoU reported): SPVCNN, 10 cm voxels,
# intensity input, 6 cameras, batch 8, 30 epochs; intra-set refinement over per-sweep sets, correlation necks
# and feedback KL as in _base_/hicl_paper.py; cosine decay. Stages scaled from ScanNet's 10 / 20 of 120
# epochs to 3 / 5 of 30 (the paper gives no nuScenes stage epochs).
_base_ = ['./clip2scene_nuscenes.py', './_base_/hicl_paper.py']

model = {{_base_.hicl_model}}
optim_wrapper = {{_base_.hicl_optim_wrapper}}
train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=30, eta_min_ratio=1e-3, by_epoch=True, begin=0, end=30)]
custom_hooks = [dict(type='CorrelationStageHook', correlation_epoch=3, feedback_epoch=5)]
