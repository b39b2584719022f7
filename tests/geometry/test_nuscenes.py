"""nuScenes calibration chain and LiDAR <-> camera pairing: hand-computed cases and the real demo sweep."""
import copy
import json

import numpy as np
import pytest

from hicl.geometry.nuscenes import (NUSCENES_CAMERAS, NUSCENES_IMAGE_SIZE, camera_poses_from_info, lidar_to_camera,
                                    pair_lidar_with_cameras)
from hicl.geometry.projection import pixel_lookup, project_points
from hicl.label_sets import (NUSCENES16_CLASSES, NUSCENES16_IGNORE_INDEX, NUSCENES_LIDARSEG_TO_16, get_label_set,
                             map_with_lut)

DEMO_POINTS_INSIDE_ANY_IMAGE = 20206  # SOURCES.md: demo sweep points inside at least one camera image


def rigid(yaw_deg, translation):
    """4x4 rotation about z by ``yaw_deg`` degrees, then translation (metres)."""
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    matrix = np.eye(4)
    matrix[:2, :2] = [[c, -s], [s, c]]
    matrix[:3, 3] = translation
    return matrix


def synthetic_info(with_lidar2cam):
    """An info with six identical forward-looking cameras (z forward = LiDAR x) and moving ego poses."""
    cam2ego = np.array([[0, 0, 1, 1.5], [-1, 0, 0, 0], [0, -1, 0, 1.6], [0, 0, 0, 1.0]])
    lidar2ego, ego2global_lidar = rigid(90, [1, 0, 1.8]), rigid(30, [10, 5, 0])
    ego2global_cam = rigid(31, [10.3, 5.1, 0])
    image = dict(img_path='x.jpg', cam2img=np.diag([1000.0, 1000.0, 1.0]).tolist(), cam2ego=cam2ego.tolist(),
                 ego2global=ego2global_cam.tolist())
    if with_lidar2cam:
        image['lidar2cam'] = lidar_to_camera(lidar2ego, ego2global_lidar, ego2global_cam, cam2ego).tolist()
    return dict(ego2global=ego2global_lidar.tolist(), lidar_points=dict(lidar2ego=lidar2ego.tolist()),
                images={camera: copy.deepcopy(image) for camera in NUSCENES_CAMERAS})


@pytest.fixture
def demo(shared_data):
    """(points (N, 5) float32, info dict) of the real nuScenes demo sweep."""
    folder = shared_data / 'nuscenes_demo'
    info = json.loads((folder / 'info.json').read_text())['data_list'][0]
    points = np.fromfile(folder / info['lidar_points']['lidar_path'], dtype=np.float32).reshape(-1, 5)
    return points, info


def test_lidar_to_camera_hand_computed():
    # LiDAR yawed 90 deg on the ego at (1, 0, 2); ego at (10, 0, 0) yawed 90 deg at the LiDAR time and at (10, 1, 0)
    # unrotated at the camera time; camera at ego (2, 0, 0) unrotated. A LiDAR point (1, 0, 0) -> ego (1, 1, 2)
    # -> global (9, 1, 2) -> camera-time ego (-1, 0, 2) -> camera (-3, 0, 2).
    lidar2ego, ego2global_lidar = rigid(90, [1, 0, 2]), rigid(90, [10, 0, 0])
    ego2global_cam, cam2ego = rigid(0, [10, 1, 0]), rigid(0, [2, 0, 0])
    lidar2cam = lidar_to_camera(lidar2ego, ego2global_lidar, ego2global_cam, cam2ego)
    np.testing.assert_allclose(lidar2cam @ [1, 0, 0, 1], [-3, 0, 2, 1], atol=1e-12)
    expected = np.linalg.inv(cam2ego) @ np.linalg.inv(ego2global_cam) @ ego2global_lidar @ lidar2ego
    np.testing.assert_allclose(lidar2cam, expected, atol=1e-12)


