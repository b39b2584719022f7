"""SynthStreet: the nuScenes devkit loads it, the LiDAR / camera / 2D-label geometry agrees through the devkit's
own calibration chain, the LiDAR looks like an HDL-32E, generation is deterministic, every class occurs."""
import json
import os
import re

import numpy as np
import pytest
from nuscenes.nuscenes import NuScenes
from nuscenes.utils.color_map import get_colormap
from nuscenes.utils.data_classes import LidarPointCloud
from nuscenes.utils.geometry_utils import transform_matrix
from nuscenes.utils.splits import create_splits_scenes
from PIL import Image
from pyquaternion import Quaternion

from hicl.label_sets import IMAGE_IGNORE, NUSCENES_LIDARSEG_TO_16
from hicl.synthstreet import MINI_SCENE_NAMES, generate_synthstreet
from hicl.synthstreet.generate import scene_specs
from hicl.synthstreet.lidar import ELEVATIONS
from hicl.synthstreet.scene import generate_scene, scene_layout
from hicl.synthstreet.tables import TABLE_NAMES, table_path

IMAGE_SIZE = (400, 225)
CAMERAS = ('CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK', 'CAM_BACK_LEFT', 'CAM_BACK_RIGHT')
LUT16 = np.asarray(NUSCENES_LIDARSEG_TO_16)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """10 scenes x 2 keyframes at the default LiDAR resolution and image size; returns (root, result)."""
    root = str(tmp_path_factory.mktemp('synthstreet'))
    result = generate_synthstreet(root, samples_per_scene=2, image_size=IMAGE_SIZE, workers=2, progress=False)
    return root, result


@pytest.fixture(scope='module')
def nusc(dataset):
    return NuScenes(version='v1.0-mini', dataroot=dataset[0], verbose=False)


def _matrix(record, inverse=False):
    """4x4 transform of a devkit record with translation and rotation (w, x, y, z)."""
    return transform_matrix(record['translation'], Quaternion(record['rotation']), inverse=inverse)


def _keyframe_lidar(nusc, sample):
    """(sample_data record, (N, 5) points, (N,) lidarseg general labels) of a sample's LiDAR keyframe."""
    lidar = nusc.get('sample_data', sample['data']['LIDAR_TOP'])
    points = np.fromfile(nusc.get_sample_data_path(lidar['token']), dtype=np.float32).reshape(-1, 5)
    labels = np.fromfile(os.path.join(nusc.dataroot, nusc.get('lidarseg', lidar['token'])['filename']), np.uint8)
    return lidar, points, labels


def test_devkit_loads_the_mini_split(dataset, nusc):
    root, result = dataset
    assert result == dict(root=root, version='v1.0-mini', scenes=list(MINI_SCENE_NAMES), num_samples=20)
    splits = create_splits_scenes()
    names = [scene['name'] for scene in nusc.scene]
    assert names == splits['mini_train'] + splits['mini_val'] == list(MINI_SCENE_NAMES)
    assert len(set(names) & set(splits['mini_train'])) == 8 and len(set(names) & set(splits['mini_val'])) == 2
    categories = sorted(nusc.category, key=lambda record: record['index'])
    assert [record['name'] for record in categories] == list(get_colormap())  # the 32 lidarseg classes in order
    assert (categories[0]['name'], categories[17]['name'], categories[24]['name'], categories[31]['name']) == (
        'noise', 'vehicle.car', 'flat.driveable_surface', 'vehicle.ego')
    assert len(nusc.sample) == 20 and len(nusc.lidarseg) == 20
    for table in TABLE_NAMES:
        for record in getattr(nusc, table):
            assert table == 'visibility' or re.fullmatch('[0-9a-f]{32}', record['token'])
    for scene in nusc.scene:
        sample = nusc.get('sample', scene['first_sample_token'])
        assert scene['nbr_samples'] == 2 and nusc.get('sample', sample['next'])['token'] == scene['last_sample_token']
    shifts = []  # distances (m) between the ego poses of the LiDAR and of each camera
    for sample in nusc.sample:
        assert sorted(sample['data']) == sorted(CAMERAS + ('LIDAR_TOP',))
        lidar, points, labels = _keyframe_lidar(nusc, sample)
        assert lidar['is_key_frame'] and (lidar['width'], lidar['height']) == (0, 0)
        assert lidar['timestamp'] == sample['timestamp'] and len(labels) == len(points) > 0
        assert labels.max() < 32
        lidar_pose = nusc.get('ego_pose', lidar['ego_pose_token'])
        for camera in CAMERAS:
            image = nusc.get('sample_data', sample['data'][camera])
            assert (image['width'], image['height']) == IMAGE_SIZE
            assert Image.open(nusc.get_sample_data_path(image['token'])).size == IMAGE_SIZE
            # its own timestamp and ego pose: the calibration chain is not the identity
            assert 0 < abs(lidar['timestamp'] - image['timestamp']) < 50_000
            camera_pose = nusc.get('ego_pose', image['ego_pose_token'])
            shifts.append(np.linalg.norm(np.subtract(camera_pose['translation'], lidar_pose['translation'])))
        assert min(shifts[-6:]) > 0 and max(shifts[-6:]) > 0.2
        # the ego drives on the driveable surface of the location's map mask
        log = nusc.get('log', nusc.get('scene', sample['scene_token'])['log_token'])
        mask = nusc.get('map', log['map_token'])['mask']
        assert mask.is_on_mask(*lidar_pose['translation'][:2])[0]


