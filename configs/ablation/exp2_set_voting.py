# Paper EXP II: EXP I + intra-set label refinement (3.2.1): after pairing, the pixel pseudo-labels of each
# geometric consistency set are replaced by their mode, per view. Nothing else changes.
_base_ = ['../baseline_synthrooms.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
default_hooks = {{_base_.neck_diagnostics}}
