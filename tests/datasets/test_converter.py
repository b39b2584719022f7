"""The ScanNet-layout converter on tiny scenes written in the official formats."""
import os
import pickle
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from hicl.converters.scannet import convert_scannet, convert_scene
from hicl.dataset_io import ScanNetFormatError, ScanNetMissingFileError
from hicl.fileio import atomic_write

TRAIN = ['scene0000_00', 'scene0001_00']
VAL = ['scene0002_00']


@pytest.fixture
def dataset(tmp_path, layout):
    """Raw root with two train scenes (3 frames, labels on frame 0) and one val scene; returns (root, arrays)."""
    root = tmp_path / 'raw'
    written = {scene_id: layout.write_scene(root, scene_id, num_frames=3) for scene_id in TRAIN + VAL}
    layout.write_split(root, 'train', TRAIN)
    layout.write_split(root, 'val', VAL)
    return root, written


def load_info(out, split):
    with open(out / f'hicl_infos_{split}.pkl', 'rb') as file:
        return pickle.load(file)


def convert(root, out, **kwargs):
    return convert_scannet(str(root), str(out), progress=False, **kwargs)


def test_points_and_masks_round_trip(dataset, tmp_path):
    root, written = dataset
    out = tmp_path / 'out'
    convert(root, out)
    for scene_id, arrays in written.items():
        points = np.fromfile(out / 'points' / f'{scene_id}.bin', dtype=np.float32).reshape(-1, 6)
        np.testing.assert_array_equal(points[:, :3], arrays['xyz'])
        np.testing.assert_array_equal(points[:, 3:], arrays['rgb'].astype(np.float32))
        mask = np.fromfile(out / 'semantic_mask' / f'{scene_id}.bin', dtype=np.int64)
        np.testing.assert_array_equal(mask, arrays['labels'])
        assert (out / 'points' / f'{scene_id}.bin').stat().st_size == len(arrays['xyz']) * 6 * 4


def test_info_entries(dataset, tmp_path, layout):
    root, written = dataset
    out = tmp_path / 'out'
    summary = convert(root, out, dataset_name='SynthRooms')
    assert summary['infos'] == {split: str(out / f'hicl_infos_{split}.pkl') for split in ('train', 'val')}
    assert sorted(summary['converted']) == sorted(TRAIN + VAL) and summary['reused'] == []
    train = load_info(out, 'train')
    assert train['metainfo'] == dict(dataset='SynthRooms', info_version='hicl-1.0', label_set='scannet20')
    assert [entry['scene_id'] for entry in train['data_list']] == TRAIN
    assert [entry['scene_id'] for entry in load_info(out, 'val')['data_list']] == VAL
    entry = train['data_list'][1]
    assert entry['lidar_points'] == dict(num_pts_feats=6, lidar_path='scene0001_00.bin')
    assert entry['pts_semantic_mask_path'] == 'scene0001_00.bin'
    assert entry['num_points'] == 9
    camera = entry['camera']
    np.testing.assert_allclose(camera['intrinsic_color'], layout.INTRINSIC_COLOR)
    np.testing.assert_allclose(camera['intrinsic_depth'], layout.INTRINSIC_DEPTH)
    assert camera['color_size'] == list(layout.COLOR_SIZE) and camera['depth_size'] == list(layout.DEPTH_SIZE)
    assert camera['depth_scale'] == 1000.0
    assert [frame['frame_id'] for frame in entry['frames']] == ['0', '1', '2']
    np.testing.assert_allclose(entry['frames'][2]['pose'], layout.camera_pose(2), atol=1e-6)
    frames_dir = written['scene0001_00']['frames_dir']
    for frame in entry['frames']:
        assert os.path.samefile(out / frame['color_path'], frames_dir / 'color' / f'{frame["frame_id"]}.jpg')
        assert os.path.samefile(out / frame['depth_path'], frames_dir / 'depth' / f'{frame["frame_id"]}.png')
    assert os.path.samefile(out / entry['frames'][0]['label_path'], frames_dir / 'label-filt' / '0.png')
    assert os.path.samefile(out / entry['frames'][0]['instance_path'], frames_dir / 'instance-filt' / '0.png')
    assert entry['frames'][1]['label_path'] is None and entry['frames'][1]['instance_path'] is None


