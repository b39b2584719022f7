"""SynthStreet: procedurally generated outdoor street scenes written as nuScenes v1.0-mini with lidarseg.

A stand-in for real nuScenes-lidarseg: the official ``nuscenes-devkit`` loads it (``NuScenes('v1.0-mini',
root)``) with the 10 scenes of the mini split, so the nuScenes converter and training pipeline run unchanged.
Streets are built from oriented boxes labelled with nuScenes-lidarseg general classes (all 16 benchmark classes
occur); a 32-beam rotating LiDAR (HDL-32E-like) and the six nuScenes cameras are simulated along the ego
vehicle's drive with nuScenes' calibration chain (per-sensor timestamps and ego poses). Besides the nuScenes
files it writes 2D ground truth for the simulated labeller: ``synth_2d/labels/<CAMERA>/<image stem>.png``
(nuScenes-16 train ids, 255 = sky) and ``synth_2d/instances/<CAMERA>/<image stem>.png`` (uint16 object ids).

    from hicl.synthstreet import generate_synthstreet
    generate_synthstreet('data/synthstreet', samples_per_scene=8, workers=2)

Command line: ``python -m hicl.synthstreet ROOT [--samples 8 --sweeps 0 --workers 2 ...]``.
"""
from .generate import MINI_SCENE_NAMES, generate_synthstreet

__all__ = ['generate_synthstreet', 'MINI_SCENE_NAMES']
