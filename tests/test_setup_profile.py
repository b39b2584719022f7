"""tools/setup.sh's install profiles: which one a machine gets (a fake nvidia-smi on PATH stands for a GPU), that
the CUDA profile's pins exist on the package index as pinned, that both profiles pin the same packages apart from
their device-specific ones, and the device self-test setup ends with (against a dense convolution)."""
import json
import os
import re
import subprocess
import sys

import pytest
import torch

from hicl.engine.device_selftest import dense_reference, sparse_conv_selftest
from tests.conftest import REPO, unavailable

SETUP = REPO / 'tools' / 'setup.sh'
REQUIREMENTS = REPO / 'requirements'
# The pins a profile exists for; every other pin is shared (requirements/constraints.txt).
DEVICE_PINS = {'cpu': {'torch', 'torchvision', 'spconv', 'cumm'},
               'cuda': {'torch', 'torchvision', 'spconv-cu126', 'cumm-cu126'}}


def print_profile(tmp_path, nvidia_smi=None, device=None):
    """(exit status, stdout + stderr) of ``setup.sh --print-profile`` with ``nvidia_smi`` (a shell script body, or
    None for no nvidia-smi at all) first on PATH and HICL_DEVICE=``device`` (None: unset)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    if nvidia_smi is not None:
        (bin_dir / 'nvidia-smi').write_text(f'#!/bin/sh\n{nvidia_smi}\n')
        (bin_dir / 'nvidia-smi').chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != 'HICL_DEVICE'}
    # PATH: the fake first, then only the system folders (a real nvidia-smi elsewhere on PATH must not count)
    env['PATH'] = f'{bin_dir}:/usr/bin:/bin'
    if device is not None:
        env['HICL_DEVICE'] = device
    run = subprocess.run(['bash', str(SETUP), '--print-profile'], env=env, capture_output=True, text=True,
                         timeout=60)
    return run.returncode, run.stdout + run.stderr


GPU_LIST = 'echo "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-0a1b2c3d)"'


@pytest.mark.parametrize('nvidia_smi, device, profile, reason', [
    (GPU_LIST, None, 'cuda', 'nvidia-smi -L lists 1 GPU(s)'),
    (GPU_LIST + '\n' + GPU_LIST.replace('GPU 0', 'GPU 1'), 'auto', 'cuda', 'nvidia-smi -L lists 2 GPU(s)'),
    ('echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver" >&2; exit 9', None, 'cpu',
     'no GPU listed'),
    ('exit 0', None, 'cpu', 'no GPU listed'),  # a driver that lists nothing
    (None, None, 'cpu', 'no GPU listed'),  # no nvidia-smi at all
    (GPU_LIST, 'cpu', 'cpu', 'HICL_DEVICE=cpu'),
    (None, 'cuda', 'cuda', 'HICL_DEVICE=cuda'),
])
def test_the_profile_follows_the_gpus_nvidia_smi_lists_unless_hicl_device_names_one(
        tmp_path, nvidia_smi, device, profile, reason):
    status, out = print_profile(tmp_path, nvidia_smi, device)
    assert status == 0, out
    assert out.splitlines()[0].startswith(f'profile: {profile} ({reason}')
    assert f'constraints: requirements/profile-{profile}.txt' in out


def test_an_unknown_hicl_device_stops_with_the_choices(tmp_path):
    status, out = print_profile(tmp_path, GPU_LIST, 'tpu')
    assert status == 2 and 'HICL_DEVICE=tpu: choose cpu, cuda or auto' in out


def pinned(path):
    """{package: specifier} of a constraints file and the files it includes with ``-c``."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split('#')[0].strip()
        if line.startswith('-c '):
            pins.update(pinned(path.parent / line[3:].strip()))
        elif line:
            name, specifier = re.match(r'([A-Za-z0-9_.-]+)\s*(\S+)', line).groups()
            pins[name.lower()] = specifier
    return pins


def profile_pins(profile):
    return pinned(REQUIREMENTS / f'profile-{profile}.txt')


def test_both_profiles_pin_the_same_packages_apart_from_their_device_pins():
    cpu, cuda = profile_pins('cpu'), profile_pins('cuda')
    assert set(cpu) - set(cuda) == DEVICE_PINS['cpu'] - DEVICE_PINS['cuda']
    assert set(cuda) - set(cpu) == DEVICE_PINS['cuda'] - DEVICE_PINS['cpu']
    assert {name: cpu[name] for name in cpu if name not in DEVICE_PINS['cpu']} == \
        {name: cuda[name] for name in cuda if name not in DEVICE_PINS['cuda']}
    assert cuda['torch'] == '==2.10.0' and cpu['torch'] == '==2.14.1'  # docs/stack.md gives the reasons


def test_the_cuda_profile_pins_resolve_on_the_package_index(tmp_path):
    """pip's resolver (metadata only: nothing is downloaded but the wheels' METADATA) finds every device pin of the
    CUDA profile for this Python, so a typo in a pin cannot reach a user with a GPU."""
    report = tmp_path / 'report.json'
    pins = sorted(DEVICE_PINS['cuda'])
    command = [sys.executable, '-m', 'pip', 'install', '--dry-run', '--no-deps', '--ignore-installed', '--quiet',
               '--report', str(report), '-c', str(REQUIREMENTS / 'profile-cuda.txt'), *pins]
    for _ in range(2):  # one retry: a network hiccup is not a wrong pin
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if run.returncode == 0:
            break
    if run.returncode != 0 and re.search(r'(?i)connection|network|resolve host|timed out|NewConnectionError',
                                         run.stderr):
        unavailable(f'the package index cannot be reached: {run.stderr.strip().splitlines()[-1]}')
    assert run.returncode == 0, run.stderr
    resolved = {item['metadata']['name'].lower(): item['metadata']['version']
                for item in json.loads(report.read_text())['install']}
    wanted = profile_pins('cuda')
    assert {name: f'=={version}' for name, version in resolved.items()} == {name: wanted[name] for name in pins}


def test_the_device_self_test_agrees_with_a_dense_convolution_and_fails_on_a_wrong_one():
    result = sparse_conv_selftest('cpu')
    assert result.ok and result.sites == 64 and result.max_error < 1e-4, result.line()
    assert 'SubMConv3d forward+backward on cpu ok' in result.line()

    def flipped_kernel(coords, features, weight):  # the kernel read the other way round: a real layout mistake
        return dense_reference(coords, features, torch.flip(weight, dims=(1, 2, 3)))
    wrong = sparse_conv_selftest('cpu', reference=flipped_kernel)
    assert not wrong.ok and 'FAILED' in wrong.line()
