"""The pseudo-label cache: one lossless label image per frame plus a manifest saying what produced them.

Layout::

    <root>/manifest.json                 what wrote the labels (see ``make_manifest``)
    <root>/<scene_id>/<frame_id>.png     (H, W) uint8 PNG, class ids 0..C-1, 255 = no label

Every labeller (simulated or MaskCLIP) writes the same format, so training code never knows which one ran.
"""
import json
import os
import shutil
import tempfile

import numpy as np
from PIL import Image

FORMAT_VERSION = 1
MANIFEST_NAME = 'manifest.json'
MAKE_HINT = 'run tools/make_pseudo_labels.py CONFIG'
_ABSENT = object()


class StaleCacheError(RuntimeError):
    """The cache on disk was made with other settings than the ones asked for."""


class PseudoLabelFileError(FileNotFoundError):
    """A cache file (manifest or label image) is missing or unreadable."""


def make_manifest(labeller_config, class_names, label_size, anchor_sha256=None):
    """Build the manifest dict of a cache.

    labeller_config: dict with 'type' and every parameter of the labeller; class_names: C names;
    label_size: (W, H) of the label images in pixels; anchor_sha256: hash of the text anchors, or None when
    the labeller uses none (simulated).
    """
    manifest = dict(format_version=FORMAT_VERSION, labeller=dict(labeller_config),
                    class_names=list(class_names), label_size=[int(v) for v in label_size],
                    anchor_sha256=anchor_sha256)
    return _as_json(manifest)


def _as_json(value):
    """Return ``value`` as it reads back from JSON (tuples become lists), so manifests compare equal."""
    return json.loads(json.dumps(value))


def _flatten(value, prefix=''):
    """Flatten nested dicts to {'a.b': leaf} so differences can be named field by field."""
    if not isinstance(value, dict):
        return {prefix: value}
    flat = {}
    for key, item in value.items():
        flat.update(_flatten(item, f'{prefix}.{key}' if prefix else key))
    return flat


def manifest_differences(cached, expected, strict=False):
    """List 'field: cache has X, expected Y' for every field of ``expected`` that ``cached`` does not match;
    with ``strict`` also the fields only ``cached`` has."""
    cached_flat, expected_flat = _flatten(_as_json(cached)), _flatten(_as_json(expected))
    keys = list(expected_flat) + ([key for key in cached_flat if key not in expected_flat] if strict else [])
    return [f'{key}: cache has {_describe(cached_flat, key)}, expected {_describe(expected_flat, key)}'
            for key in keys if cached_flat.get(key, _ABSENT) != expected_flat.get(key, _ABSENT)]


def _describe(flat, key):
    """repr of a flattened field, or '<absent>'."""
    return repr(flat[key]) if key in flat else '<absent>'


class PseudoLabelCache:
    """Reads and writes the per-frame pseudo-label images under ``root``."""

    def __init__(self, root):
        self.root = os.fspath(root)
        self.manifest_path = os.path.join(self.root, MANIFEST_NAME)

    def frame_path(self, scene_id, frame_id):
        """Path of the label image of one frame."""
        return os.path.join(self.root, str(scene_id), f'{frame_id}.png')

    def read_manifest(self):
        """The manifest dict on disk; PseudoLabelFileError when there is none."""
        if not os.path.isfile(self.manifest_path):
            raise PseudoLabelFileError(f'no pseudo-label cache at {self.root} ({self.manifest_path} missing): '
                                       f'{MAKE_HINT}')
        try:
            with open(self.manifest_path) as f:
                return json.load(f)
        except ValueError as err:
            raise PseudoLabelFileError(f'{self.manifest_path} is corrupt ({err}): delete {self.root} and '
                                       f'{MAKE_HINT}') from err

    def open_for_writing(self, manifest, overwrite=False):
        """Create the cache with ``manifest``, or accept an existing one with the same manifest.

        overwrite: delete an existing cache (a folder holding a manifest) first. Raises StaleCacheError when an
        existing cache was made with a different manifest.
        """
        if overwrite and os.path.isfile(self.manifest_path):
            shutil.rmtree(self.root)
        if os.path.isfile(self.manifest_path):
            self._refuse_mismatch(manifest, 'pass overwrite (--overwrite) to relabel', strict=True)
            return
        if os.path.isdir(self.root) and os.listdir(self.root):
            raise StaleCacheError(f'{self.root} is not empty but holds no {MANIFEST_NAME}: refusing to write a '
                                  f'pseudo-label cache into it; choose another cache_root or empty it')
        os.makedirs(self.root, exist_ok=True)
        self._write_atomic(self.manifest_path, lambda f: f.write(json.dumps(_as_json(manifest), indent=2).encode()))

    def check(self, expected_manifest):
        """For readers: raise unless the cache exists and matches every field given in ``expected_manifest``.

        Fields absent from ``expected_manifest`` are not checked (a dataset may only know the class names);
        the format version always is.
        """
        expected = {'format_version': FORMAT_VERSION, **expected_manifest}
        self._refuse_mismatch(expected, MAKE_HINT + ' --overwrite')

    def _refuse_mismatch(self, expected, fix, strict=False):
        """Raise StaleCacheError naming each field the manifest on disk differs in (see manifest_differences)."""
        differences = manifest_differences(self.read_manifest(), expected, strict)
        if differences:
            raise StaleCacheError(
                f'pseudo-label cache {self.root} was made with other settings:\n  ' + '\n  '.join(differences)
                + f'\nFix: delete {self.root}, or {fix}.')

    def has(self, scene_id, frame_id):
        """Whether the label image of a frame exists."""
        return os.path.isfile(self.frame_path(scene_id, frame_id))

    def write(self, scene_id, frame_id, label_image):
        """Store an (H, W) uint8 label image atomically (temporary file in the same folder, then os.replace)."""
        label_image = np.asarray(label_image)
        if label_image.ndim != 2 or label_image.dtype != np.uint8:
            raise ValueError(f'label image must be (H, W) uint8, got {label_image.shape} {label_image.dtype}')
        path = self.frame_path(scene_id, frame_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._write_atomic(path, lambda f: Image.fromarray(label_image).save(f, format='PNG'))

    @staticmethod
    def _write_atomic(path, write_fn):
        """Call write_fn(binary file) on a temporary file next to ``path``, then move it into place."""
        fd, tmp_path = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.tmp-', suffix='.part')
        try:
            with os.fdopen(fd, 'wb') as f:
                write_fn(f)
            os.replace(tmp_path, path)
        except BaseException:
            os.unlink(tmp_path)
            raise

    def read(self, scene_id, frame_id):
        """The (H, W) uint8 label image of a frame (255 = no label)."""
        path = self.frame_path(scene_id, frame_id)
        if not os.path.isfile(path):
            raise PseudoLabelFileError(f'pseudo-label image {path} missing: {MAKE_HINT}')
        try:
            with Image.open(path) as image:
                image.load()
                if image.mode != 'L':
                    raise ValueError(f'mode {image.mode}, expected L (uint8)')
                return np.asarray(image)
        except (OSError, ValueError) as err:
            raise PseudoLabelFileError(f'pseudo-label image {path} is corrupt ({err}): delete it and '
                                       f'{MAKE_HINT} (it resumes)') from err
