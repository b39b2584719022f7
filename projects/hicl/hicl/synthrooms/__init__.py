"""SynthRooms: procedurally generated indoor RGB-D scans written in ScanNet's own raw layout.

Rooms (bedroom, kitchen, bathroom, living room, office) are built from oriented boxes labelled with the NYU40 ids
of the ScanNet 20 classes, meshed densely (vertices ~5 cm apart) and ray-cast from posed cameras into colour,
depth, label-filt and instance-filt images, so the ScanNet converter handles them unchanged.

    from hicl.synthrooms import generate_synthrooms
    generate_synthrooms('data/synthrooms/raw', num_train=16, num_val=4)

Command line: ``python -m hicl.synthrooms OUT_ROOT [--num-train 16 --num-val 4 --workers 2 ...]``.
"""
from .generate import generate_synthrooms, scene_name
from .scene import SynthScene, generate_scene

__all__ = ['generate_synthrooms', 'generate_scene', 'scene_name', 'SynthScene']
