"""Exact z-buffer rendering of oriented boxes by ray casting every pixel.

Each box is intersected (slab test) with the rays of the pixels inside its screen rectangle only; the rectangle
bounds the part of the box in front of the near plane, so the result equals casting every ray against every box.
Depth is the camera z of the nearest hit (as in ScanNet depth maps), not the ray length. slab_test, the ray / box
intersection, is public for other ray casters (SynthStreet's LiDAR).
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

NEAR = 0.01  # metres; hits closer than this to the camera plane are ignored
# Box corner pairs that share an edge (corner index = 4 * x_bit + 2 * y_bit + z_bit, as in Boxes.corners).
BOX_EDGES = np.array([(corner, corner | bit) for bit in (1, 2, 4) for corner in range(8) if not corner & bit])


@dataclass
class View:
    """One rendered view of H x W pixels: depth (H, W) float32 camera z in metres (0 = no hit); box_face (H, W)
    int32 visible box face as 6 * box index + face code of face_normal_table (-1 = no hit)."""
    depth: np.ndarray
    box_face: np.ndarray

    @property
    def box_index(self):
        """(H, W) index of the visible box, -1 where no hit."""
        return np.where(self.box_face >= 0, self.box_face // 6, -1)


@lru_cache(maxsize=4)
def _cached_camera_rays(focal_x, focal_y, center_x, center_y, width, height):
    u, v = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    rays = np.stack([(u - center_x) / focal_x, (v - center_y) / focal_y, np.ones_like(u)], axis=-1)
    rays.flags.writeable = False
    return rays


def camera_rays(intrinsic, size):
    """Camera-frame ray directions (H, W, 3) float32 with z = 1 through the pixel centres of a ``size`` = (W, H)
    image (cached, read-only)."""
    return _cached_camera_rays(float(intrinsic[0, 0]), float(intrinsic[1, 1]), float(intrinsic[0, 2]),
                               float(intrinsic[1, 2]), int(size[0]), int(size[1]))


def screen_rects(boxes, pose, intrinsic, size):
    """Pixel rectangles (B, 4) = [u_start, u_stop, v_start, v_stop) that contain every pixel whose ray can hit the
    part of each box in front of the near plane; empty (start >= stop) for boxes out of view."""
    camera_corners = (boxes.corners() - pose[:3, 3]) @ pose[:3, :3]
    depth = camera_corners[..., 2]
    start, stop = camera_corners[:, BOX_EDGES[:, 0]], camera_corners[:, BOX_EDGES[:, 1]]
    z_start, z_stop = depth[:, BOX_EDGES[:, 0]], depth[:, BOX_EDGES[:, 1]]
    crosses = (z_start - NEAR) * (z_stop - NEAR) < 0
    with np.errstate(divide='ignore', invalid='ignore'):
        fraction = np.where(crosses, (NEAR - z_start) / (z_stop - z_start), 0.0)
    crossings = start + fraction[..., None] * (stop - start)
    points = np.concatenate([camera_corners, crossings], axis=1)
    valid = np.concatenate([depth > NEAR, crosses], axis=1)
    z = np.where(valid, np.maximum(points[..., 2], NEAR), 1.0)
    u = np.where(valid, intrinsic[0, 0] * points[..., 0] / z + intrinsic[0, 2], np.nan)
    v = np.where(valid, intrinsic[1, 1] * points[..., 1] / z + intrinsic[1, 2], np.nan)
    rects = np.zeros((len(boxes), 4), dtype=np.int64)
    seen = valid.any(axis=1)
    width, height = size
    with np.errstate(invalid='ignore'):
        bounds = [np.nanmin(u[seen], 1), np.nanmax(u[seen], 1), np.nanmin(v[seen], 1), np.nanmax(v[seen], 1)]
    rects[seen, 0] = np.clip(np.floor(bounds[0]), 0, width)
    rects[seen, 1] = np.clip(np.ceil(bounds[1]) + 1, 0, width)
    rects[seen, 2] = np.clip(np.floor(bounds[2]), 0, height)
    rects[seen, 3] = np.clip(np.ceil(bounds[3]) + 1, 0, height)
    return rects


def face_normal_table(boxes):
    """(B, 6, 3) world unit normals of every box face; face code = 2 * axis + (1 if the normal is +axis else 0)."""
    signs = np.array([-1.0, 1.0] * 3)
    local = np.repeat(np.eye(3), 2, axis=0) * signs[:, None]
    return np.einsum('bij,fj->bfi', boxes.rotations, local).astype(np.float32)


def slab_test(local_rays, local_origin, half):
    """Slab test of rays ``local_rays`` (3 arrays (h, w), box frame) from ``local_origin`` (3,) against a box of
    half extents ``half`` (3,). Returns entry and exit ray parameters (h, w) (a miss where entry > exit) and the
    code (h, w) of the entry face (see face_normal_table).

    The box frame is centred on the box, along its axes. A ray parameter t is the hit point's distance along the
    ray in units of its direction's length; entry < 0 means the origin lies inside the box or the box is behind it,
    so callers keep hits with entry <= exit and entry beyond their own near limit."""
    t_enter = t_exit = face = None
    with np.errstate(divide='ignore', invalid='ignore'):
        for axis, (direction, origin, extent) in enumerate(zip(local_rays, local_origin, half)):
            inverse = 1.0 / direction
            t_low, t_high = (-extent - origin) * inverse, (extent - origin) * inverse
            near, far = np.minimum(t_low, t_high), np.maximum(t_low, t_high)
            # A ray travelling towards -axis enters through the +axis face.
            axis_face = (2 * axis + (direction < 0)).astype(np.int8)
            if t_enter is None:
                t_enter, t_exit, face = near, far, axis_face
                continue
            face = np.where(near > t_enter, axis_face, face)
            t_enter = np.maximum(t_enter, near, out=t_enter)
            t_exit = np.minimum(t_exit, far, out=t_exit)
    return t_enter, t_exit, face


def render_view(boxes, pose, intrinsic, size):
    """Ray-cast ``boxes`` from camera-to-world ``pose`` (4, 4) with ``intrinsic`` (3, 3) or (4, 4) at ``size`` =
    (W, H)."""
    width, height = size
    rays = camera_rays(intrinsic, size) @ pose[:3, :3].T.astype(np.float32)
    ray_x, ray_y, ray_z = (np.ascontiguousarray(rays[..., axis]) for axis in range(3))  # world directions
    origin = pose[:3, 3]
    depth = np.full((height, width), np.inf, dtype=np.float32)
    box_face = np.full((height, width), -1, dtype=np.int32)  # 6 * box index + face code
    cos, sin = np.cos(boxes.yaws).astype(np.float32), np.sin(boxes.yaws).astype(np.float32)
    local_origins = np.einsum('bj,bjk->bk', origin - boxes.centers, boxes.rotations).astype(np.float32)
    halves = (boxes.sizes / 2).astype(np.float32)
    for b, (u_start, u_stop, v_start, v_stop) in enumerate(screen_rects(boxes, pose, intrinsic, size)):
        if u_start >= u_stop or v_start >= v_stop:
            continue
        rect = np.s_[v_start:v_stop, u_start:u_stop]
        x, y = ray_x[rect], ray_y[rect]
        local_rays = (cos[b] * x + sin[b] * y, cos[b] * y - sin[b] * x, ray_z[rect])
        t_enter, t_exit, face = slab_test(local_rays, local_origins[b], halves[b])
        closer = (t_enter <= t_exit) & (t_enter > NEAR) & (t_enter < depth[rect])
        np.copyto(depth[rect], t_enter, where=closer)
        np.copyto(box_face[rect], face.astype(np.int32) + 6 * b, where=closer)
    depth[box_face < 0] = 0.0
    return View(depth, box_face)
