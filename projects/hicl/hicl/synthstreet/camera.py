"""Camera images of a street: shaded colour render, nuScenes-16 label image and instance image of one view.

Uses the shared z-buffer renderer of hicl.synthetic (camera-to-world poses, OpenCV axes, as nuScenes cameras) and
its Lambert shading. Building facades get a window grid; everything fades slightly into the sky colour with distance.
"""
from dataclasses import dataclass

import numpy as np

from ..label_sets import IMAGE_IGNORE, NUSCENES_LIDARSEG_TO_16
from ..synthetic.render import camera_rays, face_normal_table, render_view
from ..synthetic.shading import sample_light_direction, shade

WINDOW_COLOR = np.array([58, 70, 86], dtype=np.float32)
FLOOR_HEIGHT, WINDOW_SPACING = 3.2, 3.0  # metres
HAZE_DISTANCE = 450.0  # metres: a surface this far away is mixed 1 - 1/e towards the horizon colour


@dataclass
class Lighting:
    """Sun direction (3,) unit vector towards the light; sky colours (3,) float at the horizon and zenith."""
    sun: np.ndarray
    horizon: np.ndarray
    zenith: np.ndarray


def sample_lighting(rng):
    """Random sun direction and a clear or overcast sky."""
    horizon = np.array([205.0, 218.0, 232.0]) if rng.random() < 0.7 else np.array([196.0, 198.0, 202.0])
    zenith = horizon * np.array([0.55, 0.7, 0.95]) if horizon[2] > 200 else horizon * 0.9
    return Lighting(sample_light_direction(rng), horizon + rng.normal(0, 4, 3), zenith + rng.normal(0, 4, 3))


def _window_mask(boxes, box, face, points):
    """(M,) bool: pixels on a facade's side faces that fall on a window of the floor / column grid."""
    local = np.einsum('mj,mjk->mk', points - boxes.centers[box], boxes.rotations[box])
    across_x = face // 2 == 0  # faces with a +-x normal run along the box's y axis
    along = np.where(across_x, local[:, 1] + boxes.sizes[box, 1] / 2, local[:, 0] + boxes.sizes[box, 0] / 2)
    height = local[:, 2] + boxes.sizes[box, 2] / 2
    column, storey = np.mod(along / WINDOW_SPACING, 1.0), np.mod(height / FLOOR_HEIGHT, 1.0)
    return (face < 4) & (height > 1.0) & (column > 0.25) & (column < 0.75) & (storey > 0.3) & (storey < 0.75)


def render_camera(layout, camera_to_global, intrinsic, size, lighting, rng):
    """Render one view of ``layout`` from ``camera_to_global`` (4, 4) with ``intrinsic`` (3, 3) at ``size`` (W, H).

    Returns rgb (H, W, 3) uint8, labels (H, W) uint8 nuScenes-16 train id (IMAGE_IGNORE where only sky is
    seen) and instances (H, W) uint16 object id (0 = sky).
    """
    boxes = layout.boxes
    view = render_view(boxes, camera_to_global, intrinsic, size)
    box = view.box_index
    hit = box >= 0
    rays = camera_rays(intrinsic, size) @ camera_to_global[:3, :3].T.astype(np.float32)  # world, camera z = 1
    up = rays[..., 2] / np.linalg.norm(rays, axis=-1)
    sky = lighting.horizon + np.clip(up, 0.0, 1.0)[..., None] ** 0.6 * (lighting.zenith - lighting.horizon)
    rgb = sky.astype(np.float32)
    hit_box, hit_face, depth = box[hit], view.box_face[hit] % 6, view.depth[hit]
    normals = face_normal_table(boxes)[hit_box, hit_face]
    color = boxes.colors[hit_box].astype(np.float32)
    facade = layout.facade[hit_box]
    points = camera_to_global[:3, 3] + rays[hit][facade] * depth[facade, None]
    windows = np.zeros(len(hit_box), dtype=bool)
    windows[facade] = _window_mask(boxes, hit_box[facade], hit_face[facade], points)
    color[windows] = WINDOW_COLOR
    color *= shade(normals, lighting.sun)[:, None]
    haze = 1.0 - np.exp(-depth / HAZE_DISTANCE)
    rgb[hit] = color + haze[:, None] * (lighting.horizon - color)
    rgb += rng.normal(0.0, 2.5, rgb.shape)
    labels = np.full(box.shape, IMAGE_IGNORE, dtype=np.uint8)
    labels[hit] = np.asarray(NUSCENES_LIDARSEG_TO_16, dtype=np.uint8)[boxes.labels[hit_box]]
    instances = np.zeros(box.shape, dtype=np.uint16)
    instances[hit] = boxes.instances[hit_box]
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8), labels, instances
