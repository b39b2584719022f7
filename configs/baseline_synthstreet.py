# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss)
# on the embedded SynthStreet outdoor set, scaled to run in
# minutes on 2 CPU cores. Same model family and loss as baseline_nuscenes.py; what differs:
# - SPVCNN at half width with one block per stage (2.0 M instead of 21.8 M parameters; 0.6 s instead of 2.8 s
#   per training step on one sweep of the demo data);
# - SynthStreet sweeps have half of nuScenes' azimuth steps (about 15k points instead of 31k);
# - AdamW lr 2e-3 instead of SGD lr 0.2, for a schedule of a few hundred iterations (as on SynthRooms);
# - 64 train sweeps at batch 4.
_base_ = ['./_base_/datasets/synthstreet.py', './_base_/models/spvcnn_clip.py',
          './_base_/schedules/sgd_cosine.py', './_base_/default_runtime.py']

max_epochs = 20
lr = 2e-3
model = dict(backbone=dict(base_channels=16, encoder_channels=[16, 32, 64, 128], encoder_blocks=[1, 1, 1, 1],
                           decoder_channels=[64, 64, 48, 48], decoder_blocks=[1, 1, 1, 1]),
             decode_head=dict(channels=48, anchors_file='data/synthstreet/text_anchors.npz'))
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=lr, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=lr * 1e-2, by_epoch=True, begin=0,
                        end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(logger=dict(interval=8))
