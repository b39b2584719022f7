"""Convert ScanNet's raw layout (real ScanNet or SynthRooms) into mmdet3d-style points/masks plus HICL infos.

Outputs under ``out``:

- ``points/<scene>.bin``: float32 (N, 6) x y z r g b of all mesh vertices, world (mesh) frame, rgb 0..255.
- ``semantic_mask/<scene>.bin``: int64 (N,) raw NYU40 ids (only for scenes with a labels mesh).
- ``sets/<scene>.bin``: int64 (N,) geometric consistency set per vertex (see ``point_sets``), unless sets=None.
- ``scenes/<scene>.json``: the scene's info entry plus the options it was built with, written last, so a
  re-run reuses finished scenes.
- ``hicl_infos_<split>.pkl``: ``dict(metainfo=..., data_list=[entry, ...])`` in split-file order.

Frame paths in the entries are relative to ``out``. Every file is written to a temporary file in its
directory and moved into place with ``os.replace``.
"""
import functools
import json
import os
import pickle
import warnings

import numpy as np

from ..dataset_io import (DEFAULT_DEPTH_SCALE, ScanNetFormatError, ScanNetMissingFileError, check_image_size,
                          file_stamp, info_file_name, principal_point, principal_point_off_centre)
from ..fileio import atomic_write
from ..label_sets import SCANNET_LABEL_MAP_FILE, get_label_set
from ..parallel import progress_map
from .point_sets import DEFAULT_SET_OPTIONS, SEGS_JSON_SUFFIX, compute_point_sets
from .scannet_raw import (LABELS_SUFFIX, MESH_SUFFIX, InvalidPoseError, frame_paths, intrinsic_paths, list_frames,
                          read_image_size, read_intrinsic, read_mesh, read_pose, read_vertex_instances,
                          read_vertex_labels)

INFO_VERSION = 'hicl-1.0'
SCAN_DIR_BY_SPLIT = {'test': 'scans_test'}  # real ScanNet keeps test scans apart; other splits use scans/
FRAME_LABEL_DIRS = dict(label_path='label-filt', instance_path='instance-filt')


def output_paths(out, scene_id):
    """Output files of one scene: dict(points=..., semantic_mask=..., instance_mask=..., sets=..., record=...)."""
    return dict(points=os.path.join(out, 'points', f'{scene_id}.bin'),
                semantic_mask=os.path.join(out, 'semantic_mask', f'{scene_id}.bin'),
                instance_mask=os.path.join(out, 'instance_mask', f'{scene_id}.bin'),
                sets=os.path.join(out, 'sets', f'{scene_id}.bin'),
                record=os.path.join(out, 'scenes', f'{scene_id}.json'))


def read_split(root, split):
    """Scene ids listed in ``root/scannetv2_<split>.txt``, in file order."""
    path = os.path.join(root, f'scannetv2_{split}.txt')
    if not os.path.isfile(path):
        raise ScanNetMissingFileError(f'{path}: split file for split {split!r} not found; '
                                      'put ScanNet\'s scannetv2_<split>.txt files in the dataset root')
    with open(path) as file:
        scene_ids = [line.strip() for line in file if line.strip()]
    if not scene_ids:
        raise ScanNetFormatError(f'{path}: the split file lists no scenes; put one scene id per line')
    return scene_ids


def scan_dir(root, split, scene_id):
    """Folder holding the scene's meshes: ``root/scans/<scene>`` (``root/scans_test`` for the test split)."""
    return os.path.join(root, SCAN_DIR_BY_SPLIT.get(split, 'scans'), scene_id)


def check_scene_present(root, split, scene_id):
    """Raise :class:`ScanNetMissingFileError` when a scene listed in a split file has no scan folder."""
    directory = scan_dir(root, split, scene_id)
    if not os.path.isdir(directory):
        raise ScanNetMissingFileError(
            f'{directory}: scene {scene_id} is listed in {os.path.join(root, f"scannetv2_{split}.txt")} but its '
            'scan folder is missing; download the scene or remove it from the split file')


def write_points(path, xyz, rgb):
    """Write float32 (N, 6) x y z r g b to ``path``."""
    points = np.concatenate([xyz, rgb], axis=1).astype(np.float32)
    atomic_write(path, points.tofile)


def write_mask(path, labels):
    """Write int64 (N,) raw labels to ``path``."""
    atomic_write(path, np.ascontiguousarray(labels, dtype=np.int64).tofile)


