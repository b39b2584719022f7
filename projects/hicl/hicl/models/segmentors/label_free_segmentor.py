"""The label-free segmentor: mmdet3d's MinkUNet segmentor with a choice of voxel input features."""
from mmdet3d.models.segmentors import MinkUNet
from mmdet3d.registry import MODELS


@MODELS.register_module()
class LabelFreeSegmentor(MinkUNet):
    """MinkUNet segmentor whose backbone sees only the chosen columns of the voxel features.

    The voxelising data preprocessor passes every point column (x y z r g b) as voxel features; CLIP2Scene feeds
    colour only, the geometry being carried by the sparse structure itself.

    Args:
        feature_dims: indices of the point columns used as backbone input (None: all of them); the backbone's
            ``in_channels`` must equal their number.
    """

    def __init__(self, feature_dims=None, **kwargs):
        super().__init__(**kwargs)
        self.feature_dims = None if feature_dims is None else list(feature_dims)

    def extract_feat(self, batch_inputs_dict):
        """(V, C) voxel features of the whole batch from the backbone (and neck)."""
        voxel_dict = batch_inputs_dict['voxels']
        features = voxel_dict['voxels']
        if self.feature_dims is not None:
            features = features[:, self.feature_dims]
        x = self.backbone(features, voxel_dict['coors'])
        return self.neck(x) if self.with_neck else x
