"""Generate one SynthStreet scene: drive the ego along a street, write its LiDAR sweeps, lidarseg labels, camera
images and 2D ground truth in the nuScenes layout, and return the scene's table records."""
import datetime
import functools
import os
from typing import NamedTuple

import numpy as np
from PIL import Image

from ..fileio import atomic_write
from .camera import render_camera, sample_lighting
from .layout import generate_layout
from .lidar import simulate_sweep
from .rig import CHANNELS, LIDAR, camera_intrinsic, sample_rig
from .tables import VERSION, link, make_token, pose_fields, sensor_token
from .trajectory import KEYFRAME_INTERVAL, SPEED_RANGE, capture_times, sample_motion

# location: (vehicle, UTC offset in hours, left-hand traffic)
LOCATIONS = {'singapore-onenorth': ('n015', 8, True), 'boston-seaport': ('n008', -4, False),
             'singapore-queenstown': ('n015', 8, True), 'singapore-hollandvillage': ('n015', 8, True)}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
FIRST_DAY = datetime.datetime(2018, 7, 24, tzinfo=datetime.timezone.utc)
JPEG_OPTIONS = dict(format='JPEG', quality=90)
PNG_OPTIONS = dict(format='PNG', compress_level=1)


class SceneSpec(NamedTuple):
    """What generate_synthstreet fixes for scene ``index``: its ``name``, ``location`` (a key of LOCATIONS),
    global ``center`` (x, y) m of its street and the ``features`` its layout must contain."""
    index: int
    name: str
    location: str
    center: tuple
    features: tuple


def _save_array(path, array):
    """Write a numpy array's raw bytes (C order) atomically."""
    atomic_write(path, np.ascontiguousarray(array).tofile)


def _save_image(path, array, options):
    """Encode an image array with PIL ``save`` options and write it atomically."""
    atomic_write(path, functools.partial(Image.fromarray(array).save, **options))


def _log(seed, spec, rng):
    """The scene's log record and its start time (microseconds since the epoch)."""
    vehicle, utc_offset, _ = LOCATIONS[spec.location]
    hour = datetime.timedelta(hours=1)
    start = FIRST_DAY + spec.index * 24 * hour + rng.uniform(1, 10) * hour  # timedelta keeps whole microseconds
    local = start + datetime.timedelta(hours=utc_offset)
    logfile = f'{vehicle}-{local:%Y-%m-%d-%H-%M-%S}{utc_offset:+03d}00'
    record = dict(token=make_token(seed, spec.name, 'log'), logfile=logfile, vehicle=vehicle,
                  date_captured=f'{local:%Y-%m-%d}', location=spec.location)
    return record, (start - EPOCH) // datetime.timedelta(microseconds=1)


