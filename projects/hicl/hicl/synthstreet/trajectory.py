"""The ego vehicle's motion along the street and the capture times of keyframes, sweeps and camera images."""
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from .rig import CAMERA_DELAYS

KEYFRAME_INTERVAL = 0.5  # seconds between keyframes (nuScenes annotates at 2 Hz)
SPEED_RANGE = (8.0, 11.0)  # m/s: keyframes 4-5.5 m apart


@dataclass
class EgoMotion:
    """Constant-speed drive along the street's x axis with a slight lateral sway (hence slowly changing yaw) and
    small pitch / roll oscillations. Time ``t`` in seconds from the first keyframe.

    street_pose (4, 4) street frame -> global; lane: y (m) of the lane centre; speed m/s; sway: amplitude (m),
    wavelength (m), phase (rad); tilt: pitch and roll amplitudes (rad), period (s), phases (2,) rad.
    """
    street_pose: np.ndarray
    lane: float
    speed: float
    sway: tuple
    tilt: tuple

    def ego_to_global(self, t):
        """(4, 4) ego-to-global pose at time ``t`` s (the ego frame's origin stays on the ground, z = 0)."""
        amplitude, wavelength, phase = self.sway
        x = self.speed * t
        angle = 2 * np.pi * x / wavelength + phase
        y = self.lane + amplitude * np.sin(angle)
        yaw = np.arctan(amplitude * 2 * np.pi / wavelength * np.cos(angle))
        pitch_amplitude, roll_amplitude, period, phases = self.tilt
        pitch = pitch_amplitude * np.sin(2 * np.pi * t / period + phases[0])
        roll = roll_amplitude * np.sin(2 * np.pi * t / period + phases[1])
        local = np.eye(4)
        local[:3, :3] = Rotation.from_euler('ZYX', [yaw, pitch, roll]).as_matrix()
        local[:2, 3] = x, y
        return self.street_pose @ local


def sample_motion(rng, street_pose, lane, speed):
    """An EgoMotion at ``speed`` m/s in the lane at y = ``lane`` m of the street placed by ``street_pose``."""
    sway = (rng.uniform(0.05, 0.25), rng.uniform(30.0, 80.0), rng.uniform(0, 2 * np.pi))
    tilt = (np.deg2rad(rng.uniform(0.1, 0.4)), np.deg2rad(rng.uniform(0.1, 0.4)), rng.uniform(1.5, 4.0),
            rng.uniform(0, 2 * np.pi, 2))
    return EgoMotion(street_pose, lane, speed, sway, tilt)


def capture_times(rng, num_keyframes, sweeps_per_sample):
    """Capture times in microseconds from the first keyframe's LiDAR sweep.

    Returns (keyframes (K,) int64 LiDAR keyframe times, about KEYFRAME_INTERVAL apart with ~2 ms jitter;
    sweeps (K - 1, S) int64 times of the non-keyframe sweeps evenly between consecutive keyframes; cameras
    {channel: (K,) int64} image times, each camera a fixed delay (+-1 ms) from its keyframe's sweep).
    """
    keyframes = np.round(np.arange(num_keyframes) * KEYFRAME_INTERVAL * 1e6).astype(np.int64)
    keyframes[1:] += np.round(rng.normal(0.0, 2000.0, num_keyframes - 1)).astype(np.int64)
    fractions = np.arange(1, sweeps_per_sample + 1) / (sweeps_per_sample + 1)
    sweeps = np.round(keyframes[:-1, None] + np.diff(keyframes)[:, None] * fractions[None]).astype(np.int64)
    cameras = {channel: keyframes + delay + np.round(rng.uniform(-1000, 1000, num_keyframes)).astype(np.int64)
               for channel, delay in CAMERA_DELAYS.items()}
    return keyframes, sweeps, cameras
