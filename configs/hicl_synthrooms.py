# HICL on the embedded SynthRooms dataset: the full method (paper EXP V), scaled to run in minutes on a CPU.
# The ablation rows configs/ablation/exp1..exp5 build it up step by step; this is the last of them.
_base_ = ['./ablation/exp5_feedback_kl.py']
