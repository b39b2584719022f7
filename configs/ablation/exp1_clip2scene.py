# Paper EXP I (CLIP2Scene baseline, Eq. 1 only) on SynthRooms: the rows of the ablation build on this one.
_base_ = ['../clip2scene_synthrooms.py']
