# Paper EXP III: EXP II + intra-scene correlation (3.2.2): M points per scene, sampled over the geometric
# consistency sets, pass a 3-layer transformer within their scene; its outputs are classified against the text
# anchors with the refined labels (Eq. 4). Staged as the paper (3.4), scaled to the schedule (the baseline's
# default_hooks.correlation_stages): L_ce alone, then L_ce + L^_ce averaged. The 3D net keeps its optimizer; the necks get their
# own (AdamW lr 2e-4, paper). CPU-scaled necks: _base_/hicl_cpu.py.
_base_ = ['../baseline_synthrooms.py', '../_base_/hicl_cpu.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))  # EXP II's
model = {{_base_.intra_scene_model}}
default_hooks = {{_base_.neck_diagnostics}}
