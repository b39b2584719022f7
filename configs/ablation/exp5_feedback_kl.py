# Paper EXP V (full HICL): EXP IV + feedback distillation (3.3, Eq. 8): from epoch 11 of 30 (scaled from the
# paper's 21 of 120) the 3D net's class distribution on the sampled points is pulled toward the necks' (KL, the
# necks' side detached).
_base_ = ['./exp4_inter_scene.py']

model = dict(feedback_loss=dict(type='FeedbackKL', temperature=1.0, direction='target_to_net'))
