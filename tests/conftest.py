"""Shared fixtures: the real sample folder and a tiny SynthRooms dataset with noise-free pseudo-labels."""
import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / 'shared' / 'data'
TINY_PSEUDO_LABELS = 'pseudo_labels/exact'
TINY_LABEL_SIZE = (160, 120)
# The simulated labeller with every kind of noise off: its labels are the true 2D labels.
EXACT_LABELLER = dict(token_size=1, upsample='nearest', scene_confusion_prob=0, view_confusion_prob=0,
                      bleed_prob=0, token_confusion_prob=0, token_noise_prob=0, look_confusion_prob=0)


# In CI (CI=true) every test runs: a missing sample folder or browser fails the test that needs it.
IN_CI = os.environ.get('CI', '').lower() in ('true', '1', 'yes')


def pytest_report_header(config):
    if IN_CI:
        return (f'CI=true: tests whose real sample data ({SHARED_DATA}) or browser is missing FAIL instead of '
                'skipping')
    return f'tests whose real sample data ({SHARED_DATA}) or browser is missing skip with the reason (CI=true: fail)'


def unavailable(reason: str):
    """Stop the current test because something it needs is missing: a skip with ``reason`` on a user's machine, a
    failure with ``reason`` in CI (CI=true), where a skipped real-data test would hide a regression."""
    if IN_CI:
        pytest.fail(f'{reason} [CI=true: a test whose data or browser is missing fails instead of skipping]',
                    pytrace=False)
    pytest.skip(reason)


def shared_path(relative: str) -> Path:
    """``<repo>/../shared/data/<relative>``, or :func:`unavailable` naming it when it does not exist."""
    path = SHARED_DATA / relative
    if not path.exists():
        unavailable(f'real sample data not found: {path} (the sample folder ../shared/data beside the clone)')
    return path


@pytest.fixture
def shared_data():
    """``<repo>/../shared/data`` (real samples); when absent, skips (a user's fresh clone) or fails (CI=true)."""
    return shared_path('.').resolve()


@pytest.fixture
def one_thread():
    """Run the net in this process with one thread: spconv's multi-threaded CPU kernels sum in a varying order, so
    two passes of the same checkpoint can differ on near-tie points (see tests/test_training.py); single-threaded
    they agree."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def exact_labeller():
    """The simulated labeller with every kind of noise off: its labels are the true 2D labels."""
    from hicl.pseudo_labels import SimulatedVLMLabeller
    return SimulatedVLMLabeller(**EXACT_LABELLER)


@pytest.fixture(scope='session')
def synthrooms_tiny(tmp_path_factory):
    """2 train + 1 val SynthRooms scenes (10 cm vertex spacing, 4 small frames each), converted, with anchors
    and exact pixel labels in ``pseudo_labels/exact``. Returns the data root."""
    from hicl.pseudo_labels import label_dataset, load_scene_infos
    from hicl.synthrooms.prepare import prepare_synthrooms
    root = tmp_path_factory.mktemp('synthrooms_tiny')
    prepare_synthrooms(str(root), num_train=2, num_val=1, num_test=1, frames_per_scene=4, progress=False,
                       vertex_spacing=0.1, color_size=(320, 240), depth_size=(160, 120))
    label_dataset(load_scene_infos(str(root), ['train', 'val']), str(root), exact_labeller(),
                  str(root / TINY_PSEUDO_LABELS), label_size=TINY_LABEL_SIZE, progress=False, label_set='scannet20')
    return root
