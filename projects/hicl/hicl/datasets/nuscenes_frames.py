"""The camera frames of mmdet3d nuScenes infos in the scene/frame form the pseudo-labelling code walks."""
import json
import os

from ..dataset_io import lidar_stem
from ..geometry.nuscenes import NUSCENES_CAMERAS
from ..safe_pickle import load_info_file


def read_mmdet3d_infos(path):
    """``data_list`` of an mmdet3d v1.x info file (.pkl as written by mmdet3d, or .json)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'nuScenes info file {path} not found: create it with mmdet3d\'s '
                                'tools/create_data.py nuscenes (v1.x infos)')
    if path.endswith('.json'):
        with open(path) as f:
            infos = json.load(f)
    else:
        infos = load_info_file(path)
    if 'data_list' not in infos:
        raise ValueError(f'{path} is not an mmdet3d v1.x info file (no data_list): convert it with mmdet3d >= 1.1')
    return infos['data_list']


def nuscenes_camera_scenes(data_list, cameras=NUSCENES_CAMERAS):
    """One "scene" per sample (scene_id: the LiDAR file name without extension) whose frames are its cameras
    (frame_id: camera name, color_path: the info's img_path, relative to the camera image folder), so
    label_dataset writes the cache as <cache_root>/<lidar file stem>/<CAMERA>.png."""
    scenes = []
    for info in data_list:
        scene_id = lidar_stem(info['lidar_points']['lidar_path'])
        missing = [camera for camera in cameras if camera not in info.get('images', {})]
        if missing:
            raise ValueError(f'sample {scene_id} has no image entry for {missing} in its info')
        frames = [dict(frame_id=camera, color_path=info['images'][camera]['img_path'])
                  for camera in cameras]
        scenes.append(dict(scene_id=scene_id, frames=frames))
    return scenes
