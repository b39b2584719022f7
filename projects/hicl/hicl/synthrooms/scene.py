"""One complete in-memory SynthRooms scene: layout, mesh and posed RGB-D frames, deterministic from a seed."""
from dataclasses import dataclass

import numpy as np

from ..synthetic.boxes import Boxes
from ..synthetic.shading import sample_light_direction
from .cameras import color_intrinsic, depth_intrinsic, sample_poses
from .frames import Frame, render_frame
from .layout import generate_layout
from .mesh import Mesh, build_mesh

DEFAULT_VERTEX_SPACING = 0.03  # metres (see mesh.py)


@dataclass
class SynthScene:
    """name (e.g. 'scene0000_00'); room_type; room_size (3,) interior L, W, H metres; boxes the primitives; mesh;
    intrinsic_color / intrinsic_depth (4, 4); frames in index order."""
    name: str
    room_type: str
    room_size: np.ndarray
    boxes: Boxes
    mesh: Mesh
    intrinsic_color: np.ndarray
    intrinsic_depth: np.ndarray
    frames: list[Frame]


def generate_scene(name, rng_seed, room_type=None, frames_per_scene=16, color_size=(640, 480),
                   depth_size=(320, 240), vertex_spacing=DEFAULT_VERTEX_SPACING):
    """Generate scene ``name`` from ``rng_seed`` (int or sequence of ints, as for np.random.SeedSequence).

    room_type: one of layout.ROOM_TYPES, or None to draw it from the seed. color_size / depth_size: (W, H) pixels.
    vertex_spacing: metres between mesh vertices. The same arguments always give identical arrays.
    """
    # Independent streams, so e.g. the camera poses do not depend on the mesh density.
    layout_rng, mesh_rng, camera_rng, noise_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(rng_seed).spawn(4))
    layout = generate_layout(layout_rng, room_type)
    light_direction = sample_light_direction(layout_rng)
    mesh = build_mesh(layout.boxes, layout.room_size, vertex_spacing, light_direction, mesh_rng)
    intrinsic_color, intrinsic_depth = color_intrinsic(color_size), depth_intrinsic(depth_size)
    poses = sample_poses(camera_rng, layout.boxes, layout.room_size, layout.obstacles, frames_per_scene)
    frames = [render_frame(layout.boxes, light_direction, pose, intrinsic_color, color_size, intrinsic_depth,
                           depth_size, noise_rng) for pose in poses]
    return SynthScene(name, layout.room_type, layout.room_size, layout.boxes, mesh, intrinsic_color, intrinsic_depth,
                      frames)
