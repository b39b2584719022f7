# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss) on the embedded
# SynthStreet outdoor set, scaled to run in minutes on 2 CPU cores. Same model family and loss as
# baseline_nuscenes.py; what differs:
# - SPVCNN at half width with one block per stage (2.0 M instead of 21.8 M parameters; 0.6 s instead of 2.8 s
#   per training step on one sweep of the demo data, on 2 CPU cores);
# - SynthStreet sweeps have half of nuScenes' azimuth steps (about 15k points instead of 31k);
# - the CPU schedule (_base_/schedules/adamw_cosine_cpu.py: AdamW instead of SGD lr 0.2), 20 epochs of the 64
#   train sweeps at batch 4.
_base_ = ['./_base_/datasets/synthstreet.py', './_base_/models/spvcnn_clip.py',
          './_base_/schedules/adamw_cosine_cpu.py', './_base_/default_runtime.py']

model = dict(backbone=dict(base_channels=16, encoder_channels=[16, 32, 64, 128], encoder_blocks=[1, 1, 1, 1],
                           decoder_channels=[64, 64, 48, 48], decoder_blocks=[1, 1, 1, 1]),
             decode_head=dict(channels=48, anchors_file='data/synthstreet/text_anchors.npz'))
train_cfg = dict(max_epochs=20, val_interval=5)
# HICL's stages (paper 3.4) scaled to 20 epochs: L^_ce from epoch 5, L_kl from epoch 9 (0-based 4 and 8).
default_hooks = dict(logger=dict(interval=8), correlation_stages=dict(correlation_epoch=4, feedback_epoch=8))