def _rngs(seed, index):
    """Independent generators (layout, motion, time, lidar, camera) of scene ``index``."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence((seed, index)).spawn(5)]


def scene_layout(spec, seed, samples_per_scene):
    """The ego speed (m/s) and StreetLayout of scene ``spec``, deterministic from (seed, spec.index)."""
    rng = _rngs(seed, spec.index)[0]
    speed = rng.uniform(*SPEED_RANGE)
    length = speed * KEYFRAME_INTERVAL * (samples_per_scene - 1)
    heading = rng.uniform(0, 2 * np.pi)
    return speed, generate_layout(rng, length, spec.center, heading, LOCATIONS[spec.location][2], spec.features)


def generate_scene(root, spec, seed, samples_per_scene=8, sweeps_per_sample=0, image_size=(400, 225),
                   azimuth_steps=1084):
    """Write scene ``spec`` under ``root`` and return {table name: [records]} of its log, scene, sample,
    sample_data, ego_pose, calibrated_sensor and lidarseg records, plus ``map`` = (location, log token,
    driveable (K, 4, 2) global xy corners). Deterministic from (seed, spec.index)."""
    _, motion_rng, time_rng, lidar_rng, camera_rng = _rngs(seed, spec.index)
    speed, layout = scene_layout(spec, seed, samples_per_scene)
    motion = sample_motion(motion_rng, layout.street_pose, layout.ego_lane, speed)
    rig = sample_rig(motion_rng)
    lighting = sample_lighting(camera_rng)
    log, start = _log(seed, spec, time_rng)
    keyframes, sweeps, camera_times = capture_times(time_rng, samples_per_scene, sweeps_per_sample)

    def token(*parts):
        return make_token(seed, spec.name, *parts)

    calibrated = {channel: dict(token=token('calibrated_sensor', channel), sensor_token=sensor_token(channel),
                                camera_intrinsic=[] if channel == LIDAR else
                                camera_intrinsic(channel, image_size).tolist(), **pose_fields(rig[channel]))
                  for channel in CHANNELS}
    samples = link([dict(token=token('sample', k), timestamp=int(start + keyframes[k]),
                         scene_token=token('scene')) for k in range(samples_per_scene)])
    records = dict(sample_data=[], ego_pose=[], lidarseg=[])

    def add_sample_data(channel, time, sample, key, folder, extension):
        """Record one sample_data with its ego pose; returns (record, sensor-to-global pose, file stem)."""
        timestamp = int(start + time)
        sd_token = token(channel, timestamp)
        ego_to_global = motion.ego_to_global(time / 1e6)
        stem = f'{log["logfile"]}__{channel}__{timestamp}'
        width, height = (0, 0) if channel == LIDAR else image_size
        record = dict(token=sd_token, sample_token=sample['token'], ego_pose_token=sd_token,
                      calibrated_sensor_token=calibrated[channel]['token'], timestamp=timestamp,
                      fileformat='pcd' if channel == LIDAR else 'jpg', is_key_frame=key, height=height, width=width,
                      filename=f'{folder}/{channel}/{stem}.{extension}')
        records['sample_data'].append(record)
        records['ego_pose'].append(dict(token=sd_token, timestamp=timestamp, **pose_fields(ego_to_global)))
        return record, ego_to_global @ rig[channel], stem

    lidar_chain = []
    for k, sample in enumerate(samples):
        record, pose, _ = add_sample_data(LIDAR, keyframes[k], sample, True, 'samples', 'pcd.bin')
        sweep = simulate_sweep(layout, pose, lidar_rng, azimuth_steps)
        _save_array(os.path.join(root, record['filename']), sweep.points)
        lidarseg = dict(token=record['token'], sample_data_token=record['token'],
                        filename=f'lidarseg/{VERSION}/{record["token"]}_lidarseg.bin')
        _save_array(os.path.join(root, lidarseg['filename']), sweep.labels)
        records['lidarseg'].append(lidarseg)
        lidar_chain.append(record)
        for time in (sweeps[k] if k + 1 < samples_per_scene else ()):  # sweeps up to the next keyframe
            record, pose, _ = add_sample_data(LIDAR, time, samples[k + 1], False, 'sweeps', 'pcd.bin')
            _save_array(os.path.join(root, record['filename']), simulate_sweep(layout, pose, lidar_rng,
                                                                               azimuth_steps).points)
            lidar_chain.append(record)
        for channel in CHANNELS[1:]:
            record, pose, stem = add_sample_data(channel, camera_times[channel][k], sample, True, 'samples', 'jpg')
            rgb, labels, instances = render_camera(layout, pose, np.array(calibrated[channel]['camera_intrinsic']),
                                                   image_size, lighting, camera_rng)
            _save_image(os.path.join(root, record['filename']), rgb, JPEG_OPTIONS)
            _save_image(os.path.join(root, 'synth_2d', 'labels', channel, f'{stem}.png'), labels, PNG_OPTIONS)
            _save_image(os.path.join(root, 'synth_2d', 'instances', channel, f'{stem}.png'), instances, PNG_OPTIONS)
    link(lidar_chain)
    for channel in CHANNELS[1:]:
        link([record for record in records['sample_data'] if record['calibrated_sensor_token'] ==
              calibrated[channel]['token']])
    scene = dict(token=token('scene'), log_token=log['token'], nbr_samples=samples_per_scene,
                 first_sample_token=samples[0]['token'], last_sample_token=samples[-1]['token'], name=spec.name,
                 description=f'SynthStreet procedural street in {spec.location}, '
                             f'{"left" if LOCATIONS[spec.location][2] else "right"}-hand traffic')
    records.update(log=[log], scene=[scene], sample=samples, calibrated_sensor=list(calibrated.values()),
                   map=(spec.location, log['token'], layout.driveable))
    return records
