"""Each runtime fix of hicl.compat, tested on the failure it fixes."""
import os
import pickle

import numpy as np
import pytest
import torch

import hicl  # noqa: F401  (applies the fixes)
from hicl import compat

cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason='the fixes matter on CPU-only machines')


@cpu_only
def test_spconv_backward_runs_on_cpu():
    import spconv.pytorch as spconv
    assert all(__import__(m, fromlist=['x']).get_current_stream() == 0 for m in compat.SPCONV_STREAM_MODULES)
    coords = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 1, 1]], dtype=torch.int32)
    feats = torch.randn(3, 4, requires_grad=True)
    conv = spconv.SubMConv3d(4, 8, 3, indice_key='k')
    out = conv(spconv.SparseConvTensor(feats, coords, [2, 2, 2], 1))
    out.features.sum().backward()  # raised "Found no NVIDIA driver" before the fix
    assert feats.grad.shape == (3, 4) and conv.weight.grad is not None


def test_a_cuda_builds_convolution_runs_on_cpu_tensors_with_the_native_algorithm():
    """spconv's CUDA builds give modules the implicit-GEMM algorithm, which has no CPU kernels; the fix runs such a
    module on CPU tensors with the native one. (A CPU-only build makes every module native: the test sets the
    CUDA build's algorithm on one by hand. With spconv-cu126 installed the same module fails without the fix with
    "implicit gemm only support cuda".)"""
    import spconv.pytorch as spconv
    from spconv.core import ConvAlgo
    from spconv.pytorch.conv import SparseConvolution
    coords = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 1, 1], [0, 2, 1, 1]], dtype=torch.int32)
    feats = torch.randn(4, 4, generator=torch.Generator().manual_seed(0))
    native = spconv.SubMConv3d(4, 8, 3, indice_key='native')
    gemm = spconv.SubMConv3d(4, 8, 3, indice_key='gemm')
    gemm.load_state_dict(native.state_dict())
    gemm.algo = ConvAlgo.MaskImplicitGemm  # a CUDA build's default
    expected = native(spconv.SparseConvTensor(feats, coords, [3, 3, 3], 1)).features
    with pytest.raises(Exception):  # stock spconv on CPU tensors
        SparseConvolution.forward.__wrapped__(gemm, spconv.SparseConvTensor(feats, coords, [3, 3, 3], 1))
    out = gemm(spconv.SparseConvTensor(feats, coords, [3, 3, 3], 1))
    torch.testing.assert_close(out.features, expected)
    assert gemm.algo == ConvAlgo.MaskImplicitGemm  # the module keeps its own algorithm for CUDA tensors


@cpu_only
def test_minkunet_voxelize_stays_on_cpu():
    from mmdet3d.models.data_preprocessors import Det3DDataPreprocessor
    from mmdet3d.structures import Det3DDataSample, PointData
    pre = Det3DDataPreprocessor(voxel=True, voxel_type='minkunet', batch_first=True, max_voxels=None,
                                voxel_layer=dict(max_num_points=-1, point_cloud_range=[-100, -100, -20, 100, 100, 20],
                                                 voxel_size=[0.05, 0.05, 0.05], max_voxels=(-1, -1)))
    points = torch.tensor([[0.0, 0.0, 0.0, 1], [0.01, 0.0, 0.0, 2], [0.5, 0.0, 0.0, 3]])
    sample = Det3DDataSample(gt_pts_seg=PointData())
    voxels = pre.voxelize([points], [sample])
    assert voxels['voxels'].shape == (2, 4) and voxels['coors'].device.type == 'cpu'
    assert sample.point2voxel_map.tolist() in ([0, 0, 1], [1, 1, 0])


def runner_like_checkpoint():
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    return dict(meta=dict(epoch=3, cfg=ConfigDict(a=1), seed=np.int64(7), hist=np.arange(3)),
                state_dict=dict(w=torch.ones(2)), message_hub=dict(log_scalars=dict(loss=buffer)))


def test_mmengine_checkpoint_loads_under_restricted_unpickler(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    path = tmp_path / 'epoch_3.pth'
    torch.save(runner_like_checkpoint(), path)
    with pytest.raises(pickle.UnpicklingError):  # what torch's default weights_only loading does
        torch.load(path)
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert loaded['meta']['epoch'] == 3 and loaded['meta']['hist'].tolist() == [0, 1, 2]
    assert loaded['message_hub']['log_scalars']['loss'].current() == 1.5


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


class GetattrTrick:
    """getattr on an allowed global to reach something else, e.g. a classmethod."""

    def __reduce__(self):
        import collections
        return getattr, (collections.OrderedDict, 'fromkeys')


@pytest.mark.parametrize('payload', [RunsCode, GetattrTrick])
def test_malicious_checkpoint_is_refused(tmp_path, payload):
    from mmengine.runner.checkpoint import _load_checkpoint
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, evil=payload(marker) if payload is RunsCode else payload()), path)
    with pytest.raises(compat.UnsafeCheckpointError, match='refusing to load global|only HistoryBuffer'):
        _load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


@cpu_only
def test_mmengine_pytorch_launcher_initialises_gloo_without_cuda():
    import subprocess
    import sys
    code = ('import hicl, torch.distributed as dist; from mmengine.dist import init_dist; '
            "init_dist('pytorch', backend='gloo'); print('world', dist.get_world_size())")
    env = dict(os.environ, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1', MASTER_PORT='29531')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]  # "Found no NVIDIA driver" before the fix
    assert 'world 1' in out.stdout
