# Paper EXP I on SynthRooms: the Eq. 1 baseline (the cross-modal CE alone; CLIP2Scene's own loss has more
# terms). The rows of the ablation build on this one.
_base_ = ['../baseline_synthrooms.py']

# Validation every 2 epochs gives the mIoU-per-epoch curves of tools/ablate.py (paper Fig. 6).
train_cfg = dict(val_interval=2)
