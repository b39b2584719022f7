"""Label every frame of a dataset into the pseudo-label cache (the logic behind tools/make_pseudo_labels.py).

A labeller (simulated or MaskCLIP), built by ``hicl.registry.PSEUDO_LABELLERS.build(cfg)``, is a
:class:`~hicl.pseudo_labels.labeller.PseudoLabeller`: that class states what this module uses of it.
"""
import os

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..dataset_io import file_stamp, info_file_name
from ..label_sets import IMAGE_IGNORE, get_label_set, image_label_lut, map_with_lut
from ..metrics import confusion_matrix, iou_per_class, mean_iou
from ..safe_pickle import load_info_file
from .cache import MAKE_HINT, PseudoLabelCache, StaleCacheError, make_manifest
from .labeller import PseudoLabeller

DEFAULT_LABEL_SIZE = (320, 240)  # (w, h): the 640x480 colour frame halved
# Per-frame labeller input -> (frame info key holding its path, what the file is).
FRAME_INPUTS = dict(
    true_labels=('label_path', "ScanNet's label-filt 2D labels (uint16 PNG of raw ids)"),
    instances=('instance_path', "ScanNet's instance-filt 2D instance masks (uint16 PNG)"),
    color=('color_path', 'the colour frame (RGB image, read at its own size)'),
)
# Why the cached labels of a frame cannot be used (``frame_staleness``), in the words of StaleCacheError.
STALE_REASONS = dict(
    changed='whose input files changed (size or modification time) since they were labelled',
    unrecorded='with labels but no record of the files they were labelled from (a cache made by an older version)',
    missing='not in the cache')
STALE_EXAMPLES = 5  # frames named per reason in the error


def load_scene_infos(data_root, splits):
    """The scene infos (``data_list`` entries) of <data_root>/hicl_infos_<split>.pkl, for each split in turn."""
    scenes = []
    for split in splits:
        scenes.extend(load_info_file(os.path.join(data_root, info_file_name(split)))['data_list'])
    return scenes


def info_label_set(data_root, split):
    """The label set <data_root>/hicl_infos_<split>.pkl was converted for (its metainfo's ``label_set``); KeyError
    naming the file when it records none."""
    path = os.path.join(data_root, info_file_name(split))
    label_set = (load_info_file(path).get('metainfo') or {}).get('label_set')
    if label_set is None:
        raise KeyError(f'{path} records no label_set in its metainfo: convert it again with tools/create_data.py, '
                       "or give pseudo_labels.label_set in the config (e.g. label_set='scannet20')")
    return label_set


def resize_nearest(image, size):
    """(H, W) image -> (h, w) by nearest-neighbour sampling at pixel centres; size = (w, h) pixels."""
    height, width = image.shape[:2]
    rows = ((np.arange(size[1]) + 0.5) * height / size[1]).astype(np.int64)
    cols = ((np.arange(size[0]) + 0.5) * width / size[0]).astype(np.int64)
    return image[rows[:, None], cols[None, :]]


def read_frame_input(name, path, label_size, label_lut):
    """One labeller input: 'color' as (H, W, 3) uint8 RGB at the image's own size; resized (nearest) to
    label_size = (w, h): 'true_labels' as (h, w) uint8 train ids (through ``label_lut``, the train id of every raw
    id, :func:`hicl.label_sets.image_label_lut`; others -> 255),
    'instances' as (h, w) int64 instance ids."""
    with Image.open(path) as image:
        if name == 'color':
            return np.asarray(image.convert('RGB'))
        raw = resize_nearest(np.asarray(image), label_size)
    if name == 'true_labels':
        return map_with_lut(raw, label_lut, IMAGE_IGNORE).astype(np.uint8)
    return raw.astype(np.int64)


def frame_input_path(name, scene_id, frame, data_root, labeller_name):
    """Absolute path of one input of a frame; ValueError naming the frame when the info file has none."""
    key, description = FRAME_INPUTS[name]
    if frame.get(key) is None:
        raise ValueError(f'scene {scene_id} frame {frame["frame_id"]} has no {key} in the info file: '
                         f'{labeller_name} needs {description}')
    return os.path.join(data_root, frame[key])