def test_camera_poses_prefer_lidar2cam_and_compose_the_chain_otherwise():
    with_matrix, chain_only = synthetic_info(with_lidar2cam=True), synthetic_info(with_lidar2cam=False)
    with_matrix['images']['CAM_FRONT']['lidar2cam'][0][3] += 0.5  # lidar2cam wins over the pieces
    from_matrix, from_chain = camera_poses_from_info(with_matrix), camera_poses_from_info(chain_only)
    assert from_chain.names == NUSCENES_CAMERAS and from_chain.cam2lidar.shape == (6, 4, 4)
    assert from_chain.intrinsic.shape == (6, 3, 3) and from_chain.img_paths == ('x.jpg',) * 6
    # camera x moved +0.5 m in the camera frame <=> the camera origin sits 0.5 m along -x of the camera
    shift = from_chain.cam2lidar[0, :3, 0] * -0.5
    np.testing.assert_allclose(from_matrix.cam2lidar[0, :3, 3], from_chain.cam2lidar[0, :3, 3] + shift, atol=1e-9)


def test_camera_poses_errors_name_key_and_camera():
    info = synthetic_info(with_lidar2cam=False)
    del info['images']['CAM_BACK']['ego2global']
    with pytest.raises(KeyError, match='CAM_BACK .*"ego2global"'):
        camera_poses_from_info(info)
    del info['images']['CAM_FRONT_LEFT']
    with pytest.raises(KeyError, match='camera "CAM_FRONT_LEFT"'):
        camera_poses_from_info(info)
    info = synthetic_info(with_lidar2cam=True)
    del info['images']['CAM_BACK_RIGHT']['cam2img']
    with pytest.raises(KeyError, match='CAM_BACK_RIGHT has no "cam2img"'):
        camera_poses_from_info(info)


def test_image_size_comes_from_the_info_cameras():
    info = synthetic_info(with_lidar2cam=True)
    assert camera_poses_from_info(info).image_size == NUSCENES_IMAGE_SIZE  # mmdet3d infos carry no size
    for image in info['images'].values():
        image.update(width=400, height=225)
    cameras = camera_poses_from_info(info)
    assert cameras.image_size == (400, 225)
    # cam2img of 400x225 images: at 200x113 label images the principal point (0, 0) moves nowhere and the focal
    # length halves; a point 1 m right of the axis at 20 m lands at u = 1000 / 2 / 20 = 25 px
    point = (cameras.cam2lidar[0] @ [1, 0, 20, 1])[:3]
    labels = np.full((6, 113, 200), 255, dtype=np.uint8)
    labels[0, 0, 25] = 7
    assert pair_lidar_with_cameras(point[None], cameras, labels).label.tolist() == [7]
    info['images']['CAM_BACK']['width'] = 1600
    with pytest.raises(ValueError, match='different image sizes'):
        camera_poses_from_info(info)


def test_pairing_scales_intrinsics_to_label_images():
    info = synthetic_info(with_lidar2cam=True)
    cameras = camera_poses_from_info(info)
    # a point 20 m in front of camera 0 on its optical axis (the principal point is at pixel (0, 0))
    on_axis = (cameras.cam2lidar[0] @ [0, 0, 20, 1])[:3]
    behind = (cameras.cam2lidar[0] @ [0, 0, 0.5, 1])[:3]  # z = 0.5 m < min_depth
    labels = np.full((6, 90, 160), 255, dtype=np.uint8)
    labels[:, 0, 0] = 3
    pairs = pair_lidar_with_cameras(np.stack([on_axis, behind]), cameras, labels)
    assert pairs.point_idx.tolist() == [0] * 6 and pairs.view_idx.tolist() == list(range(6))
    assert pairs.label.tolist() == [3] * 6
    with pytest.raises(ValueError, match=r'\(6, H, W\)'):
        pair_lidar_with_cameras(np.stack([on_axis]), info, labels[:5])


