"""MinkUNetSpconvBackbone: mmdet3d's MinkUNet on spconv with a padded grid and copied channel lists, as a class of
its own; mmdet3d's MinkUNetBackbone stays exactly as mmdet3d ships it."""
import copy
import subprocess
import sys

import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

import hicl  # noqa: F401  (registration, spconv CPU fixes)

SMALL = dict(in_channels=1, base_channels=4, num_stages=2, encoder_channels=[4, 8], encoder_blocks=[1, 1],
             decoder_channels=[8, 4], decoder_blocks=[1, 1])


def small(backbone_type='MinkUNetSpconvBackbone', **overrides):
    """A fresh 2-stage config (4 channels, one block per stage; fresh lists: mmdet3d's class inserts into them);
    mmdet3d's class needs sparseconv_backend='spconv'."""
    extra = dict(sparseconv_backend='spconv') if backbone_type == 'MinkUNetBackbone' else {}
    return copy.deepcopy(dict(SMALL, type=backbone_type, **extra, **overrides))


def test_the_voxels_of_an_odd_upper_edge_are_kept():
    init_default_scope('mmdet3d')
    # (batch, x, y, z): the grid's max + 1 is 5. Unpadded (mmdet3d), the first stride-2 convolution's grid is
    # floor((5 - 2) / 2) + 1 = 2 cells a side, and voxel (4, 4, 4) -> (2, 2, 2) falls outside it.
    coors = torch.tensor([[0, 0, 0, 0], [0, 4, 4, 4]], dtype=torch.int32)
    for backbone_type, kept in (('MinkUNetSpconvBackbone', 2), ('MinkUNetBackbone', 1)):
        backbone = MODELS.build(small(backbone_type)).eval()
        active_sites = []
        backbone.encoder[0].register_forward_hook(lambda module, inputs, output: active_sites.append(
            len(output.indices)))
        with torch.no_grad():
            features = backbone(torch.ones(2, 1), coors)
        assert active_sites == [kept] and features.shape == (2, 4), backbone_type


def test_a_second_build_from_the_same_config_is_the_same_net():
    init_default_scope('mmdet3d')
    cfg = small()
    first, second = MODELS.build(cfg), MODELS.build(cfg)  # mmengine copies the dict, not the lists in it
    assert cfg['encoder_channels'] == [4, 8] and cfg['decoder_channels'] == [8, 4]
    assert [p.shape for p in first.parameters()] == [p.shape for p in second.parameters()]
    stock = small('MinkUNetBackbone')
    MODELS.build(stock)
    assert stock['encoder_channels'] == [4, 4, 8]  # what mmdet3d's class does to a config's list


def test_it_is_mmdet3ds_net_where_mmdet3d_is_right():
    """Same modules, checkpoint keys and outputs as mmdet3d's class on a grid whose sides are already a multiple of
    the coarsest stride (there the padding changes nothing)."""
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    ours = MODELS.build(small()).eval()
    stock = MODELS.build(small('MinkUNetBackbone')).eval()
    assert list(ours.state_dict()) == list(stock.state_dict())
    stock.load_state_dict(ours.state_dict())
    generator = torch.Generator().manual_seed(1)
    xyz = torch.randint(0, 8, (60, 3), generator=generator)
    coors = torch.unique(torch.cat([torch.zeros(60, 1, dtype=torch.long), xyz], 1), dim=0)
    coors = torch.cat([coors, torch.tensor([[0, 7, 7, 7]])]).unique(dim=0).int()  # extent 8: a multiple of 4
    features = torch.randn(len(coors), 1, generator=generator)
    with torch.no_grad():
        torch.testing.assert_close(ours(features, coors), stock(features, coors))


def test_importing_hicl_leaves_mmdet3ds_minkunet_as_it_ships():
    """The class's methods are the function objects of mmdet3d's own module, before and after hicl is imported
    and every shipped model config is built."""
    code = """
import glob
from mmdet3d.models.backbones import MinkUNetBackbone, minkunet_backbone
before = {name: MinkUNetBackbone.__dict__[name] for name in ('__init__', 'forward')}
import hicl
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmdet3d.registry import MODELS
init_default_scope('mmdet3d')
for path in sorted(glob.glob('configs/_base_/models/*.py')):
    backbone = Config.fromfile(path).model.backbone
    MODELS.build(backbone)
after = {name: MinkUNetBackbone.__dict__[name] for name in ('__init__', 'forward')}
assert before == after, 'changed: ' + str([n for n in before if before[n] is not after[n]])
for function in after.values():
    assert function.__module__ == minkunet_backbone.__name__ and not hasattr(function, '__wrapped__'), function
    assert function.__code__.co_filename == minkunet_backbone.__file__, function.__code__.co_filename
print('untouched')
"""
    from tests.conftest import REPO
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == 'untouched', out.stderr[-2000:]
