# Paper EXP II on SynthStreet: the Eq. 1 baseline (baseline_synthstreet.py) + intra-set label refinement over the
# per-sweep geometric consistency sets, with the necks' diagnostics on. Paired with hicl_synthstreet.py (EXP V)
# for the outdoor ablation pair.
_base_ = ['../baseline_synthstreet.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
default_hooks = {{_base_.neck_diagnostics}}
