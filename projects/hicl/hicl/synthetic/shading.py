"""Lambert shading under one directional light plus ambient. SynthRooms applies it to both the mesh colours and the
rendered images so that both agree (a face has the same brightness in the mesh and in every frame); SynthStreet
shades its camera images with it."""
import numpy as np

AMBIENT = 0.6
DIFFUSE = 0.45


def sample_light_direction(rng):
    """Unit vector (3,) towards the light: random azimuth, 50-75 degrees above the horizon."""
    azimuth, elevation = rng.uniform(0, 2 * np.pi), np.deg2rad(rng.uniform(50, 75))
    return np.array([np.cos(azimuth) * np.cos(elevation), np.sin(azimuth) * np.cos(elevation), np.sin(elevation)])


def shade(normals, light_direction):
    """Brightness factors (N,) of surfaces with unit ``normals`` (N, 3) lit from ``light_direction`` (3,)."""
    return AMBIENT + DIFFUSE * np.clip(normals @ light_direction, 0.0, 1.0)