def camera_info(scene_id, frames_dir, first_frame_id):
    """Intrinsics (4x4 lists) and image sizes ([W, H], from the first frame's headers) of a scene, each
    intrinsics checked against its images' size (``check_principal_point``)."""
    intrinsics = intrinsic_paths(frames_dir)
    first = frame_paths(frames_dir, first_frame_id)
    camera = dict(depth_scale=DEFAULT_DEPTH_SCALE)
    for kind, what in (('color', 'colour image'), ('depth', 'depth image')):
        camera[f'intrinsic_{kind}'] = read_intrinsic(intrinsics[kind]).tolist()
        camera[f'{kind}_size'] = read_image_size(first[kind], what)
        check_principal_point(scene_id, intrinsics[kind], camera[f'intrinsic_{kind}'], first[kind],
                              camera[f'{kind}_size'], what)
    return camera


def check_principal_point(scene_id, intrinsic_path, intrinsic, image_path, size, what):
    """Raise ScanNetFormatError naming the scene, the intrinsics file, cx/cy, the image and its [W, H] ``size``
    when the intrinsics' principal point lies outside the middle half of the image
    (:func:`hicl.dataset_io.principal_point_off_centre`): the frames were resized after the intrinsics were
    written, and every point would be projected to the wrong pixel."""
    if principal_point_off_centre(intrinsic, size):
        (cx, cy), (width, height) = principal_point(intrinsic), size
        raise ScanNetFormatError(
            f'{intrinsic_path}: the principal point (cx {cx:g}, cy {cy:g} pixels) lies outside the middle half of '
            f'scene {scene_id}\'s {what}s, which are {width}x{height} pixels ({image_path}); real cameras have it '
            f'near the centre ({width / 2:g}, {height / 2:g}), so the {what}s were resized after these intrinsics '
            f'were written. Fix: re-export the {what}s at their original size, or scale '
            f'{os.path.basename(intrinsic_path)} to {width}x{height}')


# The images of a frame entry, the camera size each must have and what they are. The 2D label images must
# all have one size (that of the scene's first label image; ScanNet's label-filt images match the colour frames).
FRAME_IMAGES = (('color_path', 'color_size', 'colour image'), ('depth_path', 'depth_size', 'depth image'),
                ('label_path', 'label_size', '2D label image'), ('instance_path', 'label_size', '2D label image'))


def check_frame_image_sizes(frames, camera, out):
    """Raise ScanNetFormatError naming the first image of ``frames`` (entries, paths relative to ``out``) whose
    size differs from the scene's; records the scene's ``label_size`` in ``camera`` when it has label images."""
    for frame in frames:
        for key, size_key, what in FRAME_IMAGES:
            if frame.get(key) is None:
                continue
            path = os.path.normpath(os.path.join(out, frame[key]))
            size = read_image_size(path, what)
            camera.setdefault(size_key, size)
            check_image_size(path, size, camera[size_key], what)


def find_label_dirs(frames_dir, scene_scan_dir):
    """Existing 2D label folders: dict(label_path=dir or None, instance_path=dir or None).

    Looked up in the frame export first, then in the scan folder (where ScanNet's zips unpack).
    """
    found = {}
    for key, name in FRAME_LABEL_DIRS.items():
        candidates = [os.path.join(directory, name) for directory in (frames_dir, scene_scan_dir)]
        found[key] = next((path for path in candidates if os.path.isdir(path)), None)
    return found


def frame_entry(frames_dir, frame_id, pose, label_dirs, out):
    """Info dict of one frame; paths relative to ``out``, missing label images as None."""
    paths = frame_paths(frames_dir, frame_id)
    entry = dict(frame_id=frame_id, pose=pose.tolist(),
                 color_path=os.path.relpath(paths['color'], out),
                 depth_path=os.path.relpath(paths['depth'], out))
    for key, directory in label_dirs.items():
        image = os.path.join(directory, f'{frame_id}.png') if directory else None
        entry[key] = os.path.relpath(image, out) if image and os.path.isfile(image) else None
    return entry


def select_frames(frames_dir, frame_ids, frame_step=1, max_frames=None):
    """Every ``frame_step``-th frame with a valid pose, at most ``max_frames``: list of (frame_id, (4,4) pose).

    Frames whose pose is non-finite (ScanNet's lost-tracking mark) are skipped with a warning.
    """
    selected = []
    for frame_id in frame_ids[::frame_step]:
        if max_frames is not None and len(selected) >= max_frames:
            break
        try:
            selected.append((frame_id, read_pose(frame_paths(frames_dir, frame_id)['pose'])))
        except InvalidPoseError as err:
            warnings.warn(f'skipping frame {frame_id}: {err}')
    return selected


