"""LiDAR input: intensity scaling and multi-sweep accumulation."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from ...dataset_io import read_lidar_points


@TRANSFORMS.register_module()
class NormalizeIntensity(BaseTransform):
    """Divide the intensity column of the points by ``max_value`` (nuScenes: 0..255 -> 0..1).

    Reads and writes ``points`` (LiDARPoints whose column ``dim`` is the intensity).
    """

    def __init__(self, max_value=255.0, dim=3):
        if max_value <= 0:
            raise ValueError(f'max_value must be > 0, got {max_value}')
        self.max_value = float(max_value)
        self.dim = dim

    def transform(self, results):
        points = results['points']
        if points.tensor.shape[1] <= self.dim:
            raise ValueError(f'NormalizeIntensity: points have {points.tensor.shape[1]} columns, no intensity '
                             f'column {self.dim}; load it with LoadPointsFromFile(use_dim=[0, 1, 2, 3])')
        points.tensor[:, self.dim] /= self.max_value
        return results

    def __repr__(self):
        return f'{type(self).__name__}(max_value={self.max_value}, dim={self.dim})'


@TRANSFORMS.register_module()
class LoadLiDARSweeps(BaseTransform):
    """Append up to ``num_sweeps`` earlier sweeps to the keyframe points (multi-sweep input).

    The keyframe points stay first and in order, so pairs and sets computed on them stay valid: run it after
    PairPointsWithPixels / SetVotingRefiner and before transforms that move points. Sweep points carry the same
    columns as the keyframe points (``use_dim`` of the ``load_dim`` columns of the file) and are moved into the
    keyframe's LiDAR frame with the info's ``sensor2lidar``. Points within ``min_distance`` metres of the
    sweep's sensor (the ego vehicle) are dropped. Differs from mmdet3d's ``LoadPointsFromMultiSweeps``: no time
    column, and the full rigid ``sensor2lidar`` is applied.

    Reads ``points``, ``lidar_sweeps`` (list of dicts with ``lidar_points.lidar_path`` absolute and
    ``sensor2lidar`` 4x4). Writes ``points`` (N + S points) and ``num_keyframe_points`` (N).

    Args:
        num_sweeps: sweeps appended, newest first; fewer when the sample has fewer.
        load_dim: float32 columns per point in the files (nuScenes: 5); use_dim: the columns kept.
        min_distance: metres.
    """

    def __init__(self, num_sweeps=9, load_dim=5, use_dim=(0, 1, 2, 3), min_distance=1.0):
        self.num_sweeps = num_sweeps
        self.load_dim = load_dim
        self.use_dim = list(use_dim)
        self.min_distance = min_distance

    def transform(self, results):
        points = results['points']
        if points.tensor.shape[1] != len(self.use_dim):
            raise ValueError(f'LoadLiDARSweeps(use_dim={self.use_dim}) gives {len(self.use_dim)} columns but the '
                             f'keyframe points have {points.tensor.shape[1]}: use the same use_dim for both')
        sweeps = [self.load_sweep(sweep) for sweep in results.get('lidar_sweeps', [])[:self.num_sweeps]]
        results['num_keyframe_points'] = len(points)
        if sweeps:
            results['points'] = points.cat([points, points.new_point(np.concatenate(sweeps))])
        return results

    def load_sweep(self, sweep):
        """(S, len(use_dim)) float32 points of one sweep in the keyframe's LiDAR frame."""
        points = read_lidar_points(sweep['lidar_points']['lidar_path'], self.load_dim)[:, self.use_dim]
        points = points[np.linalg.norm(points[:, :2], axis=1) > self.min_distance]
        sensor2lidar = np.asarray(sweep['sensor2lidar'], dtype=np.float64)
        points[:, :3] = points[:, :3] @ sensor2lidar[:3, :3].T + sensor2lidar[:3, 3]
        return points

    def __repr__(self):
        return (f'{type(self).__name__}(num_sweeps={self.num_sweeps}, load_dim={self.load_dim}, '
                f'use_dim={self.use_dim}, min_distance={self.min_distance})')
