# CLIP2Scene baseline (paper EXP I: Eq. 1 only) on the embedded SynthRooms demo, scaled to run in minutes on
# 2 CPU cores: same model and losses as clip2scene_scannet.py, fewer epochs.
_base_ = ['./_base_/datasets/synthrooms.py', './_base_/models/minkunet14a_clip.py',
          './_base_/schedules/sgd_cosine.py', './_base_/default_runtime.py']

max_epochs = 20
lr = 0.2
model = dict(decode_head=dict(anchors_file='data/synthrooms/text_anchors.npz'))
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=lr * 1e-3, by_epoch=True, begin=0,
                        end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(logger=dict(interval=5))