def test_second_call_reuses_the_complete_dataset(dataset):
    root, result = dataset
    stamp = os.path.getmtime(table_path(root, 'sample'))
    assert generate_synthstreet(root, samples_per_scene=5, progress=False) == result
    assert os.path.getmtime(table_path(root, 'sample')) == stamp


def _label_agreement(nusc, camera_ego_from_lidar=False):
    """Fraction of keyframe LiDAR points (projected with depth > 1 m into the images) whose 2D label equals their
    lidarseg class in 16 classes: (all points, non-ground points within 15 m). The chain is LiDAR -> ego (LiDAR
    time) -> global -> ego (camera time, or LiDAR time when ``camera_ego_from_lidar``) -> camera."""
    counts = np.zeros((2, 2))
    for sample in nusc.sample:
        lidar, points, labels = _keyframe_lidar(nusc, sample)
        labels = LUT16[labels]
        lidar_to_global = (_matrix(nusc.get('ego_pose', lidar['ego_pose_token'])) @
                           _matrix(nusc.get('calibrated_sensor', lidar['calibrated_sensor_token'])))
        for camera in CAMERAS:
            image = nusc.get('sample_data', sample['data'][camera])
            calibration = nusc.get('calibrated_sensor', image['calibrated_sensor_token'])
            ego = nusc.get('ego_pose', (lidar if camera_ego_from_lidar else image)['ego_pose_token'])
            lidar_to_camera = _matrix(calibration, inverse=True) @ _matrix(ego, inverse=True) @ lidar_to_global
            xyz = points[:, :3] @ lidar_to_camera[:3, :3].T + lidar_to_camera[:3, 3]
            intrinsic = np.asarray(calibration['camera_intrinsic'])
            depth = xyz[:, 2]
            front = depth > 1.0
            u = np.rint(intrinsic[0, 0] * xyz[front, 0] / depth[front] + intrinsic[0, 2]).astype(int)
            v = np.rint(intrinsic[1, 1] * xyz[front, 1] / depth[front] + intrinsic[1, 2]).astype(int)
            inside = (u >= 0) & (u < image['width']) & (v >= 0) & (v < image['height'])
            stem = os.path.basename(image['filename'])[:-len('.jpg')]
            truth = np.asarray(Image.open(os.path.join(nusc.dataroot, 'synth_2d', 'labels', camera, f'{stem}.png')))
            agree = truth[v[inside], u[inside]] == labels[front][inside]
            near_object = (depth[front][inside] < 15.0) & ~np.isin(labels[front][inside], (10, 11, 12, 13))
            counts += [[agree.sum(), agree.size], [agree[near_object].sum(), near_object.sum()]]
    return counts[:, 0] / counts[:, 1]


def test_lidar_points_project_onto_their_2d_labels(nusc):
    overall, near_objects = _label_agreement(nusc)
    assert overall > 0.93  # the rest: occlusion seen from the LiDAR's other viewpoint, boundaries
    assert near_objects > 0.96
    # the check sees a broken chain: the ego moves ~0.3-0.5 m between a camera's and the LiDAR's timestamps
    assert _label_agreement(nusc, camera_ego_from_lidar=True)[1] < 0.96