def test_info_is_portable(dataset, tmp_path):
    """Moving the raw root and the output together keeps every frame path valid."""
    root, _ = dataset
    convert(root, tmp_path / 'out')
    moved = tmp_path / 'moved'
    moved.mkdir()
    os.rename(root, moved / 'raw')
    os.rename(tmp_path / 'out', moved / 'out')
    for frame in load_info(moved / 'out', 'train')['data_list'][0]['frames']:
        assert (moved / 'out' / frame['depth_path']).is_file()


def test_rerun_skips_finished_scenes(dataset, tmp_path):
    root, _ = dataset
    out = tmp_path / 'out'
    convert(root, out)
    first = load_info(out, 'train')
    outputs = [out / folder / f'{scene_id}{ext}' for scene_id in TRAIN + VAL
               for folder, ext in (('points', '.bin'), ('semantic_mask', '.bin'), ('scenes', '.json'))]
    for path in outputs:
        os.utime(path, ns=(10**18, 10**18))
    summary = convert(root, out)
    assert summary['converted'] == [] and sorted(summary['reused']) == sorted(TRAIN + VAL)
    assert all(path.stat().st_mtime_ns == 10**18 for path in outputs)
    assert load_info(out, 'train') == first


def test_overwrite_reconverts(dataset, tmp_path):
    root, _ = dataset
    out = tmp_path / 'out'
    convert(root, out)
    points = out / 'points' / 'scene0000_00.bin'
    os.utime(points, ns=(10**18, 10**18))
    assert sorted(convert(root, out, overwrite=True)['converted']) == sorted(TRAIN + VAL)
    assert points.stat().st_mtime_ns != 10**18


def test_rerun_redoes_unfinished_or_changed_scenes(dataset, tmp_path):
    root, _ = dataset
    out = tmp_path / 'out'
    convert(root, out)
    (out / 'scenes' / 'scene0001_00.json').unlink()  # as if the run crashed before the record was written
    assert convert(root, out)['converted'] == ['scene0001_00']
    summary = convert(root, out, frame_step=2)
    assert sorted(summary['converted']) == sorted(TRAIN + VAL)
    assert [frame['frame_id'] for frame in load_info(out, 'val')['data_list'][0]['frames']] == ['0', '2']


def test_no_temporary_files_left(dataset, tmp_path):
    root, _ = dataset
    out = tmp_path / 'out'
    convert(root, out)
    leftovers = [name for _, _, files in os.walk(out) for name in files if '.tmp' in name]
    assert leftovers == []


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / 'file.bin'
    path.write_bytes(b'old')

    def fail_midway(file):
        file.write(b'partial')
        raise RuntimeError('crash')

    with pytest.raises(RuntimeError):
        atomic_write(str(path), fail_midway)
    assert path.read_bytes() == b'old' and os.listdir(tmp_path) == ['file.bin']


def test_frame_step_and_max_frames(tmp_path, layout):
    scene = layout.write_scene(tmp_path / 'raw', 'scene0003_00', num_frames=7)
    out = tmp_path / 'out'

    def frame_ids(**kwargs):
        entry = convert_scene('scene0003_00', str(scene['scene_dir']), str(scene['frames_dir']), str(out), **kwargs)
        return [frame['frame_id'] for frame in entry['frames']]

    assert frame_ids() == [str(index) for index in range(7)]
    assert frame_ids(frame_step=3) == ['0', '3', '6']
    assert frame_ids(frame_step=2, max_frames=2) == ['0', '2']


def test_invalid_pose_frames_are_skipped_with_warning(tmp_path, layout):
    scene = layout.write_scene(tmp_path / 'raw', 'scene0004_00', num_frames=3)
    layout.write_pose(scene['frames_dir'] / 'pose' / '1.txt', np.full((4, 4), -np.inf))
    with pytest.warns(UserWarning, match='skipping frame 1: .*scene0004_00.*pose.*1.txt'):
        entry = convert_scene('scene0004_00', str(scene['scene_dir']), str(scene['frames_dir']),
                              str(tmp_path / 'out'), max_frames=2)
    assert [frame['frame_id'] for frame in entry['frames']] == ['0', '2']


