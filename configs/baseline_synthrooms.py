# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss)
# on the embedded SynthRooms demo, scaled to run in minutes on
# 2 CPU cores. Same model and loss as baseline_scannet.py; what differs, and why:
# - 10 cm voxels instead of 5 cm (3x faster iterations on CPU);
# - AdamW (lr 2e-3) instead of SGD lr 0.2: for a schedule of a few hundred iterations it learns faster
#   (8 epochs on SynthRooms with xyz+rgb input: 13.1% val mIoU with AdamW, 9.3% with SGD lr 0.2, 8.3% with
#   SGD lr 0.05);
# - 30 epochs of 24 scenes at batch 2.
_base_ = ['./_base_/datasets/synthrooms.py', './_base_/models/minkunet14a_clip.py',
          './_base_/schedules/sgd_cosine.py', './_base_/default_runtime.py']

max_epochs = 30
lr = 2e-3
voxel_size = 0.1
model = dict(data_preprocessor=dict(voxel_layer=dict(voxel_size=[voxel_size] * 3)),
             decode_head=dict(anchors_file='data/synthrooms/text_anchors.npz'))
train_dataloader = dict(batch_size=2)
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=lr, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=lr * 1e-2, by_epoch=True, begin=0,
                        end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
default_hooks = dict(logger=dict(interval=6))
