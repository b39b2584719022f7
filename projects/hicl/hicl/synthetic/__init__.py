"""The geometry both synthetic generators (SynthRooms, SynthStreet) share: oriented boxes, ray casting against them
and Lambert shading.

- ``boxes``: ``Boxes``, B boxes rotated about the world z axis (centre, full size, yaw, colour, class label,
  instance id), their corners, world axis-aligned bounds and a point-inside test; ``yaw_rotations``.
- ``render``: ``camera_rays`` (pinhole ray directions of every pixel), ``render_view`` (exact z-buffer of the
  boxes seen from a posed camera: depth as camera z and the visible box face of every pixel), ``slab_test`` (the
  ray / box intersection it uses, also cast by SynthStreet's LiDAR) and ``face_normal_table`` (world normals of
  the face codes those return).
- ``shading``: ``shade`` (ambient plus Lambert brightness under one directional light) and
  ``sample_light_direction`` (a random light above the horizon).

World frame: metres, z up. Poses are 4x4 camera-to-world matrices with OpenCV camera axes (x right, y down,
z forward); intrinsics are pinhole matrices of which only fx, fy, cx, cy are read.
"""
from .boxes import Boxes, yaw_rotations
from .render import View, camera_rays, face_normal_table, render_view, slab_test
from .shading import sample_light_direction, shade

__all__ = ['Boxes', 'yaw_rotations', 'View', 'camera_rays', 'face_normal_table', 'render_view', 'slab_test',
           'sample_light_direction', 'shade']
