"""Geometric consistency sets of a converted scene: one set id per mesh vertex (paper 3.2.1).

Computed once by the converter and stored as ``sets/<scene>.bin`` (int64 (N,)). Sources:
- 'auto': Felzenszwalb on the mesh when it has faces, on a kNN graph of the points otherwise;
- 'mesh' / 'points': force one of the two;
- 'segs_json': ScanNet's released over-segmentation ``<scene>_vh_clean_2.0.010000.segs.json`` (segIndices).
"""
import json
import os

import numpy as np

DEFAULT_SET_OPTIONS = dict(source='auto', k=0.01, min_size=20, k_neighbours=10)
SEGS_JSON_SUFFIX = '_vh_clean_2.0.010000.segs.json'


def read_segs_json(path, num_vertices):
    """(N,) int64 contiguous set ids from a ScanNet segs.json; clear errors for missing or mismatched files."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} not found: ScanNet ships it with each scan; use sets source "auto" '
                                'to compute the sets instead')
    with open(path) as file:
        try:
            seg_indices = np.asarray(json.load(file)['segIndices'], dtype=np.int64)
        except (json.JSONDecodeError, KeyError) as err:
            raise ValueError(f'{path} is not a ScanNet segs.json (no segIndices): {err}') from err
    if len(seg_indices) != num_vertices:
        raise ValueError(f'{path} has {len(seg_indices)} segIndices but the mesh has {num_vertices} vertices')
    return np.unique(seg_indices, return_inverse=True)[1].astype(np.int64)


def compute_point_sets(mesh, scene_scan_dir, scene_id, options):
    """(N,) int64 set ids for the vertices of ``mesh`` (dict xyz, faces) by ``options`` (DEFAULT_SET_OPTIONS)."""
    from ..geometry.segmentation import segment_mesh, segment_points
    source = options['source']
    if source == 'segs_json':
        return read_segs_json(os.path.join(scene_scan_dir, scene_id + SEGS_JSON_SUFFIX), len(mesh['xyz']))
    if source not in ('auto', 'mesh', 'points'):
        raise ValueError(f'unknown sets source {source!r}: use auto, mesh, points or segs_json')
    if source == 'mesh' and mesh['faces'] is None:
        raise ValueError(f'scene {scene_id}: sets source "mesh" needs a mesh with faces; use "auto" or "points"')
    if source != 'points' and mesh['faces'] is not None:
        return segment_mesh(mesh['xyz'], mesh['faces'], k=options['k'], min_size=options['min_size'])
    return segment_points(mesh['xyz'], k_neighbours=options['k_neighbours'], k=options['k'],
                          min_size=options['min_size'])