def convert_scene(scene_id, scene_scan_dir, frames_dir, out, frame_step=1, max_frames=None, sets=None):
    """Write one scene's points (mask, sets) under ``out`` and return its info entry (plain Python types).

    sets: None (no sets) or set options (``point_sets.DEFAULT_SET_OPTIONS``).
    """
    out = os.path.abspath(out)
    targets = output_paths(out, scene_id)
    mesh = read_mesh(os.path.join(scene_scan_dir, scene_id + MESH_SUFFIX))
    labels_path = os.path.join(scene_scan_dir, scene_id + LABELS_SUFFIX)
    labels = read_vertex_labels(labels_path, len(mesh['xyz'])) if os.path.isfile(labels_path) else None
    instances = read_vertex_instances(labels_path, len(mesh['xyz'])) if labels is not None else None
    frame_ids = list_frames(frames_dir)
    if not frame_ids:
        raise ScanNetFormatError(f'{os.path.join(frames_dir, "color")}: scene {scene_id} has no frames; '
                                 'export them with ScanNet\'s SensReader')
    camera = camera_info(scene_id, frames_dir, frame_ids[0])
    label_dirs = find_label_dirs(frames_dir, scene_scan_dir)
    frames = [frame_entry(frames_dir, frame_id, pose, label_dirs, out)
              for frame_id, pose in select_frames(frames_dir, frame_ids, frame_step, max_frames)]
    if not frames:
        raise ScanNetFormatError(
            f'{os.path.join(frames_dir, "pose")}: scene {scene_id} has no frame with a valid pose among the '
            f'{len(frame_ids[::frame_step])} frames selected (every pose is non-finite: ScanNet\'s mark for lost '
            'tracking); re-export the frames, or leave the scene out of the split file')
    check_frame_image_sizes(frames, camera, out)
    write_points(targets['points'], mesh['xyz'], mesh['rgb'])
    entry = dict(scene_id=scene_id, lidar_points=dict(num_pts_feats=6, lidar_path=f'{scene_id}.bin'))
    if labels is not None:
        write_mask(targets['semantic_mask'], labels)
        entry['pts_semantic_mask_path'] = f'{scene_id}.bin'
    if instances is not None:
        write_mask(targets['instance_mask'], instances)
        entry['pts_instance_mask_path'] = f'{scene_id}.bin'
    if sets is not None:
        point_sets = compute_point_sets(mesh, scene_scan_dir, scene_id, sets)
        atomic_write(targets['sets'], lambda file: file.write(point_sets.astype(np.int64).tobytes()))
        entry.update(pts_sets_path=f'{scene_id}.bin', num_sets=int(point_sets.max(initial=-1)) + 1)
    entry.update(num_points=len(mesh['xyz']), camera=camera, frames=frames)
    return entry


def write_record(path, entry, options):
    """Write the scene's entry and the options it was built with as JSON (the scene's 'done' marker)."""
    payload = json.dumps(dict(options=options, entry=entry)).encode()
    atomic_write(path, lambda file: file.write(payload))


def load_record(out, scene_id, options):
    """The entry of a finished scene, or None when it must be (re)converted.

    A scene is finished when its record exists, was built with the same ``options`` and its outputs exist.
    """
    targets = output_paths(out, scene_id)
    if not os.path.isfile(targets['record']):
        return None
    with open(targets['record']) as file:
        try:
            record = json.load(file)
        except json.JSONDecodeError:
            return None
    entry = record.get('entry', {})
    outputs = [targets['points']] + ([targets['semantic_mask']] if 'pts_semantic_mask_path' in entry else [])
    outputs += [targets['sets']] if 'pts_sets_path' in entry else []
    outputs += [targets['instance_mask']] if 'pts_instance_mask_path' in entry else []
    if record.get('options') != options or not all(os.path.isfile(path) for path in outputs):
        return None
    return entry


def input_fingerprint(scene_id, scene_scan_dir, frames_dir):
    """{path: [size in bytes, mtime in ns] or None when absent} of what a scene is converted from: its meshes,
    its segs.json, its intrinsics, and the frame folders (a folder's mtime changes when files are added, removed
    or renamed in it). Recorded with the scene, so replacing an input reconverts the scene."""
    suffixes = (MESH_SUFFIX, LABELS_SUFFIX, SEGS_JSON_SUFFIX)
    paths = [os.path.join(scene_scan_dir, scene_id + suffix) for suffix in suffixes]
    paths += list(intrinsic_paths(frames_dir).values())
    paths += [os.path.join(frames_dir, name) for name in ('color', 'depth', 'pose')]
    paths += [directory for directory in find_label_dirs(frames_dir, scene_scan_dir).values() if directory]
    return {os.path.abspath(path): file_stamp(path) for path in paths}


