"""Label every frame of a dataset into the pseudo-label cache (the logic behind tools/make_pseudo_labels.py).

A labeller (simulated or MaskCLIP), built by ``hicl.registry.PSEUDO_LABELLERS.build(cfg)``, is a
:class:`~hicl.pseudo_labels.labeller.PseudoLabeller`: that class states what this module uses of it.
"""
import os

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..dataset_io import info_file_name
from ..label_sets import IMAGE_IGNORE, SCANNET20_NYU40_IDS, image_label_lut, map_with_lut
from ..metrics import confusion_matrix, iou_per_class, mean_iou
from ..safe_pickle import load_info_file
from .cache import PseudoLabelCache, make_manifest
from .labeller import PseudoLabeller

DEFAULT_LABEL_SIZE = (320, 240)  # (w, h): the 640x480 colour frame halved
# Per-frame labeller input -> (frame info key holding its path, what the file is).
FRAME_INPUTS = dict(
    true_labels=('label_path', "ScanNet's label-filt 2D labels (uint16 PNG of raw ids)"),
    instances=('instance_path', "ScanNet's instance-filt 2D instance masks (uint16 PNG)"),
    color=('color_path', 'the colour frame (RGB image, read at its own size)'),
)


def load_scene_infos(data_root, splits):
    """The scene infos (``data_list`` entries) of <data_root>/hicl_infos_<split>.pkl, for each split in turn."""
    scenes = []
    for split in splits:
        scenes.extend(load_info_file(os.path.join(data_root, info_file_name(split)))['data_list'])
    return scenes


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


def label_dataset(infos, data_root, labeller, cache_root, label_size=DEFAULT_LABEL_SIZE, overwrite=False,
                  progress=True, raw_ids=SCANNET20_NYU40_IDS, label_map_file=None):
    """Write the pseudo-label image of every frame of ``infos`` (scene info dicts) to the cache at cache_root.

    label_size: (w, h) of the label images; raw_ids, label_map_file: how the true 2D label images' ids map to
    classes (:func:`hicl.label_sets.image_label_lut`: raw_ids the NYU40 ids of classes 0..C-1; label_map_file
    ScanNet's scannetv2-labels.combined.tsv when the images hold ScanNet category ids, as real label-filt images
    do). Resumable: frames already cached are kept (and evaluated). Returns dict(frames, written,
    evaluated, miou, iou) with the 2D mIoU and (C,) per-class IoU of the cached labels against the true labels
    of the frames that have them (miou None when no frame has).
    """
    label_lut = image_label_lut(raw_ids, label_map_file)
    cache = PseudoLabelCache(cache_root)
    cache.open_for_writing(manifest_for(labeller, label_size), overwrite)
    num_classes = len(labeller.class_names)
    confusion = np.zeros((num_classes, num_classes + 1), dtype=np.int64)
    frames = [(scene['scene_id'], frame) for scene in infos for frame in scene['frames']]
    batch_size = labeller.batch_size
    written = evaluated = 0
    with tqdm(total=len(frames), desc='pseudo-labels', unit='frame', disable=not progress) as bar:
        for start in range(0, len(frames), batch_size):
            batch = frames[start:start + batch_size]
            new_labels = label_uncached(labeller, cache, batch, data_root, label_size, label_lut)
            written += len(new_labels)
            for scene_id, frame in batch:
                labels, inputs = new_labels.get((scene_id, frame['frame_id']), (None, {}))
                if labels is None:
                    labels = cache.read(scene_id, frame['frame_id'])
                truth = frame_truth(frame, inputs, data_root, label_size, label_lut)
                if truth is not None:
                    confusion += confusion_matrix(truth, labels, num_classes, IMAGE_IGNORE)
                    evaluated += 1
            bar.update(len(batch))
    return dict(frames=len(frames), written=written, evaluated=evaluated,
                miou=mean_iou(confusion) if evaluated else None, iou=iou_per_class(confusion))


def label_uncached(labeller, cache, frames, data_root, label_size, label_lut):
    """Label and cache those of the (scene_id, frame info) pairs not cached yet.

    Returns {(scene_id, frame_id): ((h, w) uint8 labels, inputs dict)} for the frames labelled now.
    """
    todo = [(scene_id, frame) for scene_id, frame in frames if not cache.has(scene_id, frame['frame_id'])]
    if not todo:
        return {}
    inputs, labels = label_frames(labeller, todo, data_root, label_size, label_lut)
    for (scene_id, frame), frame_labels in zip(todo, labels):
        cache.write(scene_id, frame['frame_id'], frame_labels)
    return {(scene_id, frame['frame_id']): (frame_labels, frame_inputs)
            for (scene_id, frame), frame_labels, frame_inputs in zip(todo, labels, inputs)}


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
    lines = [f'{result["frames"]} frames, {result["written"]} labelled now, '
             f'{result["frames"] - result["written"]} already cached']
    if result['miou'] is None:
        return lines[0] + '; no true 2D labels to evaluate against'
    lines.append(f'2D mIoU vs true labels over {result["evaluated"]} frames: {100 * result["miou"]:.1f}%')
    lines += [f'  {name:<16s} {100 * iou:5.1f}' for name, iou in zip(class_names, result['iou'])]
    return '\n'.join(lines)
