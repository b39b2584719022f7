"""Generate a whole SynthRooms dataset in ScanNet's raw layout, scene-parallel, resumable."""
import multiprocessing
import os

from tqdm import tqdm

from ..fileio import atomic_write
from .layout import ROOM_TYPE_ORDER
from .scene import DEFAULT_VERTEX_SPACING, generate_scene
from .writer import COMPLETE_MARKER, write_scene


def scene_name(index):
    """ScanNet-style name of scene ``index``: 'scene0000_00', 'scene0001_00', ..."""
    return f'scene{index:04d}_00'


SPLITS = ('train', 'val', 'test')
SCAN_DIRS = dict(train='scans', val='scans', test='scans_test')  # ScanNet keeps its test scans apart


def scene_dir(out_root, split, name):
    """Where scene ``name`` of ``split`` is written: <out_root>/scans/<name> (scans_test/ for the test split)."""
    return os.path.join(out_root, SCAN_DIRS[split], name)


def _generate_and_write(task):
    """Worker: generate one scene and write it to its scene folder; returns its name."""
    folder, name, seed, room_type, options = task
    scene = generate_scene(name, seed, room_type=room_type, **options)
    write_scene(scene, folder)
    return name


def generate_synthrooms(out_root, num_train=24, num_val=6, num_test=10, seed=0, frames_per_scene=16,
                        color_size=(640, 480), depth_size=(320, 240), workers=1, overwrite=False, progress=True,
                        vertex_spacing=DEFAULT_VERTEX_SPACING):
    """Write ``num_train`` + ``num_val`` + ``num_test`` scenes to ``out_root`` in ScanNet's raw layout and return
    their names.

    Scenes are named scene0000_00, ... (train first, then val, then test) and listed in scannetv2_<split>.txt;
    test scenes go to scans_test/ as in ScanNet (with their labels, so that they can be scored). Scene i is
    generated from the seed (seed, i) (see generate_scene); room types cycle through ROOM_TYPE_ORDER within each
    split. A scene whose ``.complete`` marker exists is skipped unless ``overwrite``. color_size / depth_size are
    (W, H) pixels; ``workers`` > 1 generates scenes in parallel processes; vertex_spacing in metres.
    """
    counts = dict(train=num_train, val=num_val, test=num_test)
    starts = dict(train=0, val=num_train, test=num_train + num_val)
    split_names = {split: [scene_name(starts[split] + i) for i in range(counts[split])] for split in SPLITS}
    names = [name for split in SPLITS for name in split_names[split]]
    options = dict(frames_per_scene=frames_per_scene, color_size=tuple(color_size), depth_size=tuple(depth_size),
                   vertex_spacing=vertex_spacing)
    tasks = []
    for split in SPLITS:
        for split_index, name in enumerate(split_names[split]):
            folder = scene_dir(out_root, split, name)
            if not overwrite and os.path.exists(os.path.join(folder, COMPLETE_MARKER)):
                continue
            room_type = ROOM_TYPE_ORDER[split_index % len(ROOM_TYPE_ORDER)]
            tasks.append((folder, name, (seed, starts[split] + split_index), room_type, options))

    with tqdm(total=len(names), initial=len(names) - len(tasks), desc='SynthRooms scenes', unit='scene',
              disable=not progress) as bar:
        if workers > 1 and len(tasks) > 1:
            with multiprocessing.get_context().Pool(min(workers, len(tasks))) as pool:
                for _ in pool.imap_unordered(_generate_and_write, tasks):
                    bar.update()
        else:
            for task in tasks:
                _generate_and_write(task)
                bar.update()

    for split in SPLITS:
        if counts[split]:
            atomic_write(os.path.join(out_root, f'scannetv2_{split}.txt'),
                         ''.join(f'{n}\n' for n in split_names[split]).encode())
    return names