def test_demo_sweep_lands_in_the_six_cameras(demo):
    points, info = demo
    assert points.shape == (34688, 5)
    cameras = camera_poses_from_info(info)
    uv, depth = project_points(points[:, :3], cameras.cam2lidar, cameras.intrinsic)
    in_front = depth > 1.0
    _, _, inside = pixel_lookup(uv, NUSCENES_IMAGE_SIZE)
    landed = inside & in_front
    print('points per camera:', dict(zip(cameras.names, landed.sum(axis=1).tolist())),
          'sum', int(landed.sum()), 'distinct', int(landed.any(axis=0).sum()))
    distinct = landed.any(axis=0).sum()
    assert abs(distinct - DEMO_POINTS_INSIDE_ANY_IMAGE) <= 0.02 * DEMO_POINTS_INSIDE_ANY_IMAGE
    assert distinct <= landed.sum() <= 1.15 * distinct  # camera overlaps count a few points twice
    assert landed.sum(axis=1).min() > 2000  # every camera sees part of the sweep
    # the pairing wrapper, at a quarter of the image size, keeps about the same points, all inside the image
    labels = np.zeros((6, 225, 400), dtype=np.uint8)
    pairs = pair_lidar_with_cameras(points[:, :3], info, labels)
    assert abs(len(pairs.point_idx) - landed.sum()) <= 0.01 * landed.sum()
    assert (depth[pairs.view_idx, pairs.point_idx] > 1.0).all()
    assert np.isin(cameras.names, NUSCENES_CAMERAS).all()


def test_demo_chain_matches_lidar2cam_up_to_ego_motion(demo):
    # The demo info lacks the camera-time ego pose: composing with equal ego poses leaves only the ego motion
    # between the LiDAR and camera timestamps, i.e. a translation v * dt with one velocity v for all cameras.
    _, info = demo
    equal_ego_poses = np.eye(4)
    residual_translations, time_offsets = [], []
    for camera in NUSCENES_CAMERAS:
        image = info['images'][camera]
        composed = lidar_to_camera(info['lidar_points']['lidar2ego'], equal_ego_poses, equal_ego_poses,
                                   image['cam2ego'])
        residual = np.asarray(image['lidar2cam']) @ np.linalg.inv(composed)  # camera motion, in the camera frame
        angle_deg = np.degrees(np.arccos(np.clip((np.trace(residual[:3, :3]) - 1) / 2, -1, 1)))
        assert angle_deg < 0.2, camera
        residual_translations.append(np.asarray(image['cam2ego'])[:3, :3] @ residual[:3, 3])  # in the ego frame
        time_offsets.append(image['timestamp'] - info['timestamp'])
    residual_translations, time_offsets = np.array(residual_translations), np.array(time_offsets)
    velocity = np.linalg.lstsq(time_offsets[:, None], residual_translations, rcond=None)[0][0]
    fitted = time_offsets[:, None] * velocity
    assert np.abs(residual_translations - fitted).max() < 0.01  # 1 cm once the ego motion is explained
    assert 1.0 < np.linalg.norm(velocity) < 30.0  # a plausible driving speed, m/s
    print('ego velocity (ego frame) m/s:', velocity.round(2), 'max offset m:',
          np.abs(residual_translations).max().round(3), 'after the ego motion:',
          np.abs(residual_translations - fitted).max().round(4))


def test_lidarseg_mapping_on_real_sample(shared_data):
    folder = shared_data / 'tiny' / 'nuscenes_lidarseg'
    raw = np.fromfile(next(folder.glob('*_lidarseg.bin')), dtype=np.uint8)
    points = np.fromfile(next(folder.glob('*.pcd.bin')), dtype=np.float32).reshape(-1, 5)
    assert raw.shape == (len(points),) == (40,)
    train = map_with_lut(raw, NUSCENES_LIDARSEG_TO_16, NUSCENES16_IGNORE_INDEX)
    names = {int(r): (NUSCENES16_CLASSES + ('ignore',))[t] for r, t in zip(raw, train)}
    assert names == {17: 'car', 24: 'driveable surface', 27: 'terrain', 28: 'manmade', 30: 'vegetation',
                     31: 'ignore'}


def test_nuscenes16_label_set():
    label_set = get_label_set('nuscenes16')
    assert len(label_set['classes']) == 16 and label_set['ignore_index'] == 16 and label_set['raw_ids'] is None
    assert all('_' not in name for name in label_set['classes'])
    lut = np.asarray(label_set['raw_to_train'])
    assert len(lut) == 32 and sorted(set(lut.tolist())) == list(range(17))  # every class reached, plus ignore
    assert len(set(label_set['palette'])) == 16
    assert map_with_lut([-1, 0, 2, 3, 15, 16, 32], lut, 16).tolist() == [16, 16, 6, 6, 2, 2, 16]
    scannet = get_label_set('scannet20')
    assert map_with_lut([0, 1, 39, 40], scannet['raw_to_train'], scannet['ignore_index']).tolist() == [20, 0, 19, 20]
