"""SPVCNNSpconvBackbone: exact point <-> voxel operations; a MinkUNet-compatible backbone with a live point branch."""
import copy
import re

import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

import hicl  # noqa: F401  (spconv CPU fixes, registration)
from hicl.models.backbones import SPVCNNSpconvBackbone
from hicl.models.backbones.spvcnn import lookup_voxels, point_to_voxel, voxel_to_point

SMALL = dict(in_channels=3, base_channels=8, num_stages=4, encoder_channels=[8, 16, 16, 32],
             encoder_blocks=[1, 1, 1, 1], decoder_channels=[32, 16, 16, 12], decoder_blocks=[1, 1, 1, 1],
             block_type='basic', sparseconv_backend='spconv')


def coords(rows):
    return torch.tensor(rows, dtype=torch.int32)


def positions(rows):
    return torch.tensor(rows, dtype=torch.float32)


def random_cloud(num_voxels=2000, extent=40, seed=0):
    """~``num_voxels`` unique voxels split over 2 batch items: features (V, 3), coors (V, 4) int32 sorted by batch."""
    generator = torch.Generator().manual_seed(seed)
    xyz = torch.randint(0, extent, (num_voxels, 3), generator=generator)
    batch = torch.randint(0, 2, (num_voxels, 1), generator=generator)
    coors = torch.unique(torch.cat([batch, xyz], 1), dim=0).int()  # sorted: batch 0 first
    return torch.randn(coors.shape[0], 3, generator=generator), coors


def config(backbone_type='SPVCNNSpconvBackbone', **overrides):
    """A fresh copy of the small config."""
    return copy.deepcopy(dict(SMALL, type=backbone_type, **overrides))


def build(**overrides):
    init_default_scope('mmdet3d')
    return MODELS.build(config(**overrides))


# ---------------------------------------------------------------------------------------------- point ops


def test_lookup_finds_rows_and_reports_absent_and_duplicates():
    voxels = coords([[0, 1, 2, 3], [1, 1, 2, 3], [0, 0, 0, 0]])
    queries = coords([[0, 0, 0, 0], [1, 1, 2, 3], [0, 1, 2, 3], [1, 0, 0, 0], [0, -1, 0, 0]])
    assert lookup_voxels(voxels, queries).tolist() == [2, 1, 0, -1, -1]
    with pytest.raises(ValueError, match='duplicate'):
        lookup_voxels(coords([[0, 1, 1, 1], [0, 1, 1, 1]]), queries)


def test_point_at_voxel_centre_gets_that_voxel():
    features = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    # stride 1: centres at the integer coordinates
    voxels = coords([[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0]])
    out = voxel_to_point(features, voxels, positions([[0, 1, 1, 0], [0, 0, 0, 0]]), 1)
    assert torch.equal(out, features[[2, 0]])
    # stride 4: voxel (1, 0, 2) covers finest 4..7, 0..3, 8..11, centre (5.5, 1.5, 9.5)
    voxels = coords([[0, 1, 0, 2], [0, 2, 0, 2], [0, 1, 1, 2]])
    out = voxel_to_point(features, voxels, positions([[0, 5.5, 1.5, 9.5]]), 4)
    assert torch.allclose(out, features[:1])


def test_point_midway_between_two_voxels_gets_their_mean():
    features = torch.tensor([[2.0, -1.0], [6.0, 3.0]])
    voxels = coords([[0, 0, 0, 0], [0, 1, 0, 0]])  # stride 2: centres x = 0.5 and 2.5
    out = voxel_to_point(features, voxels, positions([[0, 1.5, 0.5, 0.5]]), 2)
    assert torch.allclose(out, torch.tensor([[4.0, 1.0]]))


