# Paper EXP V (full HICL): EXP IV + feedback distillation (3.3, Eq. 8): from the baseline's feedback stage on
# (epoch 11 of 30; see baseline_synthrooms.py) the 3D net's class distribution on the sampled points is pulled
# toward the inter-scene neck's (KL, the neck's side detached). hicl_synthrooms.py with the necks' diagnostics on.
_base_ = ['../baseline_synthrooms.py', '../_base_/hicl_cpu.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))  # EXP II's
model = {{_base_.hicl_model}}
default_hooks = {{_base_.neck_diagnostics}}
