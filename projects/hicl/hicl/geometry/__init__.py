"""Plain numpy geometry shared by datasets and tools: projection and pairing."""
from .projection import (PointPixelPairs, depth_agrees, pair_points_with_pixels, project_points, scale_intrinsic,
                         world_to_camera)

__all__ = ['PointPixelPairs', 'depth_agrees', 'pair_points_with_pixels', 'project_points', 'scale_intrinsic',
           'world_to_camera']
