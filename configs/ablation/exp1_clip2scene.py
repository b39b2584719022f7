# Paper EXP I (CLIP2Scene baseline, Eq. 1 only) on SynthRooms: the rows of the ablation build on this one.
_base_ = ['../clip2scene_synthrooms.py']

# Validation every 2 epochs gives the mIoU-per-epoch curves of tools/ablate.py (paper Fig. 6).
train_cfg = dict(val_interval=2)