def test_separate_frames_root_and_test_split(tmp_path, layout):
    root, frames_root = tmp_path / 'raw', tmp_path / 'exports'
    scene = layout.write_scene(root, 'scene0707_00', labels=False, scans='scans_test', frames_root=frames_root)
    layout.write_split(root, 'test', ['scene0707_00'])
    out = tmp_path / 'out'
    convert(root, out, splits=('test',), frames_root=str(frames_root))
    entry = load_info(out, 'test')['data_list'][0]
    assert 'pts_semantic_mask_path' not in entry and not (out / 'semantic_mask' / 'scene0707_00.bin').exists()
    assert os.path.samefile(out / entry['frames'][0]['color_path'], scene['frames_dir'] / 'color' / '0.jpg')
    points = np.fromfile(out / 'points' / 'scene0707_00.bin', dtype=np.float32).reshape(-1, 6)
    np.testing.assert_array_equal(points[:, :3], scene['xyz'])


def test_parallel_matches_serial(dataset, tmp_path):
    root, _ = dataset
    convert(root, tmp_path / 'serial')
    convert(root, tmp_path / 'parallel', workers=2)
    for split in ('train', 'val'):
        serial, parallel = load_info(tmp_path / 'serial', split), load_info(tmp_path / 'parallel', split)
        assert [entry['scene_id'] for entry in parallel['data_list']] == [e['scene_id'] for e in serial['data_list']]
        assert [entry['frames'] for entry in parallel['data_list']] == [e['frames'] for e in serial['data_list']]
    for scene_id in TRAIN + VAL:
        assert ((tmp_path / 'serial' / 'points' / f'{scene_id}.bin').read_bytes()
                == (tmp_path / 'parallel' / 'points' / f'{scene_id}.bin').read_bytes())


def test_unknown_label_set(dataset, tmp_path):
    with pytest.raises(KeyError, match='nyu41'):
        convert(dataset[0], tmp_path / 'out', label_set='nyu41')


# --- bad inputs: each error names the file ---------------------------------------------------------------

def corrupt_missing_depth(scene, layout):
    path = scene['frames_dir'] / 'depth' / '1.png'
    path.unlink()
    return FileNotFoundError, path, 'frame 1 has a colour image but no depth'


def corrupt_truncated_mesh(scene, layout):
    path = scene['scene_dir'] / 'scene0001_00_vh_clean_2.ply'
    path.write_bytes(path.read_bytes()[:-20])
    return ScanNetFormatError, path, 'truncated'


def corrupt_nan_vertices(scene, layout):
    path = scene['scene_dir'] / 'scene0001_00_vh_clean_2.ply'
    xyz = scene['xyz'].copy()
    xyz[4] = np.nan
    layout.write_mesh(path, xyz, scene['rgb'], scene['faces'])
    return ScanNetFormatError, path, '1 of 9 vertices have NaN'


def corrupt_intrinsic_shape(scene, layout):
    path = scene['frames_dir'] / 'intrinsic' / 'intrinsic_depth.txt'
    layout.write_pose(path, layout.INTRINSIC_DEPTH[:3])
    return ScanNetFormatError, path, r'shape \(3, 4\), expected 4x4'


def corrupt_label_count(scene, layout):
    path = scene['scene_dir'] / 'scene0001_00_vh_clean_2.labels.ply'
    layout.write_labels(path, scene['xyz'][:7], scene['labels'][:7])
    return ScanNetFormatError, path, '7 labelled vertices but the mesh has 9'


def corrupt_missing_mesh(scene, layout):
    path = scene['scene_dir'] / 'scene0001_00_vh_clean_2.ply'
    path.unlink()
    return FileNotFoundError, path, 'mesh not found'


def corrupt_half_size_depth(scene, layout):
    path = scene['frames_dir'] / 'depth' / '1.png'
    layout.write_depth(path, np.full((1, 2), 1000, np.uint16))
    return ScanNetFormatError, path, "depth image is 2x1 pixels, but the scene's depth images are 4x3"


def corrupt_odd_colour_size(scene, layout):
    path = scene['frames_dir'] / 'color' / '2.jpg'
    Image.new('RGB', (16, 12)).save(path)
    return ScanNetFormatError, path, "colour image is 16x12 pixels, but the scene's colour images are 8x6"


def corrupt_odd_label_size(scene, layout):
    path = scene['frames_dir'] / 'label-filt' / '1.png'
    Image.fromarray(np.full((3, 4), 5, np.uint16)).save(path)
    return ScanNetFormatError, path, "2D label image is 4x3 pixels, but the scene's 2D label images are 8x6"


