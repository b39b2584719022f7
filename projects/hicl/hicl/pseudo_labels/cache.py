"""The pseudo-label cache: one lossless label image per frame plus a manifest saying what produced them and a
record per scene of the input files each frame was labelled from.

Layout::

    <root>/manifest.json                 what wrote the labels (see ``make_manifest``)
    <root>/<scene_id>/<frame_id>.png     (H, W) uint8 PNG, class ids 0..C-1, 255 = no label
    <root>/<scene_id>/frame_inputs.json  {frame_id: {input name: [size in bytes, mtime in ns]}} of the labeller
                                         inputs each frame was labelled from (``hicl.dataset_io.file_stamp``)

Every labeller (simulated or MaskCLIP) writes the same format, so training code never knows which one ran.
"""
import json
import os
import shutil

import numpy as np
from PIL import Image

from ..fileio import atomic_write

FORMAT_VERSION = 1
MANIFEST_NAME = 'manifest.json'
INPUTS_NAME = 'frame_inputs.json'
MAKE_HINT = 'run tools/make_pseudo_labels.py CONFIG'
_ABSENT = object()


class StaleCacheError(RuntimeError):
    """The cache on disk was made with other settings than the ones asked for, or from other input files than
    the frames have now."""


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


def manifest_differences(cached, expected):
    """List 'field: cache has X, expected Y' for every field in which ``cached`` and ``expected`` differ (a
    field only one of them has included)."""
    cached_flat, expected_flat = _flatten(_as_json(cached)), _flatten(_as_json(expected))
    keys = list(expected_flat) + [key for key in cached_flat if key not in expected_flat]
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
        self._manifest = None  # read on the first label image read

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
        """Create the cache with ``manifest``, or accept an existing one made with the same manifest
        (see :meth:`verify`).

        overwrite: delete an existing cache (a folder holding a manifest) first.
        """
        if overwrite and os.path.isfile(self.manifest_path):
            shutil.rmtree(self.root)
        if os.path.isdir(self.root) and os.listdir(self.root):
            self.verify(manifest)
            return
        os.makedirs(self.root, exist_ok=True)
        atomic_write(self.manifest_path, json.dumps(_as_json(manifest), indent=2))

    def verify(self, manifest):
        """Raise unless the cache on disk was made with exactly ``manifest``: the one rule of
        tools/make_pseudo_labels.py (before it adds labels) and of training (once at start-up).

        StaleCacheError: a field differs (each is named), or the folder holds files but no manifest (nothing
        says what made them); PseudoLabelFileError: there is no cache yet.
        """
        if not os.path.isfile(self.manifest_path):
            if os.path.isdir(self.root) and os.listdir(self.root):
                raise StaleCacheError(f'{self.root} holds no {MANIFEST_NAME} but is not empty: nothing says which '
                                      f'labeller made its files. Fix: delete {self.root} (or choose another '
                                      f'cache_root), then {MAKE_HINT}.')
            self.read_manifest()  # raises PseudoLabelFileError: no cache here
        differences = manifest_differences(self.read_manifest(), manifest)
        if differences:
            raise StaleCacheError(
                f'pseudo-label cache {self.root} was made with other settings than the config\'s pseudo_labels:\n  '
                + '\n  '.join(differences) + f'\nFix: {MAKE_HINT} --overwrite (or delete {self.root}).')

    def inputs_path(self, scene_id):
        """Path of the scene's record of the inputs its frames were labelled from."""
        return os.path.join(self.root, str(scene_id), INPUTS_NAME)

    def read_inputs(self, scene_id):
        """{frame_id: {input name: [size in bytes, mtime in ns] or None}} of the scene's labelled frames, {} when
        none is recorded; PseudoLabelFileError naming the file when it is corrupt."""
        path = self.inputs_path(scene_id)
        if not os.path.isfile(path):
            return {}
        try:
            with open(path) as f:
                return json.load(f)
        except ValueError as err:
            raise PseudoLabelFileError(f'{path} is corrupt ({err}): delete it and {MAKE_HINT} (it re-labels the '
                                       'scene\'s frames)') from err

    def record_inputs(self, scene_id, stamps):
        """Add {frame_id: {input name: [size, mtime_ns]}} to the scene's record of inputs (rewritten atomically;
        frames recorded before keep their entries unless ``stamps`` names them)."""
        record = dict(self.read_inputs(scene_id), **{str(frame_id): stamp for frame_id, stamp in stamps.items()})
        payload = json.dumps(record, sort_keys=True).encode()
        atomic_write(self.inputs_path(scene_id), lambda f: f.write(payload))

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
        atomic_write(path, lambda f: Image.fromarray(label_image).save(f, format='PNG'))

    def read(self, scene_id, frame_id):
        """The (H, W) uint8 label image of a frame (255 = no label), checked against the manifest: its size is
        the manifest's label_size and its ids are < the number of classes, else PseudoLabelFileError."""
        path = self.frame_path(scene_id, frame_id)
        if not os.path.isfile(path):
            raise PseudoLabelFileError(f'pseudo-label image {path} missing: {MAKE_HINT}')
        try:
            with Image.open(path) as image:
                image.load()
                if image.mode != 'L':
                    raise ValueError(f'mode {image.mode}, expected L (uint8)')
                labels = np.asarray(image)
        except (OSError, ValueError) as err:
            raise PseudoLabelFileError(f'pseudo-label image {path} is corrupt ({err}): delete it and '
                                       f'{MAKE_HINT} (it resumes)') from err
        self._check_label_image(labels, path)
        return labels

    def _check_label_image(self, labels, path):
        """PseudoLabelFileError naming ``path`` when ``labels`` has another size than the manifest's label_size
        or holds class ids >= the manifest's number of classes (other than 255)."""
        if self._manifest is None:
            self._manifest = self.read_manifest()
        width, height = self._manifest['label_size']
        num_classes = len(self._manifest['class_names'])
        fix = f'delete it and {MAKE_HINT} (it resumes)'
        if labels.shape != (height, width):
            raise PseudoLabelFileError(f'pseudo-label image {path} is {labels.shape[1]}x{labels.shape[0]} pixels, '
                                       f'but {self.manifest_path} says {width}x{height}: {fix}')
        bad = labels[(labels >= num_classes) & (labels != 255)]
        if bad.size:
            raise PseudoLabelFileError(f'pseudo-label image {path} holds class ids {np.unique(bad)[:5].tolist()}, '
                                       f'but {self.manifest_path} names {num_classes} classes (ids 0..'
                                       f'{num_classes - 1}, 255 = none): {fix}')
