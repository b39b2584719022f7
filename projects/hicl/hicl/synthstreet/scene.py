"""Generate one SynthStreet scene: drive the ego along a street, write its LiDAR sweeps, lidarseg labels, camera
images and 2D ground truth in the nuScenes layout, and return the scene's table records.

generate_scene runs three steps: simulate_drive (street layout, ego motion, sensor rig, capture times),
render_drive (LiDAR sweeps and camera images of every capture, written as files) and tables.scene_records (the
nuScenes records of the drive)."""
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
from .tables import (lidarseg_filename, log_record, logfile_name, sample_data_filename, sample_data_stem,
                     sample_data_token, scene_records, scene_tokens)
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


class Capture(NamedTuple):
    """One sensor reading of a drive: ``channel``, ``timestamp`` (microseconds since the epoch), index ``sample`` of
    the keyframe sample it belongs to, ``key_frame`` and the ego pose ``ego_to_global`` (4, 4) at that time."""
    channel: str
    timestamp: int
    sample: int
    key_frame: bool
    ego_to_global: np.ndarray


class Drive(NamedTuple):
    """The simulated drive of one scene: the street ``layout`` (StreetLayout), sensor ``rig`` {channel:
    sensor-to-ego (4, 4)}, UTC ``start`` (datetime) of its log and every sensor reading (``captures``, Capture in
    generation order)."""
    layout: object
    rig: dict
    start: datetime.datetime
    captures: list


def _save_array(path, array):
    """Write a numpy array's raw bytes (C order) atomically."""
    atomic_write(path, np.ascontiguousarray(array).tofile)


def _save_image(path, array, options):
    """Encode an image array with PIL ``save`` options and write it atomically."""
    atomic_write(path, functools.partial(Image.fromarray(array).save, **options))


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


def _start_time(spec, rng):
    """UTC start (datetime) of the scene's log: 1-10 h into day ``spec.index`` after FIRST_DAY."""
    hour = datetime.timedelta(hours=1)
    return FIRST_DAY + spec.index * 24 * hour + rng.uniform(1, 10) * hour  # timedelta keeps whole microseconds


def _captures(start, motion, keyframes, sweeps, camera_times):
    """Every sensor reading of the drive in generation order (the order of the sample_data table): for keyframe k
    the LiDAR keyframe, its sweeps up to keyframe k + 1 (which belong to sample k + 1), then the cameras.
    Times as capture_times returns them; ``start`` (UTC datetime) is the first keyframe's."""
    start_us = (start - EPOCH) // datetime.timedelta(microseconds=1)
    readings = []
    for k, keyframe in enumerate(keyframes):
        readings.append((LIDAR, keyframe, k, True))
        readings += [(LIDAR, time, k + 1, False) for time in (sweeps[k] if k + 1 < len(keyframes) else ())]
        readings += [(channel, camera_times[channel][k], k, True) for channel in CHANNELS[1:]]
    return [Capture(channel, int(start_us + time), sample, key_frame, motion.ego_to_global(time / 1e6))
            for channel, time, sample, key_frame in readings]


def simulate_drive(spec, seed, samples_per_scene, sweeps_per_sample, motion_rng, time_rng):
    """The street of scene ``spec`` and the ego's drive along it: its sensor rig (from ``motion_rng`` after the
    motion), log start time and capture times (from ``time_rng``)."""
    speed, layout = scene_layout(spec, seed, samples_per_scene)
    motion = sample_motion(motion_rng, layout.street_pose, layout.ego_lane, speed)
    rig = sample_rig(motion_rng)
    start = _start_time(spec, time_rng)
    keyframes, sweeps, camera_times = capture_times(time_rng, samples_per_scene, sweeps_per_sample)
    return Drive(layout, rig, start, _captures(start, motion, keyframes, sweeps, camera_times))


def render_drive(root, drive, logfile, token, image_size, azimuth_steps, lidar_rng, camera_rng):
    """Simulate every capture of ``drive`` and write its files under ``root``: LiDAR sweeps (``lidar_rng``) with
    lidarseg labels at keyframes; camera images (lighting and noise from ``camera_rng``) with their 2D ground truth.
    File names follow tables.py (``logfile``: the log's name, ``token``: the scene's token function)."""
    lighting = sample_lighting(camera_rng)
    for capture in drive.captures:
        channel, timestamp = capture.channel, capture.timestamp
        pose = capture.ego_to_global @ drive.rig[channel]
        path = os.path.join(root, sample_data_filename(logfile, channel, timestamp, capture.key_frame))
        if channel == LIDAR:
            sweep = simulate_sweep(drive.layout, pose, lidar_rng, azimuth_steps)
            _save_array(path, sweep.points)
            if capture.key_frame:
                labels_path = lidarseg_filename(sample_data_token(token, channel, timestamp))
                _save_array(os.path.join(root, labels_path), sweep.labels)
            continue
        rgb, labels, instances = render_camera(drive.layout, pose, camera_intrinsic(channel, image_size), image_size,
                                               lighting, camera_rng)
        stem = sample_data_stem(logfile, channel, timestamp)
        _save_image(path, rgb, JPEG_OPTIONS)
        _save_image(os.path.join(root, 'synth_2d', 'labels', channel, f'{stem}.png'), labels, PNG_OPTIONS)
        _save_image(os.path.join(root, 'synth_2d', 'instances', channel, f'{stem}.png'), instances, PNG_OPTIONS)


def generate_scene(root, spec, seed, samples_per_scene=8, sweeps_per_sample=0, image_size=(400, 225),
                   azimuth_steps=1084):
    """Write scene ``spec`` under ``root`` and return {table name: [records]} of its log, scene, sample,
    sample_data, ego_pose, calibrated_sensor and lidarseg records, plus ``map`` = (location, log token,
    driveable (K, 4, 2) global xy corners). Deterministic from (seed, spec.index)."""
    _, motion_rng, time_rng, lidar_rng, camera_rng = _rngs(seed, spec.index)
    vehicle, utc_offset, left_hand = LOCATIONS[spec.location]
    token = scene_tokens(seed, spec.name)
    drive = simulate_drive(spec, seed, samples_per_scene, sweeps_per_sample, motion_rng, time_rng)
    render_drive(root, drive, logfile_name(vehicle, drive.start, utc_offset), token, image_size, azimuth_steps,
                 lidar_rng, camera_rng)
    log = log_record(token, vehicle, spec.location, drive.start, utc_offset)
    description = f'SynthStreet procedural street in {spec.location}, {"left" if left_hand else "right"}-hand traffic'
    records = scene_records(token, log, spec.name, description, drive.rig, drive.captures, image_size)
    return dict(records, map=(spec.location, log['token'], drive.layout.driveable))
