"""nuScenes database tables (the JSON files under <root>/<version>/) in the devkit's record format: the static
tables, the records of one generated scene and the file names those records point to."""
import datetime
import functools
import hashlib
import json
import os

from ..fileio import atomic_write
from .categories import ATTRIBUTES, LIDARSEG_CATEGORIES, VISIBILITIES
from .rig import CHANNELS, LIDAR, camera_intrinsic, quaternion

VERSION = 'v1.0-mini'
# every table the devkit loads, lidarseg last
TABLE_NAMES = ('category', 'attribute', 'visibility', 'instance', 'sensor', 'calibrated_sensor', 'ego_pose', 'log',
               'scene', 'sample', 'sample_data', 'sample_annotation', 'map', 'lidarseg')


def make_token(*parts):
    """Deterministic 32-hex-digit token of ``parts`` (anything with a stable repr)."""
    return hashlib.md5(repr(parts).encode()).hexdigest()


def static_tables():
    """The tables that do not depend on the scenes: category (the 32 lidarseg classes with their index),
    attribute, visibility, sensor; no object annotations (empty instance and sample_annotation)."""
    return dict(
        category=[dict(token=make_token('category', name), name=name, description=description, index=index)
                  for index, (name, description) in enumerate(LIDARSEG_CATEGORIES)],
        attribute=[dict(token=make_token('attribute', name), name=name, description=description)
                   for name, description in ATTRIBUTES],
        visibility=[dict(token=token, level=level, description=description)
                    for token, level, description in VISIBILITIES],
        sensor=[dict(token=sensor_token(channel), channel=channel, modality='lidar' if channel == LIDAR else 'camera')
                for channel in CHANNELS],
        instance=[], sample_annotation=[])


def sensor_token(channel):
    """Token of the sensor record of ``channel``."""
    return make_token('sensor', channel)


def pose_fields(matrix):
    """``translation`` (3,) and ``rotation`` (w, x, y, z) fields of a rigid (4, 4) matrix, as JSON lists."""
    return dict(translation=[float(value) for value in matrix[:3, 3]], rotation=quaternion(matrix[:3, :3]))


def link(records):
    """Set ``prev`` / ``next`` tokens of consecutive ``records`` (a time-ordered list of dicts); returns it."""
    for index, record in enumerate(records):
        record['prev'] = records[index - 1]['token'] if index > 0 else ''
        record['next'] = records[index + 1]['token'] if index + 1 < len(records) else ''
    return records


def scene_tokens(seed, scene_name):
    """The token function of one scene's records: ``token(*parts)`` = make_token(seed, scene_name, *parts)."""
    return functools.partial(make_token, seed, scene_name)


def sample_data_token(token, channel, timestamp):
    """Token of the sample_data record of ``channel`` at ``timestamp`` (also its ego_pose and lidarseg token);
    ``token`` is the scene's token function (scene_tokens)."""
    return token(channel, timestamp)


def logfile_name(vehicle, start, utc_offset):
    """nuScenes log name of a drive by ``vehicle`` that starts at ``start`` (UTC datetime) where local time is
    ``utc_offset`` hours from UTC: <vehicle>-<local %Y-%m-%d-%H-%M-%S><+HH00>."""
    local = start + datetime.timedelta(hours=utc_offset)
    return f'{vehicle}-{local:%Y-%m-%d-%H-%M-%S}{utc_offset:+03d}00'


def sample_data_stem(logfile, channel, timestamp):
    """File stem of a sensor reading (and of its 2D ground truth): <logfile>__<channel>__<timestamp>."""
    return f'{logfile}__{channel}__{timestamp}'


def sample_data_filename(logfile, channel, timestamp, key_frame):
    """File of a sample_data record below the root: samples/ for keyframes, sweeps/ otherwise, then
    <channel>/<stem>.pcd.bin (LiDAR) or .jpg (camera)."""
    extension = 'pcd.bin' if channel == LIDAR else 'jpg'
    stem = sample_data_stem(logfile, channel, timestamp)
    return f'{"samples" if key_frame else "sweeps"}/{channel}/{stem}.{extension}'


def lidarseg_filename(sample_data_token):
    """File of the lidarseg labels of a LiDAR keyframe below the root."""
    return f'lidarseg/{VERSION}/{sample_data_token}_lidarseg.bin'


def log_record(token, vehicle, location, start, utc_offset):
    """The log record of a drive by ``vehicle`` in ``location`` that starts at ``start`` (UTC datetime), local
    time ``utc_offset`` hours from UTC (see logfile_name)."""
    local = start + datetime.timedelta(hours=utc_offset)
    return dict(token=token('log'), logfile=logfile_name(vehicle, start, utc_offset), vehicle=vehicle,
                date_captured=f'{local:%Y-%m-%d}', location=location)


