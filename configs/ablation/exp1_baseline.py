# Paper EXP I on SynthRooms: the Eq. 1 baseline (the cross-modal CE alone; CLIP2Scene's own loss has more
# terms), baseline_synthrooms.py with the necks' diagnostics on (the probe after each validation: the compactness
# of the net's features per true class; the rows with necks also log their attention). Each later row adds one
# component to it.
_base_ = ['../baseline_synthrooms.py']

default_hooks = {{_base_.neck_diagnostics}}
