"""SPVCNN without torchsparse: mmdet3d's MinkUNet sparse UNet on spconv plus SPVCNN's point branch.

The points of the point branch are the input voxels (as in mmdet3d's SPVCNN): position = integer voxel
coordinate as float, in units of the finest voxel. A voxel of stride ``s`` (spconv index ``k`` on the stride-``s``
grid) covers the finest voxels ``k*s .. k*s + s - 1`` along each axis.

Coordinates are (batch, x, y, z) rows throughout (spconv's ``batch_first`` order).
"""
import torch
from mmdet3d.models.backbones import SPVCNNBackbone
from mmdet3d.registry import MODELS
from spconv.pytorch import SparseConvTensor
from torch import Tensor, nn

from .minkunet import MinkUNetSpconvBackbone, check_spconv_backend

# The 8 corner offsets {0, 1}^3 of a trilinear cell, (8, 3).
_CELL_CORNERS = torch.tensor([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])


def _check_rows(name_a, a, name_b, b):
    if a.shape[0] != b.shape[0]:
        raise ValueError(f'{name_a} has {a.shape[0]} rows but {name_b} has {b.shape[0]}')


def _check_coords(name, coords):
    if coords.dim() != 2 or coords.shape[1] != 4:
        raise ValueError(f'{name} must be (N, 4) (batch, x, y, z) rows, got shape {tuple(coords.shape)}')


def lookup_voxels(voxel_coords: Tensor, query_coords: Tensor) -> Tensor:
    """Row of each query in ``voxel_coords``, -1 where the query voxel is absent.

    A linearised (batch, x, y, z) key, sorted once and searched with ``torch.searchsorted`` (no loop over rows).

    Args:
        voxel_coords: (N, 4) integer (batch, x, y, z), unique rows.
        query_coords: (Q, 4) integer (batch, x, y, z); may lie outside the voxels' extent (e.g. negative).

    Returns:
        (Q,) int64 rows into ``voxel_coords``, or -1.
    """
    _check_coords('voxel_coords', voxel_coords)
    _check_coords('query_coords', query_coords)
    rows = torch.full((query_coords.shape[0],), -1, dtype=torch.long, device=query_coords.device)
    if voxel_coords.shape[0] == 0 or query_coords.shape[0] == 0:
        return rows
    voxel_coords, query_coords = voxel_coords.long(), query_coords.long()
    low = torch.minimum(voxel_coords.min(0).values, query_coords.min(0).values)
    size = torch.maximum(voxel_coords.max(0).values, query_coords.max(0).values) - low + 1
    place = torch.ones_like(size)  # key = ((b * size_x + x) * size_y + y) * size_z + z
    place[:3] = torch.flip(torch.cumprod(torch.flip(size[1:], (0,)), 0), (0,))
    voxel_keys = ((voxel_coords - low) * place).sum(1)
    query_keys = ((query_coords - low) * place).sum(1)
    sorted_keys, order = torch.sort(voxel_keys)
    if bool((sorted_keys[1:] == sorted_keys[:-1]).any()):
        raise ValueError('voxel_coords has duplicate (batch, x, y, z) rows')
    position = torch.searchsorted(sorted_keys, query_keys).clamp_max(sorted_keys.shape[0] - 1)
    found = sorted_keys[position] == query_keys
    rows[found] = order[position[found]]
    return rows


def voxel_to_point(voxel_features: Tensor, voxel_coords: Tensor, point_positions: Tensor, stride: int) -> Tensor:
    """Trilinear devoxelisation: features of the stride-``stride`` voxels at the points.

    Each voxel sits at the centre of the finest voxels it covers, ``k*stride + (stride - 1) / 2`` along each axis
    (so at ``stride=1`` a point at an integer position gets exactly its voxel's feature). A point takes the 8
    voxels of the cell around it with trilinear weights; absent voxels get weight 0 and the weights of the present
    ones are renormalised to sum to 1. A point with no present neighbour gets zeros. Points see only voxels of
    their own batch item.

    Args:
        voxel_features: (N, C) features of the voxels.
        voxel_coords: (N, 4) integer (batch, x, y, z), x y z on the stride-``stride`` grid (spconv indices).
        point_positions: (P, 4) float (batch, x, y, z), batch integer-valued, x y z in finest-voxel units.
        stride: voxel size of ``voxel_coords`` in finest voxels.

    Returns:
        (P, C) point features (differentiable w.r.t. ``voxel_features``).
    """
    _check_rows('voxel_features', voxel_features, 'voxel_coords', voxel_coords)
    _check_coords('point_positions', point_positions)
    grid = (point_positions[:, 1:] - (stride - 1) / 2) / stride  # voxel k centred at k
    cell = torch.floor(grid)
    frac = (grid - cell).unsqueeze(1)  # (P, 1, 3)
    corners_offset = _CELL_CORNERS.to(point_positions.device)
    corners = cell.long().unsqueeze(1) + corners_offset  # (P, 8, 3)
    weights = torch.where(corners_offset.bool(), frac, 1 - frac).prod(2)  # (P, 8)
    batch = point_positions[:, :1].long().unsqueeze(1).expand(-1, 8, -1)
    rows = lookup_voxels(voxel_coords, torch.cat([batch, corners], 2).reshape(-1, 4)).view(-1, 8)
    weights = weights * (rows >= 0)
    weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
    point_index, corner = torch.nonzero(weights > 0, as_tuple=True)
    weighted = voxel_features[rows[point_index, corner]] * weights[point_index, corner].unsqueeze(1)
    out = voxel_features.new_zeros(point_positions.shape[0], voxel_features.shape[1])
    return out.index_add(0, point_index, weighted)