def calibrated_sensor_records(token, rig, image_size):
    """{channel: calibrated_sensor record} of every sensor: extrinsics of ``rig`` {channel: sensor-to-ego (4, 4)},
    camera intrinsics for images of ``image_size`` (W, H)."""
    return {channel: dict(token=token('calibrated_sensor', channel), sensor_token=sensor_token(channel),
                          camera_intrinsic=[] if channel == LIDAR else camera_intrinsic(channel, image_size).tolist(),
                          **pose_fields(rig[channel]))
            for channel in CHANNELS}


def sample_records(token, timestamps):
    """The linked sample records at the keyframe ``timestamps`` (microseconds, ascending)."""
    return link([dict(token=token('sample', index), timestamp=timestamp, scene_token=token('scene'))
                 for index, timestamp in enumerate(timestamps)])


def sample_data_records(token, logfile, captures, samples, calibrated, image_size):
    """sample_data and ego_pose records of ``captures`` (scene.Capture, in generation order) in that order; the
    sample_data records of each sensor are linked in time order. ``samples``: the sample records the captures'
    ``sample`` indices refer to; ``calibrated``: {channel: calibrated_sensor record}."""
    sample_data, ego_poses = [], []
    for capture in captures:
        channel, timestamp = capture.channel, capture.timestamp
        record_token = sample_data_token(token, channel, timestamp)
        width, height = (0, 0) if channel == LIDAR else image_size
        sample_data.append(dict(
            token=record_token, sample_token=samples[capture.sample]['token'], ego_pose_token=record_token,
            calibrated_sensor_token=calibrated[channel]['token'], timestamp=timestamp,
            fileformat='pcd' if channel == LIDAR else 'jpg', is_key_frame=capture.key_frame, height=height,
            width=width, filename=sample_data_filename(logfile, channel, timestamp, capture.key_frame)))
        ego_poses.append(dict(token=record_token, timestamp=timestamp, **pose_fields(capture.ego_to_global)))
    for channel in CHANNELS:
        link([record for record in sample_data if record['calibrated_sensor_token'] == calibrated[channel]['token']])
    return sample_data, ego_poses


def lidarseg_records(sample_data):
    """A lidarseg record for every LiDAR keyframe among the ``sample_data`` records, in their order."""
    return [dict(token=record['token'], sample_data_token=record['token'], filename=lidarseg_filename(record['token']))
            for record in sample_data if record['fileformat'] == 'pcd' and record['is_key_frame']]


def scene_record(token, log, samples, name, description):
    """The scene record of the drive logged in ``log`` with the (time-ordered) ``samples``."""
    return dict(token=token('scene'), log_token=log['token'], nbr_samples=len(samples),
                first_sample_token=samples[0]['token'], last_sample_token=samples[-1]['token'], name=name,
                description=description)


def scene_records(token, log, name, description, rig, captures, image_size):
    """{table name: [records]} of one scene: its ``log`` record and the scene, sample, sample_data, ego_pose,
    calibrated_sensor and lidarseg records of a drive with sensor ``rig`` {channel: sensor-to-ego (4, 4)} and
    ``captures`` (scene.Capture, in generation order), images of ``image_size`` (W, H)."""
    calibrated = calibrated_sensor_records(token, rig, image_size)
    samples = sample_records(token, [capture.timestamp for capture in captures
                                     if capture.channel == LIDAR and capture.key_frame])
    sample_data, ego_poses = sample_data_records(token, log['logfile'], captures, samples, calibrated, image_size)
    return dict(log=[log], scene=[scene_record(token, log, samples, name, description)], sample=samples,
                sample_data=sample_data, ego_pose=ego_poses, calibrated_sensor=list(calibrated.values()),
                lidarseg=lidarseg_records(sample_data))


def table_path(root, name):
    """<root>/<VERSION>/<name>.json"""
    return os.path.join(root, VERSION, f'{name}.json')


def tables_complete(root):
    """Whether every table file exists (they are written last, so the dataset is complete)."""
    return all(os.path.isfile(table_path(root, name)) for name in TABLE_NAMES)


def remove_tables(root):
    """Delete the table files, so that an interrupted regeneration never looks complete."""
    for name in TABLE_NAMES:
        if os.path.isfile(table_path(root, name)):
            os.remove(table_path(root, name))


def write_tables(root, tables):
    """Write ``tables`` {name: [record]} (all of TABLE_NAMES) as JSON, each file atomically."""
    for name in TABLE_NAMES:
        data = json.dumps(tables[name], indent=0).encode()
        atomic_write(table_path(root, name), lambda file, data=data: file.write(data))