def read_frame_inputs(labeller, scene_id, frame, data_root, label_size, label_lut):
    """The inputs ``labeller.required_inputs`` of one frame info, as a dict (see ``read_frame_input``)."""
    name = type(labeller).__name__
    return {key: read_frame_input(key, frame_input_path(key, scene_id, frame, data_root, name), label_size,
                                  label_lut)
            for key in labeller.required_inputs}


def label_frames(labeller, frames, data_root, label_size, label_lut):
    """Run ``labeller`` (a PseudoLabeller) on (scene_id, frame info) pairs in one ``label_batch`` call.
    Returns the frames' inputs (list of dicts) and (h, w) uint8 label images."""
    check_labeller(labeller)
    inputs = [read_frame_inputs(labeller, scene_id, frame, data_root, label_size, label_lut)
              for scene_id, frame in frames]
    labels = labeller.label_batch([(scene_id, frame['frame_id']) for scene_id, frame in frames], label_size,
                                  **{key: [frame_inputs[key] for frame_inputs in inputs]
                                     for key in labeller.required_inputs})
    for frame_labels in labels:
        check_label_image(frame_labels, label_size, len(labeller.class_names))
    return inputs, labels


def check_labeller(labeller):
    """Raise TypeError unless ``labeller`` is a PseudoLabeller (the contract the labelling code relies on)."""
    if not isinstance(labeller, PseudoLabeller):
        raise TypeError(f'{type(labeller).__name__} is not a pseudo-labeller: derive it from '
                        'hicl.pseudo_labels.PseudoLabeller and implement label_batch')


def check_label_image(labels, label_size, num_classes):
    """Raise ValueError unless ``labels`` is an (h, w) uint8 image of ids < num_classes or 255."""
    expected_shape = (label_size[1], label_size[0])
    if labels.shape != expected_shape or labels.dtype != np.uint8:
        raise ValueError(f'labeller returned {labels.shape} {labels.dtype}, expected {expected_shape} uint8')
    bad = (labels >= num_classes) & (labels != IMAGE_IGNORE)
    if bad.any():
        raise ValueError(f'labeller returned ids {np.unique(labels[bad])[:5].tolist()} outside 0..{num_classes - 1}')


def manifest_for(labeller, label_size):
    """The cache manifest describing ``labeller`` and the label image size (w, h)."""
    check_labeller(labeller)
    return make_manifest(labeller.config, labeller.class_names, label_size, labeller.anchor_sha256)


def input_stamps(frame, names, data_root):
    """{input name: [size in bytes, mtime in ns]} (``hicl.dataset_io.file_stamp``) of the files of the labeller
    inputs ``names`` (keys of FRAME_INPUTS) of a frame info; None for an input whose file is missing or whose path
    the frame info lacks. Paths are joined with ``data_root``."""
    stamps = {}
    for name in names:
        path = frame.get(FRAME_INPUTS[name][0])
        stamps[name] = None if path is None else file_stamp(os.path.join(data_root, path))
    return stamps


def frame_staleness(cache, recorded, scene_id, frame, data_root):
    """Why the cached labels of a frame info cannot be used, a key of STALE_REASONS, or None when they can:
    'missing' (no label image), 'unrecorded' (``recorded``, the scene's ``cache.read_inputs()``, has no entry for
    the frame) or 'changed' (a file it was labelled from now has another size or modification time)."""
    frame_id = str(frame['frame_id'])
    if not cache.has(scene_id, frame_id):
        return 'missing'
    if frame_id not in recorded:
        return 'unrecorded'
    if input_stamps(frame, recorded[frame_id], data_root) != recorded[frame_id]:
        return 'changed'
    return None


def frame_states(cache, scenes, data_root):
    """(scene_id, frame info, ``frame_staleness``) of every frame of ``scenes`` (dicts with scene_id and
    frames), scene by scene; each scene's record of inputs is read once."""
    for scene in scenes:
        recorded = cache.read_inputs(scene['scene_id'])
        for frame in scene['frames']:
            yield scene['scene_id'], frame, frame_staleness(cache, recorded, scene['scene_id'], frame, data_root)