def process_scene(job, out, frame_step, max_frames, overwrite, sets=None):
    """Convert one scene unless a record with the same options and inputs (``input_fingerprint``) exists:
    returns (entry, reused)."""
    scene_id, scene_scan_dir, frames_dir = job
    options = dict(frames_dir=os.path.abspath(frames_dir), frame_step=frame_step, max_frames=max_frames, sets=sets,
                   inputs=input_fingerprint(scene_id, scene_scan_dir, frames_dir))
    entry = None if overwrite else load_record(out, scene_id, options)
    if entry is not None:
        return entry, True
    record_path = output_paths(out, scene_id)['record']
    if os.path.exists(record_path):
        os.remove(record_path)  # a crash while the outputs are rewritten must not leave the old record valid
    entry = convert_scene(scene_id, scene_scan_dir, frames_dir, out, frame_step, max_frames, sets)
    write_record(record_path, entry, options)
    return entry, False


def scene_jobs(root, splits, frames_root):
    """Check every split's scenes exist; return ({split: [scene ids]}, [(scene_id, scan_dir, frames_dir)])."""
    scenes_by_split, jobs, seen = {}, [], set()
    for split in splits:
        scenes_by_split[split] = read_split(root, split)
        for scene_id in scenes_by_split[split]:
            check_scene_present(root, split, scene_id)
            if scene_id in seen:
                continue
            seen.add(scene_id)
            scene_scan_dir = scan_dir(root, split, scene_id)
            frames_dir = os.path.join(frames_root, scene_id) if frames_root else scene_scan_dir
            jobs.append((scene_id, scene_scan_dir, frames_dir))
    return scenes_by_split, jobs


def run_jobs(jobs, work, workers, progress):
    """Run ``work(job)`` over jobs (a process pool when workers > 1): {scene_id: (entry, reused)}."""
    results = progress_map(work, jobs, workers, 'convert scenes', 'scene', progress)
    return {entry['scene_id']: (entry, reused) for entry, reused in results}


def write_info(path, entries, dataset_name, label_set):
    """Write an mmengine-style info pickle: dict(metainfo=..., data_list=entries)."""
    info = dict(metainfo=dict(dataset=dataset_name, info_version=INFO_VERSION, label_set=label_set),
                data_list=entries)
    atomic_write(path, lambda file: pickle.dump(info, file, protocol=pickle.HIGHEST_PROTOCOL))


def copy_label_map(root, out):
    """Copy ScanNet's ``scannetv2-labels.combined.tsv`` (the label-filt ids' table) from ``root`` into ``out``,
    where configs read it (``pseudo_labels.label_map_file``); nothing when ``root`` has none (SynthRooms)."""
    source = os.path.join(root, SCANNET_LABEL_MAP_FILE)
    if os.path.isfile(source):
        with open(source, 'rb') as file:
            table = file.read()
        atomic_write(os.path.join(out, SCANNET_LABEL_MAP_FILE), lambda target: target.write(table))


def convert_scannet(root, out, splits=('train', 'val'), workers=1, frames_root=None, frame_step=1,
                    max_frames=None, label_set='scannet20', overwrite=False, progress=True, dataset_name='ScanNet',
                    sets=None):
    """Convert a raw ScanNet-layout dataset under ``root`` into ``out`` (see the module docstring).

    sets: None, or geometric-consistency-set options (``point_sets.DEFAULT_SET_OPTIONS``: source, k, min_size,
    k_neighbours); recorded with each scene, so changing them recomputes the scenes.

    frames_root: folder with SensReader exports ``<scene>/{color,depth,pose,intrinsic}`` (default: the scan
    folders). frame_step / max_frames subsample the frames (every 100th frame = ScanNet's 25k subset).
    Returns dict(infos={split: info path}, converted=[scene ids], reused=[scene ids]).
    """
    get_label_set(label_set)
    if frame_step < 1:
        raise ValueError(f'frame_step must be >= 1, got {frame_step}')
    if max_frames is not None and max_frames < 1:
        raise ValueError(f'max_frames must be >= 1 (or None: every frame), got {max_frames}')
    out = os.path.abspath(out)
    scenes_by_split, jobs = scene_jobs(root, splits, frames_root)
    sets = None if sets is None else {**DEFAULT_SET_OPTIONS, **sets}
    work = functools.partial(process_scene, out=out, frame_step=frame_step, max_frames=max_frames,
                             overwrite=overwrite, sets=sets)
    results = run_jobs(jobs, work, workers, progress)
    copy_label_map(root, out)
    infos = {}
    for split, scene_ids in scenes_by_split.items():
        infos[split] = os.path.join(out, info_file_name(split))
        write_info(infos[split], [results[scene_id][0] for scene_id in scene_ids], dataset_name, label_set)
    return dict(infos=infos,
                converted=[scene_id for scene_id, (_, reused) in results.items() if not reused],
                reused=[scene_id for scene_id, (_, reused) in results.items() if reused])
