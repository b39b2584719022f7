"""Pair points with pixel pseudo-labels by projection (paper 3.1)."""
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from ...geometry import depth_agrees, pair_points_with_pixels, scale_intrinsic


@TRANSFORMS.register_module()
class PairPointsWithPixels(BaseTransform):
    """Build the (point, pixel-label) pairs M of Eq. 1 for the loaded views.

    Must run before any transform that moves or reorders points (pairs index the loaded points).
    Reads: ``points`` (N points, world frame), ``views`` (see LoadSceneFrames), ``camera`` (``intrinsic_color``,
    ``color_size`` (W, H); with depth also ``intrinsic_depth``). The label images cover the colour image, so
    their intrinsics are the colour intrinsics scaled to the label image size, or the views' own ``intrinsic``
    when LoadSceneFrames wrote them (one camera per view: nuScenes).
    Writes ``pair_point_idx``, ``pair_view_idx``, ``pair_label`` (P,) int64 and drops ``views``.

    Args:
        depth_tolerance: keep a pair when |depth - z| <= this, metres (CLIP2Scene: 0.05).
        relative_tolerance: if set, use |depth - z| <= relative_tolerance * depth instead (OpenScene: 0.25).
        use_depth: False for data without depth maps (then ``min_depth`` is the only visibility test).
        min_depth: minimum camera z, metres (nuScenes: 1.0).
    """

    def __init__(self, depth_tolerance=0.05, relative_tolerance=None, use_depth=True, min_depth=0.0):
        self.depth_tolerance = depth_tolerance
        self.relative_tolerance = relative_tolerance
        self.use_depth = use_depth
        self.min_depth = min_depth

    def transform(self, results):
        xyz = results['points'].coord.numpy()
        views = results.pop('views')
        labels = views['labels']
        if 'intrinsic' in views:
            label_intrinsic = views['intrinsic']
        else:
            label_intrinsic = scale_intrinsic(results['camera']['intrinsic_color'], results['camera']['color_size'],
                                              (labels.shape[2], labels.shape[1]))
        visible = None
        if self.use_depth:
            visible = depth_agrees(xyz, views['camera_to_world'], views['depth'], results['camera']['intrinsic_depth'],
                                   self.depth_tolerance, self.relative_tolerance)
        pairs = pair_points_with_pixels(xyz, views['camera_to_world'], labels, label_intrinsic, visible,
                                        self.min_depth)
        results['pair_point_idx'], results['pair_view_idx'], results['pair_label'] = pairs
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(depth_tolerance={self.depth_tolerance}, '
                f'relative_tolerance={self.relative_tolerance}, use_depth={self.use_depth}, '
                f'min_depth={self.min_depth})')