def point_to_voxel(point_features: Tensor, point_positions: Tensor, voxel_coords: Tensor, stride: int) -> Tensor:
    """Voxelisation: mean of the features of the points inside each stride-``stride`` voxel.

    A point at ``p`` lies in voxel ``floor(p / stride)`` of its batch item. Points whose voxel is absent are
    ignored; voxels without points get zeros.

    Args:
        point_features: (P, C) features of the points.
        point_positions: (P, 4) float (batch, x, y, z), batch integer-valued, x y z in finest-voxel units.
        voxel_coords: (N, 4) integer (batch, x, y, z), x y z on the stride-``stride`` grid (spconv indices).
        stride: voxel size of ``voxel_coords`` in finest voxels.

    Returns:
        (N, C) voxel features (differentiable w.r.t. ``point_features``).
    """
    _check_rows('point_features', point_features, 'point_positions', point_positions)
    _check_coords('point_positions', point_positions)
    cells = torch.cat([point_positions[:, :1], torch.floor(point_positions[:, 1:] / stride)], 1).long()
    rows = lookup_voxels(voxel_coords, cells)
    inside = rows >= 0
    rows = rows[inside]
    sums = point_features.new_zeros(voxel_coords.shape[0], point_features.shape[1])
    sums = sums.index_add(0, rows, point_features[inside])
    counts = torch.bincount(rows, minlength=voxel_coords.shape[0]).clamp_min(1)
    return sums / counts.unsqueeze(1).to(sums.dtype)


def _point_mlp(in_channels: int, out_channels: int) -> nn.Sequential:
    """SPVCNN's point transform: Linear -> BatchNorm1d -> ReLU on (P, in_channels) point features."""
    return nn.Sequential(nn.Linear(in_channels, out_channels), nn.BatchNorm1d(out_channels), nn.ReLU(inplace=True))


@MODELS.register_module()
class SPVCNNTorchsparseBackbone(SPVCNNBackbone):
    """mmdet3d's torchsparse SPVCNN (needs torchsparse, not on PyPI) taking (batch, x, y, z) coordinates like
    :class:`SPVCNNSpconvBackbone`, so one data preprocessor (``batch_first=True``) and one config serve both: a
    config changes ``type`` only. torchsparse 1.x wants (x, y, z, batch)."""

    def forward(self, voxel_features: Tensor, coors: Tensor) -> Tensor:
        """(V, C_out) features of the input voxels; ``coors`` (V, 4) integer (batch, x, y, z)."""
        return super().forward(voxel_features, coors.roll(-1, dims=1))