def corrupt_every_depth_frame_shrunk(scene, layout):
    """Every depth frame re-exported at half size: consistent sizes, but the intrinsics are the full-size ones."""
    for index in range(3):
        layout.write_depth(scene['frames_dir'] / 'depth' / f'{index}.png', np.full((1, 2), 1000, np.uint16))
    return ScanNetFormatError, scene['frames_dir'] / 'intrinsic' / 'intrinsic_depth.txt', (
        r': the principal point \(cx 2, cy 1.5 pixels\) lies outside the middle half of scene scene0001_00.s '
        r'depth images, which are 2x1 pixels \(.*depth/0\.png\).*Fix: re-export the depth images at their '
        r'original size, or scale intrinsic_depth\.txt to 2x1')


def corrupt_every_colour_frame_shrunk(scene, layout):
    for index in range(3):
        Image.new('RGB', (4, 3)).save(scene['frames_dir'] / 'color' / f'{index}.jpg')
    return ScanNetFormatError, scene['frames_dir'] / 'intrinsic' / 'intrinsic_color.txt', (
        r': the principal point \(cx 4, cy 3 pixels\) lies outside the middle half of scene scene0001_00.s colour '
        r'images, which are 4x3 pixels.*scale intrinsic_color\.txt to 4x3')


def corrupt_every_pose(scene, layout):
    for index in range(3):
        layout.write_pose(scene['frames_dir'] / 'pose' / f'{index}.txt', np.full((4, 4), -np.inf))
    return ScanNetFormatError, scene['frames_dir'] / 'pose', 'scene0001_00 has no frame with a valid pose'


@pytest.mark.filterwarnings('ignore:skipping frame')
@pytest.mark.parametrize('corrupt', [corrupt_missing_depth, corrupt_truncated_mesh, corrupt_nan_vertices,
                                     corrupt_intrinsic_shape, corrupt_label_count, corrupt_missing_mesh,
                                     corrupt_half_size_depth, corrupt_odd_colour_size, corrupt_odd_label_size,
                                     corrupt_every_depth_frame_shrunk, corrupt_every_colour_frame_shrunk,
                                     corrupt_every_pose])
def test_bad_input_names_the_file(dataset, tmp_path, layout, corrupt):
    root, written = dataset
    error_type, path, message = corrupt(written['scene0001_00'], layout)
    with pytest.raises(error_type, match=re.escape(str(path)) + '.*' + message):
        convert(root, tmp_path / 'out')


def test_a_synthrooms_scene_whose_depth_frames_were_all_shrunk_is_refused_before_writing(synthrooms_tiny, tmp_path):
    """The tiny SynthRooms depth frames are 160x120 with cx 79.5; re-exported at 80x60 they would pair a few
    hundredths of the visible points, at the wrong pixels."""
    scene_dir = tmp_path / 'raw' / 'scans' / 'scene0000_00'
    shutil.copytree(synthrooms_tiny / 'raw' / 'scans' / 'scene0000_00', scene_dir)
    for path in (scene_dir / 'depth').iterdir():
        with Image.open(path) as image:
            image.resize((80, 60), Image.NEAREST).save(path)
    with pytest.raises(ScanNetFormatError, match=re.escape(
            f'{scene_dir / "intrinsic" / "intrinsic_depth.txt"}: the principal point (cx 79.5, cy 59.5 pixels) lies '
            "outside the middle half of scene scene0000_00's depth images, which are 80x60 pixels")):
        convert_scene('scene0000_00', str(scene_dir), str(scene_dir), str(tmp_path / 'out'))
    assert not (tmp_path / 'out').exists()


def test_scene_missing_from_scans(dataset, tmp_path, layout):
    root, _ = dataset
    layout.write_split(root, 'val', VAL + ['scene0999_00'])
    with pytest.raises(ScanNetMissingFileError, match=re.escape(str(root / 'scans' / 'scene0999_00'))
                       + '.*scene0999_00 is listed in .*scannetv2_val.txt'):
        convert(root, tmp_path / 'out')
    assert not (tmp_path / 'out' / 'points').exists(), 'nothing is converted before the scene check'


def test_an_empty_split_file_is_refused(dataset, tmp_path, layout):
    layout.write_split(dataset[0], 'val', [])
    with pytest.raises(ScanNetFormatError, match=re.escape(str(dataset[0] / 'scannetv2_val.txt'))
                       + ': the split file lists no scenes'):
        convert(dataset[0], tmp_path / 'out')


