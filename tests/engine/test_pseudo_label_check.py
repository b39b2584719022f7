"""Training refuses a pseudo-label cache made with other settings than the config's pseudo_labels, with the
message tools/make_pseudo_labels.py gives for the same cache."""
import re
import shutil

import pytest
from mmengine.runner import Runner

from hicl.pseudo_labels import StaleCacheError, label_dataset, load_scene_infos
from hicl.registry import PSEUDO_LABELLERS
from tests.conftest import TINY_PSEUDO_LABELS
from tests.test_training import tiny_config


def make_pseudo_labels_error(cfg, root):
    """The StaleCacheError message of tools/make_pseudo_labels.py's labelling for ``cfg``'s pseudo_labels."""
    with pytest.raises(StaleCacheError) as error:
        label_dataset(load_scene_infos(str(root), ['train']), str(root),
                      PSEUDO_LABELLERS.build(cfg.pseudo_labels.labeller), str(root / TINY_PSEUDO_LABELS),
                      cfg.pseudo_labels.label_size, progress=False)
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
