# Paper EXP I on SynthRooms: the Eq. 1 baseline (the cross-modal CE alone; CLIP2Scene's own loss has more
# terms), exactly baseline_synthrooms.py. Each later row adds one component to it.
_base_ = ['../baseline_synthrooms.py']
