"""Generate a whole SynthRooms dataset in ScanNet's raw layout, scene-parallel, resumable."""
import multiprocessing
import os

from tqdm import tqdm

from .layout import ROOM_TYPE_ORDER
from .scene import DEFAULT_VERTEX_SPACING, generate_scene
from .writer import COMPLETE_MARKER, atomic_write, write_scene


def scene_name(index):
    """ScanNet-style name of scene ``index``: 'scene0000_00', 'scene0001_00', ..."""
    return f'scene{index:04d}_00'


def _generate_and_write(task):
    """Worker: generate one scene and write it under <out_root>/scans; returns its name."""
    out_root, name, seed, room_type, options = task
    scene = generate_scene(name, seed, room_type=room_type, **options)
    write_scene(scene, os.path.join(out_root, 'scans', name))
    return name


def generate_synthrooms(out_root, num_train=16, num_val=4, seed=0, frames_per_scene=16, color_size=(640, 480),
                        depth_size=(320, 240), workers=1, overwrite=False, progress=True,
                        vertex_spacing=DEFAULT_VERTEX_SPACING):
    """Write ``num_train`` + ``num_val`` scenes to ``out_root`` in ScanNet's raw layout and return their names.

    Scenes are named scene0000_00, ... (train first, then val) and listed in scannetv2_train.txt / _val.txt.
    Scene i is generated from the seed (seed, i) (see generate_scene); room types cycle through ROOM_TYPE_ORDER
    within each split. A scene whose ``.complete`` marker exists is skipped unless ``overwrite``. color_size /
    depth_size are (W, H) pixels; ``workers`` > 1 generates scenes in parallel processes; vertex_spacing
    in metres.
    """
    names = [scene_name(index) for index in range(num_train + num_val)]
    options = dict(frames_per_scene=frames_per_scene, color_size=tuple(color_size), depth_size=tuple(depth_size),
                   vertex_spacing=vertex_spacing)
    tasks = []
    for index, name in enumerate(names):
        if not overwrite and os.path.exists(os.path.join(out_root, 'scans', name, COMPLETE_MARKER)):
            continue
        split_index = index if index < num_train else index - num_train
        room_type = ROOM_TYPE_ORDER[split_index % len(ROOM_TYPE_ORDER)]
        tasks.append((out_root, name, (seed, index), room_type, options))

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

    for split, split_names in (('train', names[:num_train]), ('val', names[num_train:])):
        atomic_write(os.path.join(out_root, f'scannetv2_{split}.txt'), ''.join(f'{n}\n' for n in split_names).encode())
    return names
