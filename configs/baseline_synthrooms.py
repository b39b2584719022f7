# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss) on the embedded
# SynthRooms demo, scaled to run in minutes on 2 CPU cores. Same model and loss as baseline_scannet.py; what
# differs: 10 cm voxels instead of 5 cm (3x faster iterations on CPU); the CPU schedule
# (_base_/schedules/adamw_cosine_cpu.py: AdamW, 30 epochs) with batch 2 of the 24 train scenes; validation every
# 2 epochs for the mIoU-per-epoch curves of tools/ablate.py (paper Fig. 6). The ablation rows (configs/ablation)
# and hicl_synthrooms.py build on this config.
_base_ = ['./_base_/datasets/synthrooms.py', './_base_/models/minkunet14a_clip.py',
          './_base_/schedules/adamw_cosine_cpu.py', './_base_/default_runtime.py']

voxel_size = 0.1
model = dict(data_preprocessor=dict(voxel_layer=dict(voxel_size=[voxel_size] * 3)),
             decode_head=dict(anchors_file='data/synthrooms/text_anchors.npz'))
train_dataloader = dict(batch_size=2)
train_cfg = dict(val_interval=2)
# The HICL rows' stages (paper 3.4): L^_ce from epoch 6, L_kl from epoch 11 (0-based 5 and 10), i.e. after a
# sixth and a third of the 30 epochs. The paper starts them after a twelfth and a sixth (epochs 11 and 21 of 120;
# in proportion about epochs 3 and 5 of 30); at 60 epochs (train_cfg.max_epochs=60) these are its proportions.
default_hooks = dict(logger=dict(interval=6), correlation_stages=dict(correlation_epoch=5, feedback_epoch=10))