def check_cache_frames(cache_root, scenes, data_root=''):
    """Raise StaleCacheError unless every frame of ``scenes`` (dicts with scene_id and frames) has cached labels
    made from the input files it has now (see ``frame_staleness``): the check of training at start-up
    (tools/make_pseudo_labels.py labels such frames again). The message names the cache, the first frames of
    each kind and how many more, and the fix."""
    cache = PseudoLabelCache(cache_root)
    stale, total = {}, 0
    for scene_id, frame, reason in frame_states(cache, scenes, data_root):
        total += 1
        if reason is not None:
            stale.setdefault(reason, []).append(f'{scene_id} frame {frame["frame_id"]}')
    if not stale:
        return
    lines = []
    for reason in (reason for reason in STALE_REASONS if reason in stale):
        names = stale[reason]
        more = f' and {len(names) - STALE_EXAMPLES} more' if len(names) > STALE_EXAMPLES else ''
        lines.append(f'{len(names)} {"frame" if len(names) == 1 else "frames"} {STALE_REASONS[reason]}: '
                     f'{", ".join(names[:STALE_EXAMPLES])}{more}')
    raise StaleCacheError(
        f'pseudo-label cache {cache.root} does not hold labels of the current frames for '
        f'{sum(map(len, stale.values()))} of the {total} frames the data reads:\n  ' + '\n  '.join(lines)
        + f'\nFix: {MAKE_HINT} --overwrite (or without --overwrite: it labels exactly these frames again).')


