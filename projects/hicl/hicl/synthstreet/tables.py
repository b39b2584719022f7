"""nuScenes database tables (the JSON files under <root>/<version>/) in the devkit's record format."""
import hashlib
import json
import os

from ..fileio import atomic_write
from .categories import ATTRIBUTES, LIDARSEG_CATEGORIES, VISIBILITIES
from .rig import CHANNELS, LIDAR, quaternion

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
