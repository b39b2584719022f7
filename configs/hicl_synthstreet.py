# HICL (paper EXP V: set voting over per-sweep sets, intra- and inter-scene correlation, feedback KL) on the
# embedded SynthStreet outdoor set, scaled for 2 CPU cores like hicl_synthrooms.py (_base_/hicl_cpu.py); stages
# at the baseline's default_hooks.correlation_stages (0-based epochs 4 / 8 of 20).
_base_ = ['./baseline_synthstreet.py', './_base_/hicl_cpu.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
model = {{_base_.hicl_model}}