def test_2d_ground_truth_images(nusc):
    sample = nusc.sample[0]
    for camera in CAMERAS:
        stem = os.path.basename(nusc.get('sample_data', sample['data'][camera])['filename'])[:-len('.jpg')]
        labels = Image.open(os.path.join(nusc.dataroot, 'synth_2d', 'labels', camera, f'{stem}.png'))
        instances = Image.open(os.path.join(nusc.dataroot, 'synth_2d', 'instances', camera, f'{stem}.png'))
        assert labels.mode == 'L' and instances.mode.startswith('I') and labels.size == instances.size == IMAGE_SIZE
        labels, instances = np.asarray(labels), np.asarray(instances)
        assert set(np.unique(labels)) <= set(range(16)) | {IMAGE_IGNORE}
        assert np.array_equal(labels == IMAGE_IGNORE, instances == 0)  # sky has neither


def test_lidar_sweeps_look_like_an_hdl32e(nusc):
    for sample in nusc.sample:
        _, points, _ = _keyframe_lidar(nusc, sample)
        assert 25_000 <= len(points) <= 35_000  # default 1084 azimuth steps
        rings = points[:, 4].astype(int)
        assert np.array_equal(np.unique(rings), np.arange(32)) and np.all(points[:, 4] == rings)
        elevation = np.arctan2(points[:, 2], np.linalg.norm(points[:, :2], axis=1))
        assert np.abs(elevation - ELEVATIONS[31 - rings]).max() < np.deg2rad(0.01)
        assert np.allclose(np.rad2deg(ELEVATIONS[[0, -1]]), (-30.67, 10.67))
        distance = np.linalg.norm(points[:, :3], axis=1)
        assert distance.min() >= 1.0 and distance.max() <= 70.0
        intensity = points[:, 3]
        assert intensity.min() >= 0 and intensity.max() <= 255 and np.all(intensity == np.round(intensity))
        assert intensity.std() > 3


def test_generation_is_deterministic(tmp_path):
    spec = scene_specs(1)[3]
    options = dict(samples_per_scene=1, image_size=(64, 36), azimuth_steps=360)
    sweeps = []
    for seed, folder in ((0, 'a'), (0, 'b'), (1, 'c')):
        records = generate_scene(str(tmp_path / folder), spec, seed, **options)
        path = tmp_path / folder / records['sample_data'][0]['filename']
        sweeps.append((path.read_bytes(), json.dumps([records[name] for name in ('sample', 'sample_data')])))
    assert sweeps[0] == sweeps[1]
    assert sweeps[0][0] != sweeps[2][0] and sweeps[0][1] != sweeps[2][1]


def test_every_class_occurs(nusc):
    layout_classes = set()
    for spec in scene_specs(8):  # the layouts of the default dataset
        layout_classes |= set(LUT16[scene_layout(spec, 0, 8)[1].boxes.labels])
    assert layout_classes == set(range(16))
    point_counts = np.zeros(17, dtype=np.int64)
    for sample in nusc.sample:
        point_counts += np.bincount(LUT16[_keyframe_lidar(nusc, sample)[2]], minlength=17)
    assert np.all(point_counts[:16] > 0) and point_counts[16] == 0
    fractions = point_counts / point_counts.sum()
    assert fractions[10] == fractions.max() and min(fractions[[14, 15, 12]]) > 0.03 > max(fractions[[1, 7]])


def test_sweeps_between_keyframes(tmp_path):
    root = str(tmp_path)
    generate_synthstreet(root, samples_per_scene=2, sweeps_per_sample=1, image_size=(64, 36), azimuth_steps=360,
                         progress=False)
    nusc = NuScenes(version='v1.0-mini', dataroot=root, verbose=False)
    assert len(nusc.lidarseg) == 20 and len(os.listdir(os.path.join(root, 'sweeps', 'LIDAR_TOP'))) == 10
    for scene in nusc.scene:
        first = nusc.get('sample', scene['first_sample_token'])
        second = nusc.get('sample', first['next'])
        key = nusc.get('sample_data', second['data']['LIDAR_TOP'])
        sweep = nusc.get('sample_data', key['prev'])
        assert not sweep['is_key_frame'] and sweep['filename'].startswith('sweeps/LIDAR_TOP/')
        assert sweep['prev'] == first['data']['LIDAR_TOP'] and sweep['next'] == key['token']
        assert first['timestamp'] < sweep['timestamp'] < second['timestamp']
        assert os.path.getsize(nusc.get_sample_data_path(sweep['token'])) % 20 == 0
        cloud, times = LidarPointCloud.from_file_multisweep(nusc, second, 'LIDAR_TOP', 'LIDAR_TOP', nsweeps=3)
        assert len(np.unique(times)) == 3 and cloud.points.shape[1] == times.shape[1]