@MODELS.register_module()
class SPVCNNSpconvBackbone(MinkUNetSpconvBackbone):
    """SPVCNN: MinkUNet's sparse UNet (stem, encoder, decoder built by mmdet3d's ``MinkUNetBackbone``) plus a
    point branch of per-point MLPs fused with the voxels, on spconv.

    Same config arguments as mmdet3d's ``SPVCNNBackbone`` (4 stages; ``encoder_blocks``, ``decoder_blocks``,
    ``block_type``, ``init_cfg`` go to ``MinkUNetBackbone``) and the same forward contract as
    ``MinkUNetSpconvBackbone``: ``forward(features (V, C_in), coors (V, 4) int (batch, x, y, z)) -> (V, C_out)``
    in the input voxel order, ``C_out = decoder_channels[-1]``. A MinkUNet config becomes SPVCNN by changing
    ``type`` only.

    Point branch (where mmdet3d's SPVCNN fuses), strides in finest voxels:

    1. after the stem (stride 1): point features = stem features (devoxelising at stride 1 onto the input voxels is
       the identity, so it is not computed);
    2. after the encoder (stride 16): points = devox(voxels) + MLP0(points) (base -> encoder[-1] channels);
       voxels = dropout(vox(points));
    3. after decoder stage 2 of 4 (stride 4): points = devox(voxels) + MLP1(points) (encoder[-1] ->
       decoder_channels[1]); voxels = dropout(vox(points));
    4. output (stride 1): devox(decoder output) + MLP2(points) (decoder_channels[1] -> decoder_channels[3]).

    Fusion replaces the voxel features by the average of their points' features, as in SPVCNN: these already hold
    the devoxelised voxel features, so adding them to the voxel features would count those twice.

    Differences from mmdet3d's ``SPVCNNBackbone``: spconv instead of torchsparse; coordinates are (batch, x, y, z);
    a stride-s voxel's position for devoxelisation is the centre of the finest voxels it covers (torchsparse uses
    its corner); the spconv grid is padded and the channel lists copied as in :class:`MinkUNetSpconvBackbone`;
    dropout is not in place. With torchsparse installed, ``type='SPVCNNTorchsparseBackbone'`` is mmdet3d's.

    Args:
        in_channels, base_channels, num_stages, encoder_channels, decoder_channels: as ``SPVCNNBackbone``.
        drop_ratio: dropout on the voxel features after fusions 2 and 3.
        sparseconv_backend: 'spconv' (the only one this class runs on; torchsparse: SPVCNNTorchsparseBackbone).
        **kwargs: further ``MinkUNetBackbone`` arguments.
    """

    def __init__(self,
                 in_channels: int = 4,
                 base_channels: int = 32,
                 num_stages: int = 4,
                 encoder_channels=(32, 64, 128, 256),
                 decoder_channels=(256, 128, 96, 96),
                 drop_ratio: float = 0.3,
                 sparseconv_backend: str = 'spconv',
                 **kwargs) -> None:
        if num_stages != 4 or len(encoder_channels) != 4 or len(decoder_channels) != 4:
            raise ValueError('SPVCNN fuses at fixed stages of a 4-stage UNet: num_stages and the lengths of '
                             f'encoder_channels / decoder_channels must be 4, got {num_stages}, '
                             f'{list(encoder_channels)}, {list(decoder_channels)}')
        check_spconv_backend(type(self), sparseconv_backend, "for torchsparse use type='SPVCNNTorchsparseBackbone'")
        super().__init__(in_channels=in_channels, base_channels=base_channels, num_stages=num_stages,
                         encoder_channels=encoder_channels, decoder_channels=decoder_channels, **kwargs)
        self.point_transforms = nn.ModuleList([
            _point_mlp(base_channels, encoder_channels[-1]),
            _point_mlp(encoder_channels[-1], decoder_channels[1]),
            _point_mlp(decoder_channels[1], decoder_channels[3])])
        self.dropout = nn.Dropout(drop_ratio)

    def _fuse(self, voxels: SparseConvTensor, points: Tensor, positions: Tensor, stride: int, mlp: nn.Module):
        """Points <- devox(voxels) + mlp(points); voxels <- dropout(vox(points)). Returns (voxels, points)."""
        points = voxel_to_point(voxels.features, voxels.indices, positions, stride) + mlp(points)
        voxels = voxels.replace_feature(self.dropout(point_to_voxel(points, positions, voxels.indices, stride)))
        return voxels, points

    def forward(self, voxel_features: Tensor, coors: Tensor) -> Tensor:
        """(V, C_out) features of the input voxels.

        Args:
            voxel_features: (V, C_in) input voxel features.
            coors: (V, 4) integer (batch, x, y, z) voxel coordinates, non-negative, unique.
        """
        _check_rows('voxel_features', voxel_features, 'coors', coors)
        positions = coors.to(voxel_features.dtype)
        voxels = self.conv_input(self.sparse_input(voxel_features, coors))
        points = voxels.features  # submanifold stem: rows are the input voxels
        laterals = [voxels]
        for encoder_layer in self.encoder:
            voxels = encoder_layer(voxels)
            laterals.append(voxels)
        laterals = laterals[:-1][::-1]
        voxels, points = self._fuse(voxels, points, positions, 2 ** self.num_stages, self.point_transforms[0])
        for i, (up, blocks) in enumerate(self.decoder):
            voxels = up(voxels)
            voxels = voxels.replace_feature(torch.cat((voxels.features, laterals[i].features), 1))
            voxels = blocks(voxels)
            if i == 1:
                voxels, points = self._fuse(voxels, points, positions, 2 ** (self.num_stages - 2),
                                            self.point_transforms[1])
        # the stride-1 decoder output has the stem's indices, i.e. the input voxels in order
        return voxels.features + self.point_transforms[2](points)