def label_dataset(infos, data_root, labeller, cache_root, label_size=DEFAULT_LABEL_SIZE, overwrite=False,
                  progress=True, *, label_set, label_map_file=None):
    """Write the pseudo-label image of every frame of ``infos`` (scene info dicts) to the cache at cache_root,
    and record the input files each frame was labelled from (``PseudoLabelCache.record_inputs``).

    label_set: the dataset's label set, whose ``image_raw_ids`` say how the true 2D label images' ids map to
    classes (:func:`hicl.label_sets.image_label_lut`); label_size: (w, h) of the label images; label_map_file:
    ScanNet's scannetv2-labels.combined.tsv when the images hold ScanNet category ids, as real label-filt images
    do. Resumable: frames already cached are kept (and evaluated), except those ``frame_staleness`` finds
    changed or unrecorded, which are labelled again. Returns dict(frames, written, relabelled, evaluated, miou,
    iou): ``relabelled`` of the ``written`` frames had labels before; the 2D mIoU and (C,) per-class IoU of the
    cached labels against the true labels of the frames that have them (miou None when no frame has).
    """
    label_lut = image_label_lut(get_label_set(label_set)['image_raw_ids'], label_map_file)
    cache = PseudoLabelCache(cache_root)
    cache.open_for_writing(manifest_for(labeller, label_size), overwrite)
    states = list(frame_states(cache, infos, data_root))
    frames = [(scene_id, frame) for scene_id, frame, _ in states]
    todo = {(scene_id, frame['frame_id']) for scene_id, frame, reason in states if reason is not None}
    batch_size = labeller.batch_size
    last_batch = {scene_id: index // batch_size for index, (scene_id, _) in enumerate(frames)}
    evaluation = Evaluation(len(labeller.class_names))
    written, unrecorded = 0, {}  # unrecorded: {scene_id: {frame_id: input stamps}} of frames labelled now
    try:
        with tqdm(total=len(frames), desc='pseudo-labels', unit='frame', disable=not progress) as bar:
            for batch_index, start in enumerate(range(0, len(frames), batch_size)):
                batch = frames[start:start + batch_size]
                new_labels = label_uncached(labeller, cache, batch, todo, data_root, label_size, label_lut)
                written += len(new_labels)
                for (scene_id, frame_id), (_, _, stamps) in new_labels.items():
                    unrecorded.setdefault(scene_id, {})[frame_id] = stamps
                for scene_id in [scene_id for scene_id in unrecorded if last_batch[scene_id] <= batch_index]:
                    cache.record_inputs(scene_id, unrecorded.pop(scene_id))  # the scene is done
                for scene_id, frame in batch:
                    labels, inputs, _ = new_labels.get((scene_id, frame['frame_id']), (None, {}, None))
                    if labels is None:
                        labels = cache.read(scene_id, frame['frame_id'])
                    evaluation.add(frame_truth(frame, inputs, data_root, label_size, label_lut), labels)
                bar.update(len(batch))
    finally:  # an interrupted run keeps what it labelled
        for scene_id, stamps in unrecorded.items():
            cache.record_inputs(scene_id, stamps)
    relabelled = sum(reason in ('changed', 'unrecorded') for _, _, reason in states)
    return dict(frames=len(frames), written=written, relabelled=relabelled, **evaluation.result())


class Evaluation:
    """The 2D confusion of cached labels against the true labels of the frames that have them."""

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.confusion = np.zeros((num_classes, num_classes + 1), dtype=np.int64)
        self.evaluated = 0

    def add(self, truth, labels):
        """Count one frame: (h, w) uint8 true train ids (None: the frame has none, skipped) and its labels."""
        if truth is not None:
            self.confusion += confusion_matrix(truth, labels, self.num_classes, IMAGE_IGNORE)
            self.evaluated += 1

    def result(self):
        """dict(evaluated, miou (None when no frame was evaluated), iou (C,))."""
        return dict(evaluated=self.evaluated, miou=mean_iou(self.confusion) if self.evaluated else None,
                    iou=iou_per_class(self.confusion))


def label_uncached(labeller, cache, frames, todo, data_root, label_size, label_lut):
    """Label and cache those of the (scene_id, frame info) pairs whose (scene_id, frame_id) is in the set
    ``todo`` (removed from it once cached).

    Returns {(scene_id, frame_id): ((h, w) uint8 labels, inputs dict, input stamps)} for the frames labelled now;
    the stamps (``input_stamps``) are taken before the inputs are read, so a file rewritten meanwhile counts as
    changed later.
    """
    batch = [(scene_id, frame) for scene_id, frame in frames if (scene_id, frame['frame_id']) in todo]
    if not batch:
        return {}
    stamps = [input_stamps(frame, labeller.required_inputs, data_root) for _, frame in batch]
    inputs, labels = label_frames(labeller, batch, data_root, label_size, label_lut)
    for (scene_id, frame), frame_labels in zip(batch, labels):
        cache.write(scene_id, frame['frame_id'], frame_labels)
        todo.discard((scene_id, frame['frame_id']))
    return {(scene_id, frame['frame_id']): (frame_labels, frame_inputs, frame_stamps)
            for (scene_id, frame), frame_labels, frame_inputs, frame_stamps in zip(batch, labels, inputs, stamps)}


def frame_truth(frame, inputs, data_root, label_size, label_lut):
    """(h, w) uint8 true train ids of a frame (from its labeller inputs when read already), or None when the
    frame has no true 2D labels."""
    if 'true_labels' in inputs:
        return inputs['true_labels']
    if frame.get('label_path') is None:
        return None
    return read_frame_input('true_labels', os.path.join(data_root, frame['label_path']), label_size, label_lut)


def format_report(result, class_names):
    """Human-readable summary of a ``label_dataset`` result: counts, 2D mIoU and per-class IoU in %."""
    again = (f' ({result["relabelled"]} of them again: their input files changed since they were labelled, or were '
             'not recorded)' if result['relabelled'] else '')
    lines = [f'{result["frames"]} frames, {result["written"]} labelled now{again}, '
             f'{result["frames"] - result["written"]} already cached']
    if result['miou'] is None:
        return lines[0] + '; no true 2D labels to evaluate against'
    lines.append(f'2D mIoU vs true labels over {result["evaluated"]} frames: {100 * result["miou"]:.1f}%')
    lines += [f'  {name:<16s} {100 * iou:5.1f}' for name, iou in zip(class_names, result['iou'])]
    return '\n'.join(lines)
