# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss) on nuScenes lidarseg
# with the paper's settings: SPVCNN, 10 cm voxels, intensity input, the 6 cameras of each keyframe, batch 8,
# SGD lr 0.2, 30 epochs, cosine decay.
_base_ = ['./_base_/datasets/nuscenes_label_free.py', './_base_/models/spvcnn_clip.py',
          './_base_/schedules/sgd_cosine.py', './_base_/default_runtime.py']

train_cfg = dict(max_epochs=30, val_interval=5)
# The HICL stages are the paper's (3.4; default_hooks.correlation_stages of _base_/default_runtime.py): L^_ce from
# epoch 11, L_kl from epoch 21.
