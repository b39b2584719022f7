"""One sparse convolution forward and backward on a device, checked against a dense convolution: the line that
``tools/setup.sh`` and ``tools/device_check.sh`` print to show that the install profile's spconv runs there, after
the line saying what is installed (:func:`stack_line`).

    python -m hicl.engine.device_selftest --device cpu|cuda

A SubMConv3d (3x3x3, 4 -> 8 channels) on 64 random active sites of a 6^3 grid is compared, at the active sites, with
``torch.nn.functional.conv3d`` of the same weights on the dense grid (zeros elsewhere): a submanifold convolution is
exactly that. Its input gradient must be finite and nonzero. Exit status 0 when it agrees, 1 when not.
"""
import argparse
import sys
from dataclasses import dataclass

import torch
import torch.nn.functional as F

GRID = 6
IN_CHANNELS, OUT_CHANNELS = 4, 8
ACTIVE_SITES = 64
# float32 sums of 27 x 4 products in another order: agreement well within this.
TOLERANCE = 1e-4


@dataclass
class SelfTestResult:
    """device: where it ran; sites: active sites; max_error: max |sparse - dense| at those sites;
    gradient_ok: the input gradient is finite and nonzero; ok: all of it within TOLERANCE."""
    device: str
    sites: int
    max_error: float
    gradient_ok: bool

    @property
    def ok(self):
        return self.max_error <= TOLERANCE and self.gradient_ok

    def line(self):
        verdict = 'ok' if self.ok else 'FAILED'
        return (f'SubMConv3d forward+backward on {self.device} {verdict} ({self.sites} active sites, max |sparse - '
                f'dense conv3d| = {self.max_error:.2e}, tolerance {TOLERANCE:.0e}; input gradient '
                f'{"finite and nonzero" if self.gradient_ok else "NOT finite or all zero"})')


def installed_gpus():
    """The names of the GPUs torch sees."""
    return [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]


def stack_line():
    """What is installed: torch and its CUDA build, the spconv distribution (CPU or CUDA build), mmcv, mmdet3d, and
    the GPUs torch sees."""
    from importlib.metadata import PackageNotFoundError, version
    sparse = []
    for name in ('spconv', 'spconv-cu126'):
        try:
            sparse.append(f'{name} {version(name)}')
        except PackageNotFoundError:
            pass
    return (f'torch {torch.__version__} (CUDA build {torch.version.cuda}), {", ".join(sparse) or "no spconv"}, '
            f'mmcv {version("mmcv")}, mmdet3d {version("mmdet3d")}; GPUs: {", ".join(installed_gpus()) or "none"}')


def dense_reference(coords, features, weight):
    """(S, C_out) dense conv3d of the (S, C_in) ``features`` at the (S, 3) int ``coords`` of a GRID^3 grid, read at
    those sites; ``weight`` in spconv's (C_out, 3, 3, 3, C_in) layout."""
    grid = torch.zeros(1, features.shape[1], GRID, GRID, GRID, dtype=features.dtype, device=features.device)
    grid[0, :, coords[:, 0], coords[:, 1], coords[:, 2]] = features.t()
    out = F.conv3d(grid, weight.permute(0, 4, 1, 2, 3), padding=1)
    return out[0, :, coords[:, 0], coords[:, 1], coords[:, 2]].t()


def sparse_conv_selftest(device='cpu', seed=0, reference=dense_reference):
    """Run the check on ``device`` ('cpu' or 'cuda'); returns a :class:`SelfTestResult`. ``reference``: the dense
    computation it is compared with (a test passes a wrong one to see the check fail)."""
    import spconv.pytorch as spconv

    from .. import compat
    compat.apply_all()  # spconv's CPU fixes (idempotent; done already when hicl was imported)
    generator = torch.Generator().manual_seed(seed)
    flat = torch.randperm(GRID ** 3, generator=generator)[:ACTIVE_SITES]
    coords = torch.stack([flat // GRID ** 2, flat // GRID % GRID, flat % GRID], 1).to(device)
    features = torch.randn(ACTIVE_SITES, IN_CHANNELS, generator=generator).to(device).requires_grad_(True)
    conv = spconv.SubMConv3d(IN_CHANNELS, OUT_CHANNELS, 3, bias=False, indice_key='selftest').to(device)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator))
    indices = torch.cat([torch.zeros(ACTIVE_SITES, 1, dtype=torch.int32, device=device), coords.int()], 1)
    out = conv(spconv.SparseConvTensor(features, indices, [GRID] * 3, batch_size=1))
    # spconv keeps the input's site order for a submanifold convolution
    error = (out.features - reference(coords, features.detach(), conv.weight.detach())).abs().max().item()
    out.features.square().sum().backward()
    gradient = features.grad
    gradient_ok = bool(torch.isfinite(gradient).all() and gradient.abs().sum() > 0)
    return SelfTestResult(str(device), ACTIVE_SITES, error, gradient_ok)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    parser.add_argument('--stack', action='store_true', help='first print what is installed (stack_line)')
    args = parser.parse_args(argv)
    if args.stack:
        print(f'installed: {stack_line()}')
    result = sparse_conv_selftest(args.device)
    print(result.line())
    return 0 if result.ok else 1


if __name__ == '__main__':
    sys.exit(main())
