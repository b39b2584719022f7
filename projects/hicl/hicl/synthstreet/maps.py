"""The nuScenes map table and its semantic-prior masks: one 8-bit PNG per location, 255 on the driveable surface,
0.1 m per pixel, pixel (u, v) = (x / 0.1, height - y / 0.1) for global (x, y) in metres (the devkit's MapMask)."""
import functools
import os

import numpy as np
from PIL import Image, ImageDraw

from ..fileio import atomic_write
from .tables import make_token

MAP_RESOLUTION = 0.1  # metres per pixel
MAP_MARGIN = 20.0  # metres of mask beyond the farthest road corner


def rasterize(polygons):
    """(H, W) uint8 mask, 255 inside ``polygons`` [(K, 4, 2) global xy corners]."""
    corners = np.concatenate(polygons).reshape(-1, 2)
    width, height = (int(np.ceil((corners.max(0)[axis] + MAP_MARGIN) / MAP_RESOLUTION)) for axis in (0, 1))
    image = Image.new('L', (width, height), 0)
    draw = ImageDraw.Draw(image)
    for quad in np.concatenate(polygons):
        draw.polygon([(x / MAP_RESOLUTION, height - y / MAP_RESOLUTION) for x, y in quad], fill=255)
    return np.asarray(image)


def write_maps(root, seed, scene_maps):
    """Write the mask of every location and return the map records.

    scene_maps: [(location, log token, driveable (K, 4, 2) global xy corners)] of every scene.
    """
    records = []
    for location in dict.fromkeys(location for location, _, _ in scene_maps):
        token = make_token(seed, 'map', location)
        filename = f'maps/{token}.png'
        mask = rasterize([corners for name, _, corners in scene_maps if name == location])
        atomic_write(os.path.join(root, filename), functools.partial(Image.fromarray(mask).save, format='PNG'))
        records.append(dict(token=token, category='semantic_prior', filename=filename,
                            log_tokens=[log for name, log, _ in scene_maps if name == location]))
    return records
