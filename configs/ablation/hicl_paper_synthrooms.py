# The paper-faithful reference of HICL on SynthRooms (docs/correlation_study.md): the correlation necks exactly as in
# _base_/hicl_paper.py (3-layer ViT blocks at the full 512-d width, 8 heads, MLP ratio 4, PyTorch's default
# initialisation, so the necks do NOT start as the identity; M = 1024 points per scene drawn with the paper's
# M_k = M * N_k / N; AdamW 2e-4 on the cosine schedule), on the CPU demo's 30 epochs (360 iterations of batch 2)
# with the stages scaled in proportion to the run: the paper's 10 and 20 of 120 epochs become 3 and 5 of 30
# (0-based; 2.5 rounded up), so the necks train for 324 iterations.
_base_ = ['../baseline_synthrooms.py', '../_base_/hicl_paper.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))  # EXP II's
model = {{_base_.hicl_model}}
default_hooks = dict(_base_.neck_diagnostics, correlation_stages=dict(correlation_epoch=3, feedback_epoch=5))