def test_trilinear_weights_match_hand_computation():
    corners = [[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    features = torch.randn(8, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    voxels = coords([[0] + c for c in corners])
    fx, fy, fz = 0.25, 0.6, 0.1

    def weight(c):
        return (fx if c[0] else 1 - fx) * (fy if c[1] else 1 - fy) * (fz if c[2] else 1 - fz)

    expected = sum(weight(c) * features[i] for i, c in enumerate(corners))
    point = torch.tensor([[0, fx, fy, fz]], dtype=torch.float64)
    assert torch.allclose(voxel_to_point(features, voxels, point, 1)[0], expected)
    # missing neighbours: weight 0, the present ones renormalised (corners 0 and 5 only)
    present = [0, 5]
    expected = sum(weight(corners[i]) * features[i] for i in present) / sum(weight(corners[i]) for i in present)
    assert torch.allclose(voxel_to_point(features[present], voxels[present], point, 1)[0], expected)
    # the same at stride 2: positions scaled by 2 and shifted to the stride-2 centres (+0.5)
    point2 = torch.tensor([[0, 2 * fx + 0.5, 2 * fy + 0.5, 2 * fz + 0.5]], dtype=torch.float64)
    assert torch.allclose(voxel_to_point(features[present], voxels[present], point2, 2)[0], expected)


def test_point_without_neighbours_gets_zeros():
    out = voxel_to_point(torch.ones(1, 3), coords([[0, 0, 0, 0]]), positions([[0, 5, 5, 5]]), 1)
    assert torch.equal(out, torch.zeros(1, 3))


def test_point_to_voxel_averages_the_points_inside():
    voxels = coords([[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])  # stride 2
    points = positions([[0, 0, 0, 0], [0, 1, 1, 1], [0, 2, 0, 0], [0, 3, 1, 0], [0, 2, 1, 1], [0, 9, 9, 9]])
    features = torch.tensor([[1.0], [3.0], [10.0], [20.0], [60.0], [1000.0]])  # last point: its voxel is absent
    out = point_to_voxel(features, points, voxels, 2)
    assert torch.allclose(out, torch.tensor([[2.0], [30.0], [0.0]]))


def test_batch_items_never_mix():
    voxels = coords([[0, 3, 3, 3], [1, 3, 3, 3], [1, 4, 3, 3]])
    features = torch.tensor([[1.0], [100.0], [300.0]])
    out = voxel_to_point(features, voxels, positions([[0, 3.5, 3, 3], [1, 3.5, 3, 3]]), 1)
    assert torch.allclose(out, torch.tensor([[1.0], [200.0]]))  # batch 0 has no voxel at x = 4
    points = positions([[0, 3, 3, 3], [1, 3, 3, 3], [1, 3, 3, 3], [0, 4, 3, 3]])
    out = point_to_voxel(torch.tensor([[1.0], [2.0], [4.0], [8.0]]), points, voxels, 1)
    assert torch.allclose(out, torch.tensor([[1.0], [3.0], [0.0]]))  # (0, 4, 3, 3) has no voxel: ignored


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match='rows'):
        voxel_to_point(torch.ones(2, 3), coords([[0, 0, 0, 0]]), positions([[0, 0, 0, 0]]), 1)
    with pytest.raises(ValueError, match='rows'):
        point_to_voxel(torch.ones(2, 3), positions([[0, 0, 0, 0]]), coords([[0, 0, 0, 0]]), 1)
    with pytest.raises(ValueError, match=r'\(N, 4\)'):
        point_to_voxel(torch.ones(1, 3), positions([[0, 0, 0]]), coords([[0, 0, 0, 0]]), 1)


# ---------------------------------------------------------------------------------------------- backbone


def test_backbone_forward_backward_reaches_the_point_branch():
    torch.manual_seed(0)
    model = build().train()
    assert isinstance(model, SPVCNNSpconvBackbone)
    features, coors = random_cloud()
    assert 1800 < coors.shape[0] <= 2000 and set(coors[:, 0].tolist()) == {0, 1}
    out = model(features, coors)
    out.square().mean().backward()
    assert out.shape == (coors.shape[0], 12)
    assert torch.isfinite(out).all()
    for mlp in model.point_transforms:
        assert mlp[0].weight.grad is not None and mlp[0].weight.grad.abs().sum() > 0
    assert model.conv_input[0][0].weight.grad.abs().sum() > 0


def test_output_rows_follow_the_input_voxels():
    torch.manual_seed(0)
    model = build().eval()
    features, coors = random_cloud(500)
    order = torch.randperm(coors.shape[0])
    with torch.no_grad():
        out = model(features, coors)
        shuffled = model(features[order], coors[order])
    # spconv's CPU kernels sum in input order, so a reordering changes the last bits (seen: 5e-5); a mix-up of
    # rows would differ by the features' own size
    assert torch.allclose(shuffled, out[order], atol=1e-2 * float(out.abs().max()) + 1e-6)


def test_minkunet_config_swaps_by_type_only():
    init_default_scope('mmdet3d')
    features, coors = random_cloud(600)
    minkunet_cfg = config('MinkUNetSpconvBackbone')
    spvcnn_cfg = dict(minkunet_cfg, type='SPVCNNSpconvBackbone')
    spvcnn_model = MODELS.build(spvcnn_cfg)
    assert spvcnn_cfg['encoder_channels'] == SMALL['encoder_channels']  # building leaves the config intact
    minkunet = MODELS.build(minkunet_cfg)
    with torch.no_grad():
        assert minkunet(features, coors).shape == spvcnn_model(features, coors).shape == (coors.shape[0], 12)


@pytest.mark.parametrize('backbone_type, backend, alternative', [
    ('SPVCNNSpconvBackbone', 'torchsparse', "for torchsparse use type='SPVCNNTorchsparseBackbone'"),
    ('SPVCNNSpconvBackbone', 'auto', "for torchsparse use type='SPVCNNTorchsparseBackbone'"),
    ('MinkUNetSpconvBackbone', 'minkowski', "for torchsparse or minkowski use mmdet3d's type='MinkUNetBackbone'")])
def test_one_class_per_library_and_another_backend_is_refused_naming_its_class(backbone_type, backend, alternative):
    init_default_scope('mmdet3d')
    message = f"{backbone_type} runs on spconv only (sparseconv_backend='spconv'), got sparseconv_backend={backend!r}"
    with pytest.raises(ValueError, match=re.escape(f'{message}; {alternative}')):
        MODELS.build(config(backbone_type, sparseconv_backend=backend))
    assert MODELS.get('SPVCNNTorchsparseBackbone').__mro__[1].__name__ == 'SPVCNNBackbone'  # mmdet3d's own


def test_unsupported_settings_are_refused():
    with pytest.raises(ValueError, match='4'):
        build(num_stages=2, encoder_channels=[8, 16], encoder_blocks=[1, 1], decoder_channels=[16, 8],
              decoder_blocks=[1, 1])


def test_no_voxel_is_lost_at_the_upper_edge_of_the_grid():
    """spconv's stride-2 convolutions drop voxels beyond the grid; the padded grid keeps every coarse voxel."""
    model = build().eval()
    coors = coords([[0, 32, 0, 0], [0, 0, 16, 32], [1, 31, 31, 30], [1, 2, 0, 0]])  # extents 33 and 32: odd and even
    voxels = model.conv_input(model.sparse_input(torch.ones(4, 3), coors))
    for stride, encoder_layer in zip((2, 4, 8, 16), model.encoder):
        voxels = encoder_layer(voxels)
        expected = torch.cat([coors[:, :1], torch.div(coors[:, 1:], stride, rounding_mode='floor')], 1)
        assert sorted(map(tuple, voxels.indices.tolist())) == sorted(set(map(tuple, expected.tolist())))
