"""Training refuses a pseudo-label cache made with other settings than the config's pseudo_labels, with the
message tools/make_pseudo_labels.py gives for the same cache, and a cache that does not hold labels of the
training frames as they are now (re-exported or regenerated since they were labelled, or never labelled)."""
import re
import shutil

import numpy as np
import pytest
from mmengine.runner import Runner
from PIL import Image

from hicl.pseudo_labels import StaleCacheError, label_dataset, load_scene_infos
from hicl.registry import PSEUDO_LABELLERS
from tests.conftest import TINY_PSEUDO_LABELS
from tests.test_training import tiny_config


def make_pseudo_labels_error(cfg, root):
    """The StaleCacheError message of tools/make_pseudo_labels.py's labelling for ``cfg``'s pseudo_labels."""
    with pytest.raises(StaleCacheError) as error:
        label_dataset(load_scene_infos(str(root), ['train']), str(root),
                      PSEUDO_LABELLERS.build(cfg.pseudo_labels.labeller), str(root / TINY_PSEUDO_LABELS),
                      cfg.pseudo_labels.label_size, progress=False, label_set='scannet20')
    return str(error.value)


def training_error(cfg):
    with pytest.raises(StaleCacheError) as error:
        Runner.from_cfg(cfg).train()
    return str(error.value)


def seed_changed(cfg, root):
    cfg.pseudo_labels.labeller.seed = 1
    return 'labeller.seed: cache has 0, expected 1'


def label_size_changed(cfg, root):
    cfg.pseudo_labels.label_size = (320, 240)
    return r'label_size: cache has \[160, 120\], expected \[320, 240\]'


def manifest_deleted(cfg, root):
    (root / TINY_PSEUDO_LABELS / 'manifest.json').unlink()
    return 'holds no manifest.json but is not empty'


@pytest.mark.parametrize('make_stale', [seed_changed, label_size_changed, manifest_deleted])
def test_training_refuses_a_stale_cache_as_make_pseudo_labels_does(synthrooms_tiny, tmp_path, make_stale):
    root = tmp_path / 'data'
    shutil.copytree(synthrooms_tiny, root)
    cfg = tiny_config(root, tmp_path / 'work', max_epochs=1)  # it matches the cache (the other training tests)
    reason = make_stale(cfg, root)
    message = training_error(cfg)
    assert message == make_pseudo_labels_error(cfg, root)
    assert str(root / TINY_PSEUDO_LABELS) in message and 'make_pseudo_labels.py' in message
    assert re.search(reason, message)
    assert not (tmp_path / 'work' / 'epoch_1.pth').exists()


def test_a_config_without_pseudo_labels_settings_cannot_train_on_a_cache(synthrooms_tiny, tmp_path):
    cfg = tiny_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    cfg.pop('pseudo_labels')
    with pytest.raises(KeyError, match='the config has no pseudo_labels'):
        Runner.from_cfg(cfg).train()


def first_train_scene(root):
    return load_scene_infos(str(root), ['train'])[0]


def label_image_rewritten(root):
    """A frame's label-filt image with new content, as regenerating the rooms with another seed writes it."""
    scene = first_train_scene(root)
    frame = scene['frames'][1]
    path = root / frame['label_path']
    with Image.open(path) as image:
        labels = np.asarray(image)
    Image.fromarray(np.ascontiguousarray(labels[::-1])).save(path)
    return scene['scene_id'], frame['frame_id'], '1 frame whose input files changed'


def record_deleted(root):
    """The labels without the record of their inputs, as a cache made before the record existed."""
    scene_id = first_train_scene(root)['scene_id']
    (root / TINY_PSEUDO_LABELS / scene_id / 'frame_inputs.json').unlink()
    return scene_id, '0', '4 frames with labels but no record of the files they were labelled from'


def frame_never_labelled(root):
    scene = first_train_scene(root)
    (root / TINY_PSEUDO_LABELS / scene['scene_id'] / f'{scene["frames"][2]["frame_id"]}.png').unlink()
    return scene['scene_id'], scene['frames'][2]['frame_id'], '1 frame not in the cache'


@pytest.mark.parametrize('make_stale', [label_image_rewritten, record_deleted, frame_never_labelled])
def test_training_refuses_a_cache_of_other_frames_than_the_training_data(synthrooms_tiny, tmp_path, make_stale):
    root = tmp_path / 'data'
    shutil.copytree(synthrooms_tiny, root)  # keeps the files' modification times: the copy's cache is current
    cfg = tiny_config(root, tmp_path / 'work', max_epochs=1)
    scene_id, frame_id, reason = make_stale(root)
    message = training_error(cfg)
    assert message.startswith(f'pseudo-label cache {root / TINY_PSEUDO_LABELS} does not hold labels of the '
                              'current frames for ')
    assert f'{reason}' in message and f'{scene_id} frame {frame_id}' in message
    assert message.endswith('Fix: run tools/make_pseudo_labels.py CONFIG --overwrite (or without --overwrite: it '
                            'labels exactly these frames again).')
    assert not (tmp_path / 'work' / 'epoch_1.pth').exists()
