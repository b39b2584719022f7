"""MaskCLIP pseudo-labels for the real nuScenes demo sample (6 cameras) through tools/make_pseudo_labels.py,
then paired with the real LiDAR sweep."""
import subprocess
import sys

import numpy as np
from PIL import Image

from hicl.datasets.nuscenes_frames import nuscenes_camera_scenes, read_mmdet3d_infos
from hicl.geometry.nuscenes import NUSCENES_CAMERAS, pair_lidar_with_cameras
from hicl.label_sets import get_label_set
from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors
from tests.conftest import REPO


def test_label_the_demo_cameras_and_pair_them_with_the_sweep(shared_data, tmp_path):
    demo = shared_data / 'nuscenes_demo'
    classes = get_label_set('nuscenes16')['classes']
    save_text_anchors(str(tmp_path / 'anchors.npz'), random_orthonormal_anchors(len(classes), 512), classes,
                      dict(kind='random_orthonormal'))
    config = tmp_path / 'labels.py'
    config.write_text(
        f"data_root = '{tmp_path}/'\n"
        f"pseudo_labels = dict(labeller=dict(type='MaskCLIPLabeller', anchors_file='{tmp_path}/anchors.npz', "
        "pretrained=None, input_size=(224, 128)), "
        f"cache_root='{tmp_path}/cache', label_size=(400, 225))\n")
    out = subprocess.run([sys.executable, 'tools/make_pseudo_labels.py', str(config), '--nuscenes-info',
                          str(demo / 'info.json'), '--image-dir', str(demo)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    info = read_mmdet3d_infos(str(demo / 'info.json'))[0]
    scene = nuscenes_camera_scenes([info])[0]['scene_id']
    labels = np.stack([np.asarray(Image.open(tmp_path / 'cache' / scene / f'{cam}.png')) for cam in NUSCENES_CAMERAS])
    assert labels.shape == (6, 225, 400) and labels.max() < len(classes)
    points = np.fromfile(demo / info['lidar_points']['lidar_path'], dtype=np.float32).reshape(-1, 5)
    pairs = pair_lidar_with_cameras(points[:, :3], info, labels)
    assert abs(len(np.unique(pairs.point_idx)) - 20206) < 0.02 * 20206  # the points inside any camera image


def test_missing_camera_and_wrong_info_are_clear_errors(tmp_path):
    import pytest
    with pytest.raises(ValueError, match=r"sample x has no image entry for \['CAM_BACK'\]"):
        nuscenes_camera_scenes([dict(lidar_points=dict(lidar_path='x.pcd.bin'),
                                     images={c: dict(img_path='a.jpg') for c in NUSCENES_CAMERAS[:3]})],
                               cameras=('CAM_FRONT', 'CAM_BACK'))
    (tmp_path / 'old.json').write_text('{"infos": []}')
    with pytest.raises(ValueError, match='not an mmdet3d v1.x info file'):
        read_mmdet3d_infos(str(tmp_path / 'old.json'))
