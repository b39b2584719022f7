"""MinkUNet on spconv: mmdet3d's ``MinkUNetBackbone`` with two fixes of its spconv path, as a class of its own
(registered as ``MinkUNetSpconvBackbone``), so that importing hicl leaves mmdet3d's class exactly as it ships.

1. Grid: mmdet3d builds the spconv input grid as max coordinate + 1; where that is odd, a stride-2 convolution
   drops the voxels of the upper edge. Here the grid is padded to a multiple of the coarsest stride 2^num_stages.
2. Channel lists: mmdet3d's ``__init__`` inserts into the ``encoder_channels`` / ``decoder_channels`` lists it is
   given, i.e. into the config: a second build from the same config fails or builds another net. Here it gets
   copies.

The modules (and so the checkpoint keys) are mmdet3d's; a config swaps ``type='MinkUNetBackbone'`` for
``type='MinkUNetSpconvBackbone'`` and drops nothing else. Coordinates are (batch, x, y, z) rows (the data
preprocessor's ``batch_first=True``).
"""
import torch
from mmdet3d.models.backbones import MinkUNetBackbone
from mmdet3d.registry import MODELS
from spconv.pytorch import SparseConvTensor
from torch import Tensor


def padded_sparse_input(voxel_features: Tensor, coors: Tensor, multiple: int) -> SparseConvTensor:
    """spconv's SparseConvTensor of the voxels on a grid whose sides are max coordinate + 1 rounded up to a
    multiple of ``multiple``.

    Args:
        voxel_features: (V, C) features.
        coors: (V, 4) integer (batch, x, y, z) voxel coordinates, non-negative.
        multiple: the coarsest stride of the net (2 ** num_stages).
    """
    extent = coors[:, 1:].max(0).values + 1
    spatial_shape = (torch.div(extent + multiple - 1, multiple, rounding_mode='floor') * multiple).tolist()
    return SparseConvTensor(voxel_features, coors.int(), spatial_shape, int(coors[:, 0].max()) + 1)


def check_spconv_backend(cls, sparseconv_backend, alternatives):
    """Raise ValueError unless ``sparseconv_backend`` is 'spconv', naming the ``alternatives`` (which class serves
    which other library)."""
    if sparseconv_backend != 'spconv':
        raise ValueError(f"{cls.__name__} runs on spconv only (sparseconv_backend='spconv'), got "
                         f"sparseconv_backend={sparseconv_backend!r}; {alternatives}")


@MODELS.register_module()
class MinkUNetSpconvBackbone(MinkUNetBackbone):
    """mmdet3d's MinkUNet on spconv with a padded grid and copied channel lists (see the module docstring).

    Args: as mmdet3d's ``MinkUNetBackbone``; ``sparseconv_backend`` must be 'spconv' (mmdet3d's class serves
    torchsparse and MinkowskiEngine).
    """

    def __init__(self, *, encoder_channels=(32, 64, 128, 256), decoder_channels=(256, 128, 96, 96),
                 sparseconv_backend='spconv', **kwargs):
        check_spconv_backend(type(self), sparseconv_backend,
                             "for torchsparse or minkowski use mmdet3d's type='MinkUNetBackbone'")
        super().__init__(encoder_channels=list(encoder_channels), decoder_channels=list(decoder_channels),
                         sparseconv_backend='spconv', **kwargs)

    def sparse_input(self, voxel_features: Tensor, coors: Tensor) -> SparseConvTensor:
        """The input voxels as a sparse tensor on the padded grid."""
        return padded_sparse_input(voxel_features, coors, 2 ** self.num_stages)

    def forward(self, voxel_features: Tensor, coors: Tensor) -> Tensor:
        """(V, C_out) features of the (V, C_in) input voxels at (V, 4) integer (batch, x, y, z) ``coors``, in
        their order; C_out = decoder_channels[-1]."""
        voxels = self.conv_input(self.sparse_input(voxel_features, coors))
        laterals = [voxels]
        for encoder_layer in self.encoder:
            voxels = encoder_layer(voxels)
            laterals.append(voxels)
        laterals = laterals[:-1][::-1]
        for lateral, (up, blocks) in zip(laterals, self.decoder):
            voxels = up(voxels)
            voxels = blocks(voxels.replace_feature(torch.cat((voxels.features, lateral.features), 1)))
        return voxels.features
