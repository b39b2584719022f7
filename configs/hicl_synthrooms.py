# HICL on the embedded SynthRooms dataset: the full method (paper EXP V: set voting, intra- and inter-scene
# correlation, feedback KL), scaled to run in minutes on a CPU (_base_/hicl_cpu.py). The ablation rows
# configs/ablation/exp1..exp5 build it up one component at a time; exp5_feedback_kl.py is this composition
# with the necks' diagnostics on.
_base_ = ['./baseline_synthrooms.py', './_base_/hicl_cpu.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
model = {{_base_.hicl_model}}
