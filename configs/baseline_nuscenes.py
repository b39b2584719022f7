# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss) on nuScenes lidarseg
# with the paper's settings: SPVCNN, 10 cm voxels, intensity input, the 6 cameras of each keyframe, batch 8,
# SGD lr 0.2, 30 epochs, cosine decay.
_base_ = ['./_base_/datasets/nuscenes_label_free.py', './_base_/models/spvcnn_clip.py',
          './_base_/schedules/sgd_cosine.py', './_base_/default_runtime.py']

train_cfg = dict(max_epochs=30, val_interval=5)
# The HICL stages (paper 3.4): L^_ce from epoch 11, L_kl from epoch 21 (0-based 10 and 20).
correlation_stages = [dict(type='CorrelationStageHook', correlation_epoch=10, feedback_epoch=20)]
