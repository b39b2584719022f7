"""One posed RGB-D frame as ScanNet stores it: colour, depth (mm), label-filt and instance-filt images."""
from dataclasses import dataclass

import numpy as np

from ..synthetic.render import camera_rays, face_normal_table, render_view
from ..synthetic.shading import shade

BACKGROUND = np.array([206, 206, 202], dtype=np.uint8)  # colour where a ray leaves the room (no ceiling)
COLOR_NOISE = 5  # colour noise is uniform in [-5, 5] per channel (std ~3.2), 0-255 scale
DEPTH_NOISE = (0.001, 0.0005)  # depth noise std = a + b * depth, metres
DEPTH_DROPOUT = 0.003  # fraction of random invalid depth pixels
GRAZING_COSINE = 0.08  # depth is invalid where |cos| between the viewing ray and the surface normal is below this


@dataclass
class Frame:
    """pose (4, 4) camera-to-world; color (Hc, Wc, 3) uint8; depth (Hd, Wd) uint16 millimetres (0 = invalid);
    label (Hc, Wc) uint16 NYU40 id (0 = nothing); instance (Hc, Wc) uint16 instance id (0 = nothing)."""
    pose: np.ndarray
    color: np.ndarray
    depth: np.ndarray
    label: np.ndarray
    instance: np.ndarray


def render_frame(boxes, light_direction, pose, intrinsic_color, color_size, intrinsic_depth, depth_size, rng):
    """Render the colour and depth cameras (which share ``pose``) and add sensor noise drawn from ``rng``."""
    view = render_view(boxes, pose, intrinsic_color, color_size)
    normals = face_normal_table(boxes).reshape(-1, 3)
    face_colors = boxes.colors.repeat(6, axis=0) * shade(normals, light_direction)[:, None]
    base = np.concatenate([BACKGROUND[None], face_colors]).astype(np.float32)[view.box_face + 1]  # row 0: no hit
    noise = rng.integers(-COLOR_NOISE, COLOR_NOISE + 1, base.shape, dtype=np.int8)
    color = np.clip(np.round(base) + noise, 0, 255).astype(np.uint8)
    label = np.concatenate([[0], boxes.labels]).astype(np.uint16)[view.box_index + 1]
    instance = np.concatenate([[0], boxes.instances]).astype(np.uint16)[view.box_index + 1]
    depth = _depth_image(boxes, normals, pose, intrinsic_depth, depth_size, rng)
    return Frame(pose, color, depth, label, instance)


def _depth_image(boxes, face_normals, pose, intrinsic, size, rng):
    """Depth map (H, W) uint16 mm with noise, dropout and invalid grazing-angle pixels; face_normals (6B, 3)."""
    view = render_view(boxes, pose, intrinsic, size)
    noise_std = DEPTH_NOISE[0] + DEPTH_NOISE[1] * view.depth
    depth = view.depth + rng.standard_normal(view.depth.shape, dtype=np.float32) * noise_std
    rays = camera_rays(intrinsic, size) @ pose[:3, :3].T.astype(np.float32)
    cosine = np.sum(rays * face_normals[np.maximum(view.box_face, 0)], axis=-1) / np.linalg.norm(rays, axis=-1)
    invalid = (view.box_face < 0) | (np.abs(cosine) < GRAZING_COSINE) | (rng.random(depth.shape) < DEPTH_DROPOUT)
    millimetres = np.clip(np.round(depth * 1000.0), 0, np.iinfo(np.uint16).max).astype(np.uint16)
    millimetres[invalid] = 0
    return millimetres
