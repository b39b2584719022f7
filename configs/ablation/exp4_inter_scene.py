# Paper EXP IV: EXP III + inter-scene correlation (3.2.3, Eq. 7): the 3D net's features of the sampled points of
# ALL scenes of the batch (and, distributed, of all ranks) pass a second 3-layer transformer as one sequence, so
# attention spans scenes; same Eq. 4 loss on its outputs. model.inter_scene_input='intra' feeds it the intra-scene
# neck's outputs instead (a chained variant, not the paper's).
_base_ = ['../baseline_synthrooms.py', '../_base_/hicl_cpu.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))  # EXP II's
model = {{_base_.inter_scene_model}}
default_hooks = {{_base_.neck_diagnostics}}
