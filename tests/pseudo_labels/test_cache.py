"""The pseudo-label cache: exact round trip, atomic writes, manifest checks, clear errors."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from hicl.pseudo_labels.cache import PseudoLabelCache, PseudoLabelFileError, StaleCacheError, make_manifest


def manifest(**labeller_params):
    """A manifest of a simulated labeller with ``labeller_params``."""
    return make_manifest(dict(type='SimulatedVLMLabeller', seed=0, **labeller_params), ('wall', 'floor', 'chair'),
                         (8, 6))


@pytest.fixture
def cache(tmp_path):
    """A cache opened for writing with ``manifest()``."""
    cache = PseudoLabelCache(tmp_path / 'cache')
    cache.open_for_writing(manifest())
    return cache


def label_image(seed=0):
    """A (6, 8) uint8 image of ids 0..2 and 255."""
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([0, 1, 2, 255], np.uint8), size=(6, 8))


def test_round_trip_is_exact(cache):
    labels = label_image()
    cache.write('scene0000_00', '100', labels)
    assert cache.has('scene0000_00', '100') and not cache.has('scene0000_00', '200')
    read = cache.read('scene0000_00', '100')
    assert read.dtype == np.uint8 and np.array_equal(read, labels)
    assert os.path.isfile(os.path.join(cache.root, 'scene0000_00', '100.png'))


def test_manifest_on_disk_is_json_with_every_field(cache):
    with open(os.path.join(cache.root, 'manifest.json')) as f:
        on_disk = json.load(f)
    assert on_disk == dict(format_version=1, labeller=dict(type='SimulatedVLMLabeller', seed=0),
                           class_names=['wall', 'floor', 'chair'], label_size=[8, 6], anchor_sha256=None)


def test_write_leaves_no_temporary_files(cache):
    for frame in range(3):
        cache.write('scene0000_00', str(frame), label_image(frame))
    assert sorted(os.listdir(os.path.join(cache.root, 'scene0000_00'))) == ['0.png', '1.png', '2.png']
    assert sorted(os.listdir(cache.root)) == ['manifest.json', 'scene0000_00']


def test_failed_write_leaves_neither_temporary_nor_partial_file(cache, monkeypatch):
    def broken_save(self, fp, *args, **kwargs):
        fp.write(b'\x89PNG half')
        raise OSError('disk full')
    monkeypatch.setattr(Image.Image, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        cache.write('scene0000_00', '0', label_image())
    assert os.listdir(os.path.join(cache.root, 'scene0000_00')) == []


def test_write_refuses_non_uint8_images(cache):
    with pytest.raises(ValueError, match='uint8'):
        cache.write('scene0000_00', '0', label_image().astype(np.int64))


def test_reopening_with_the_same_manifest_keeps_frames(cache):
    cache.write('scene0000_00', '0', label_image())
    PseudoLabelCache(cache.root).open_for_writing(manifest())
    assert cache.has('scene0000_00', '0')


def test_mismatched_manifest_is_refused_naming_the_fields_and_the_fix(cache):
    with pytest.raises(StaleCacheError) as error:
        PseudoLabelCache(cache.root).open_for_writing(manifest(bleed_prob=0.5))
    message = str(error.value)
    assert 'labeller.bleed_prob: cache has <absent>, expected 0.5' in message
    assert 'delete' in message and cache.root in message and 'overwrite' in message


def test_fields_the_new_manifest_lacks_are_a_mismatch_too(tmp_path):
    PseudoLabelCache(tmp_path).open_for_writing(manifest(bleed_prob=0.5))
    with pytest.raises(StaleCacheError, match='labeller.bleed_prob: cache has 0.5, expected <absent>'):
        PseudoLabelCache(tmp_path).open_for_writing(manifest())


def test_corrupt_manifest_is_named(cache):
    with open(cache.manifest_path, 'w') as f:
        f.write('{"format_version": ')
    with pytest.raises(PseudoLabelFileError, match='manifest.json is corrupt'):
        cache.verify(manifest())


def test_overwrite_replaces_a_mismatched_cache(cache):
    cache.write('scene0000_00', '0', label_image())
    other = make_manifest(dict(type='SimulatedVLMLabeller', seed=1), ('wall', 'floor', 'chair'), (8, 6))
    PseudoLabelCache(cache.root).open_for_writing(other, overwrite=True)
    assert not cache.has('scene0000_00', '0')
    PseudoLabelCache(cache.root).verify(other)


def test_refuses_to_write_into_a_foreign_non_empty_folder(tmp_path):
    (tmp_path / 'notes.txt').write_text('not a cache')
    with pytest.raises(StaleCacheError, match='holds no manifest.json'):
        PseudoLabelCache(tmp_path).open_for_writing(manifest())


def test_verify_compares_every_field(cache):
    cache.verify(manifest())
    other_size = make_manifest(dict(type='SimulatedVLMLabeller', seed=0), ('wall', 'floor', 'chair'), (320, 240))
    with pytest.raises(StaleCacheError, match=r"label_size: cache has \[8, 6\], expected \[320, 240\]"):
        cache.verify(other_size)
    with pytest.raises(StaleCacheError, match='labeller.seed: cache has 0, expected 1'):
        cache.verify(make_manifest(dict(type='SimulatedVLMLabeller', seed=1), ('wall', 'floor', 'chair'), (8, 6)))


def test_verify_without_a_cache_says_how_to_make_it(tmp_path):
    with pytest.raises(PseudoLabelFileError, match='run tools/make_pseudo_labels.py CONFIG'):
        PseudoLabelCache(tmp_path / 'absent').verify(manifest())


def test_verify_refuses_labels_whose_manifest_was_deleted(cache):
    cache.write('scene0000_00', '0', label_image())
    os.remove(cache.manifest_path)
    with pytest.raises(StaleCacheError, match='holds no manifest.json but is not empty'):
        PseudoLabelCache(cache.root).verify(manifest())


def test_read_refuses_a_label_image_of_another_size(cache):
    cache.write('scene0000_00', '0', np.zeros((3, 4), np.uint8))
    with pytest.raises(PseudoLabelFileError, match=r'0\.png is 4x3 pixels, but .*manifest.json says 8x6'):
        cache.read('scene0000_00', '0')


def test_read_refuses_class_ids_beyond_the_manifests_classes(cache):
    labels = label_image()
    labels[0, :2] = [77, 3]
    cache.write('scene0000_00', '0', labels)
    with pytest.raises(PseudoLabelFileError, match=r'holds class ids \[3, 77\], but .* names 3 classes') as error:
        cache.read('scene0000_00', '0')
    assert cache.frame_path('scene0000_00', '0') in str(error.value)


def test_missing_frame_error_names_the_file_and_the_tool(cache):
    with pytest.raises(PseudoLabelFileError) as error:
        cache.read('scene0000_00', '7')
    assert cache.frame_path('scene0000_00', '7') in str(error.value)
    assert 'tools/make_pseudo_labels.py' in str(error.value)


def test_corrupt_frame_error_names_the_file(cache):
    path = cache.frame_path('scene0000_00', '0')
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(PseudoLabelFileError, match='corrupt') as error:
        cache.read('scene0000_00', '0')
    assert path in str(error.value)


def test_non_uint8_png_is_reported_corrupt(cache):
    path = cache.frame_path('scene0000_00', '0')
    os.makedirs(os.path.dirname(path))
    Image.fromarray(np.zeros((6, 8), np.uint16)).save(path)
    with pytest.raises(PseudoLabelFileError, match='mode I;16'):
        cache.read('scene0000_00', '0')