def test_scannets_label_table_is_copied_next_to_the_infos(dataset, tmp_path):
    root, _ = dataset
    (root / 'scannetv2-labels.combined.tsv').write_text('id\tnyu40id\n2\t5\n')
    convert(root, tmp_path / 'out')
    assert (tmp_path / 'out' / 'scannetv2-labels.combined.tsv').read_text() == 'id\tnyu40id\n2\t5\n'


def test_max_frames_below_one_is_refused(dataset, tmp_path):
    with pytest.raises(ValueError, match='max_frames must be >= 1'):
        convert(dataset[0], tmp_path / 'out', max_frames=0)


def test_a_scene_whose_inputs_changed_is_converted_again(dataset, tmp_path, layout):
    root, written = dataset
    out = tmp_path / 'out'
    convert(root, out)
    scene = written['scene0001_00']
    new_labels = np.full(len(scene['xyz']), 7, np.int64)
    layout.write_labels(scene['scene_dir'] / 'scene0001_00_vh_clean_2.labels.ply', scene['xyz'], new_labels)
    summary = convert(root, out)
    assert summary['converted'] == ['scene0001_00']
    assert np.array_equal(np.fromfile(out / 'semantic_mask' / 'scene0001_00.bin', np.int64), new_labels)
    (scene['frames_dir'] / 'pose' / '2.txt').unlink()
    (scene['frames_dir'] / 'color' / '2.jpg').unlink()
    (scene['frames_dir'] / 'depth' / '2.png').unlink()
    assert convert(root, out)['converted'] == ['scene0001_00']  # a frame removed
    assert len(load_info(out, 'train')['data_list'][1]['frames']) == 2


def test_missing_split_file(dataset, tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(dataset[0] / 'scannetv2_test.txt'))):
        convert(dataset[0], tmp_path / 'out', splits=('test',))


def test_worker_errors_reach_the_caller(dataset, tmp_path, layout):
    root, written = dataset
    error_type, path, message = corrupt_nan_vertices(written['scene0001_00'], layout)
    with pytest.raises(error_type, match=re.escape(str(path)) + '.*' + message):
        convert(root, tmp_path / 'out', workers=2)


def test_failed_overwrite_invalidates_the_old_record(dataset, tmp_path, layout):
    root, written = dataset
    out = tmp_path / 'out'
    convert(root, out)
    corrupt_nan_vertices(written['scene0001_00'], layout)
    with pytest.raises(ScanNetFormatError):
        convert(root, out, overwrite=True)
    assert not (out / 'scenes' / 'scene0001_00.json').exists()


def test_sets_written_recorded_and_recomputed_when_their_options_change(dataset, tmp_path):
    root, written = dataset
    out = tmp_path / 'out'
    convert(root, out, sets=dict(min_size=1))
    entry = load_info(out, 'train')['data_list'][0]
    sets = np.fromfile(out / 'sets' / entry['pts_sets_path'], dtype=np.int64)
    assert len(sets) == entry['num_points'] and sets.min() == 0 and sets.max() + 1 == entry['num_sets']
    assert convert(root, out, sets=dict(min_size=1))['converted'] == []  # same options: reused
    result = convert(root, out, sets=dict(min_size=100))  # other options: every scene again, one set each
    assert sorted(result['converted']) == sorted(TRAIN + VAL)
    assert load_info(out, 'train')['data_list'][0]['num_sets'] == 1


def test_sets_from_scannet_segs_json(dataset, tmp_path):
    root, written = dataset
    scene = TRAIN[0]
    num_vertices = len(written[scene]['xyz'])
    seg_indices = [7 if i % 2 else 3 for i in range(num_vertices)]  # ScanNet's ids are arbitrary integers
    (root / 'scans' / scene / f'{scene}_vh_clean_2.0.010000.segs.json').write_text(
        '{"segIndices": %s}' % seg_indices)
    with pytest.raises(FileNotFoundError, match=re.escape(f'{TRAIN[1]}_vh_clean_2.0.010000.segs.json')):
        convert(root, tmp_path / 'out', sets=dict(source='segs_json'))
    entry = convert_scene(scene, str(root / 'scans' / scene), str(root / 'scans' / scene), str(tmp_path / 'one'),
                          sets=dict(source='segs_json'))
    sets = np.fromfile(tmp_path / 'one' / 'sets' / f'{scene}.bin', dtype=np.int64)
    assert sets.tolist() == [1 if i % 2 else 0 for i in range(num_vertices)] and entry['num_sets'] == 2
