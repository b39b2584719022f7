"""The converter and the pairing's depth test on the real ScanNet RGB-D sample (scene0707_00, SensReader
export, no mesh): frame 0's depth becomes the scene's points, frame 2 must see them where its depth agrees."""
import os
import pickle

import numpy as np

from hicl.converters.scannet import convert_scannet
from hicl.converters.scannet_raw import read_intrinsic, read_pose
from hicl.dataset_io import read_depth
from hicl.geometry import depth_agrees, project_points
from tests.datasets.test_scannet_raw import back_project

SCENE = 'scene0707_00'


def make_raw_layout(sample, root, layout):
    """ScanNet layout around the real frames: a vertex-only mesh of frame 0's back-projected depth."""
    scan = root / 'scans' / SCENE
    scan.mkdir(parents=True)
    for folder in ('color', 'depth', 'pose', 'intrinsic'):
        os.symlink(sample / folder, scan / folder)
    depth = read_depth(str(sample / 'depth' / '0.png'))[::4, ::4]
    intrinsic = read_intrinsic(str(sample / 'intrinsic' / 'intrinsic_depth.txt')).copy()
    intrinsic[:2, :3] /= 4  # every 4th pixel (pixel centres stay at integer coordinates: cx / 4 is approximate)
    xyz = back_project(depth, intrinsic, read_pose(str(sample / 'pose' / '0.txt'))).astype(np.float32)
    layout.write_mesh(scan / f'{SCENE}_vh_clean_2.ply', xyz, np.full((len(xyz), 3), 128, np.uint8))
    (root / 'scannetv2_val.txt').write_text(SCENE + '\n')
    return xyz


def test_converted_real_scene_pairs_with_its_other_frames(shared_data, tmp_path, layout):
    sample = shared_data / 'scannet_rgbd_scene0707_00'
    xyz = make_raw_layout(sample, tmp_path / 'raw', layout)
    result = convert_scannet(str(tmp_path / 'raw'), str(tmp_path / 'out'), splits=('val',), progress=False)
    info = pickle.load(open(result['infos']['val'], 'rb'))['data_list'][0]
    points = np.fromfile(tmp_path / 'out' / 'points' / f'{SCENE}.bin', dtype=np.float32).reshape(-1, 6)
    np.testing.assert_array_equal(points[:, :3], xyz)
    assert [f['frame_id'] for f in info['frames']] == ['0', '1', '2']
    assert info['camera']['color_size'] == [1296, 968] and info['camera']['depth_size'] == [640, 480]

    frame2 = info['frames'][2]
    depth2 = read_depth(os.path.join(tmp_path / 'out', frame2['depth_path']))[None]
    pose2 = np.asarray(frame2['pose'])[None]
    intrinsic_depth = np.asarray(info['camera']['intrinsic_depth'])
    seen = depth_agrees(points[:, :3], pose2, depth2, intrinsic_depth, tolerance=0.05)[0]
    assert seen.mean() > 0.85  # frame 2 sees frame 0's surfaces, within 5 cm
    uv, z = project_points(points[seen, :3], pose2, intrinsic_depth)
    rows, cols = np.rint(uv[0, :, 1]).astype(int), np.rint(uv[0, :, 0]).astype(int)
    assert np.median(np.abs(depth2[0, rows, cols] - z[0])) < 0.02  # centimetre agreement
    # a camera placed 30 cm behind frame 2's sees the same points 30 cm further away: the test rejects them
    moved = pose2.copy()
    moved[0, :3, 3] -= 0.3 * moved[0, :3, 2]
    assert depth_agrees(points[:, :3], moved, depth2, intrinsic_depth, tolerance=0.05)[0].mean() < 0.05
