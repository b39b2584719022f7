"""Oriented boxes (rotated about the world z axis): the only primitive SynthRooms and SynthStreet scenes are built
from."""
from dataclasses import dataclass

import numpy as np

INSIDE_TOLERANCE = 1e-6  # metres


def yaw_rotations(yaws):
    """Rotation matrices about +z for angles ``yaws`` (..., rad) -> (..., 3, 3); they map box-local to world axes."""
    yaws = np.asarray(yaws, dtype=np.float64)
    cos, sin = np.cos(yaws), np.sin(yaws)
    rotations = np.zeros(yaws.shape + (3, 3))
    rotations[..., 0, 0], rotations[..., 0, 1] = cos, -sin
    rotations[..., 1, 0], rotations[..., 1, 1] = sin, cos
    rotations[..., 2, 2] = 1.0
    return rotations


@dataclass
class Boxes:
    """B oriented boxes of a scene.

    centers (B, 3) metres, world frame (z up); sizes (B, 3) full extents in metres along the box's own x, y, z;
    yaws (B,) rad about world z; colors (B, 3) uint8 base colour; labels (B,) class id (NYU40 id in SynthRooms,
    nuScenes-lidarseg general index in SynthStreet); instances (B,) object id >= 1 (several boxes of one object
    share it).
    """
    centers: np.ndarray
    sizes: np.ndarray
    yaws: np.ndarray
    colors: np.ndarray
    labels: np.ndarray
    instances: np.ndarray

    def __len__(self):
        return len(self.yaws)

    @property
    def rotations(self):
        """(B, 3, 3) box-local -> world rotations."""
        return yaw_rotations(self.yaws)

    def corners(self):
        """(B, 8, 3) world coordinates of the box corners."""
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
        local = signs[None] * (self.sizes[:, None] / 2)
        return np.einsum('bij,bkj->bki', self.rotations, local) + self.centers[:, None]

    def aabbs(self):
        """(B, 2, 3) world axis-aligned bounds [min, max] in metres."""
        corners = self.corners()
        return np.stack([corners.min(1), corners.max(1)], axis=1)

    def contains(self, points, box_indices):
        """Whether each point lies strictly inside (deeper than INSIDE_TOLERANCE) any of the boxes ``box_indices``;
        points on a box surface are outside.

        points (N, 3) world metres -> (N,) bool. Points are sorted along their longest extent so that each box
        only tests the points within its own bounds along that axis.
        """
        inside = np.zeros(len(points), dtype=bool)
        box_indices = np.asarray(box_indices, dtype=np.int64)
        if len(points) == 0 or len(box_indices) == 0:
            return inside
        axis = int(np.argmax(points.max(axis=0) - points.min(axis=0)))
        order = np.argsort(points[:, axis], kind='stable')
        sorted_coordinates = points[order, axis]
        aabbs = self.aabbs()[box_indices]
        starts = np.searchsorted(sorted_coordinates, aabbs[:, 0, axis] - 1e-9, side='left')
        stops = np.searchsorted(sorted_coordinates, aabbs[:, 1, axis] + 1e-9, side='right')
        for b, start, stop in zip(box_indices, starts, stops):
            candidates = order[start:stop]
            local = np.abs((points[candidates] - self.centers[b]) @ yaw_rotations(self.yaws[b]))
            limit = self.sizes[b] / 2 - INSIDE_TOLERANCE
            inside[candidates[(local[:, 0] < limit[0]) & (local[:, 1] < limit[1]) & (local[:, 2] < limit[2])]] = True
        return inside
