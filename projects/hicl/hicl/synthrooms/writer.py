"""Write a SynthScene in ScanNet's raw layout; every file is written atomically (temp file + os.replace).

scans/<scene>/<scene>_vh_clean_2.ply, <scene>_vh_clean_2.labels.ply, color/<i>.jpg, depth/<i>.png,
pose/<i>.txt, intrinsic/{intrinsic,extrinsic}_{color,depth}.txt, label-filt/<i>.png, instance-filt/<i>.png,
and a ``.complete`` marker written last.
"""
import io
import os

import numpy as np
from PIL import Image

from ..fileio import atomic_write
from ..label_sets import SCANNET20_NYU40_IDS, SCANNET20_PALETTE

COMPLETE_MARKER = '.complete'
JPEG_OPTIONS = dict(format='JPEG', quality=90)
PNG_OPTIONS = dict(format='PNG', compress_level=1)  # fast; these images compress well anyway

_VERTEX_PROPERTIES = (('x', 'float'), ('y', 'float'), ('z', 'float'), ('red', 'uchar'), ('green', 'uchar'),
                      ('blue', 'uchar'), ('alpha', 'uchar'))
_NUMPY_TYPES = {'float': '<f4', 'uchar': 'u1', 'ushort': '<u2'}


def ply_bytes(vertices, colors, faces, labels=None, instances=None):
    """Binary little-endian PLY with ScanNet's layout: vertex x, y, z (float), red, green, blue, alpha (uchar)
    [+ label (ushort) for the labels.ply]; face ``list uchar int vertex_indices``.

    vertices (N, 3) metres, colors (N, 3) uint8, faces (F, 3) vertex indices, labels (N,) NYU40 ids or None,
    instances (N,) object ids or None (a SynthRooms extension of ScanNet's labels.ply: vertex property 'instance').
    """
    properties = (_VERTEX_PROPERTIES + ((('label', 'ushort'),) if labels is not None else ())
                  + ((('instance', 'ushort'),) if instances is not None else ()))
    header = ['ply', 'format binary_little_endian 1.0',
              'comment MLIB generated' if labels is not None else 'comment VCGLIB generated',
              f'element vertex {len(vertices)}']
    header += [f'property {kind} {name}' for name, kind in properties]
    header += [f'element face {len(faces)}', 'property list uchar int vertex_indices', 'end_header']
    vertex_rows = np.empty(len(vertices), dtype=[(name, _NUMPY_TYPES[kind]) for name, kind in properties])
    for axis, name in enumerate('xyz'):
        vertex_rows[name] = vertices[:, axis]
    for channel, name in enumerate(('red', 'green', 'blue')):
        vertex_rows[name] = colors[:, channel]
    vertex_rows['alpha'] = 255
    if labels is not None:
        vertex_rows['label'] = labels
    if instances is not None:
        vertex_rows['instance'] = instances
    face_rows = np.empty(len(faces), dtype=[('count', 'u1'), ('indices', '<i4', (3,))])
    face_rows['count'] = 3
    face_rows['indices'] = faces
    return ('\n'.join(header) + '\n').encode('ascii') + vertex_rows.tobytes() + face_rows.tobytes()


def label_colors(labels):
    """ScanNet labels.ply colours (N, 3) uint8: the class palette colour of each NYU40 id (black otherwise)."""
    table = np.zeros((max(SCANNET20_NYU40_IDS) + 1, 3), dtype=np.uint8)
    table[list(SCANNET20_NYU40_IDS)] = SCANNET20_PALETTE
    return table[labels]


def image_bytes(array, **options):
    """Encode an image array with PIL ``save`` options: (H, W, 3) uint8 as JPEG, (H, W) uint16 as 16-bit PNG."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, **options)
    return buffer.getvalue()


def matrix_bytes(matrix):
    """A 4x4 matrix as ScanNet-style text (np.savetxt, 6 decimals)."""
    buffer = io.StringIO()
    np.savetxt(buffer, matrix, fmt='%.6f')
    return buffer.getvalue().encode('ascii')


def write_scene(scene, scene_dir):
    """Write ``scene`` into ``scene_dir`` (= <out_root>/scans/<scene name>); the completion marker goes last."""
    marker = os.path.join(scene_dir, COMPLETE_MARKER)
    if os.path.exists(marker):
        os.remove(marker)
    mesh, name = scene.mesh, scene.name
    atomic_write(os.path.join(scene_dir, f'{name}_vh_clean_2.ply'), ply_bytes(mesh.vertices, mesh.colors, mesh.faces))
    atomic_write(os.path.join(scene_dir, f'{name}_vh_clean_2.labels.ply'),
                 ply_bytes(mesh.vertices, label_colors(mesh.labels), mesh.faces, mesh.labels, mesh.instances))
    intrinsic_dir = os.path.join(scene_dir, 'intrinsic')
    atomic_write(os.path.join(intrinsic_dir, 'intrinsic_color.txt'), matrix_bytes(scene.intrinsic_color))
    atomic_write(os.path.join(intrinsic_dir, 'intrinsic_depth.txt'), matrix_bytes(scene.intrinsic_depth))
    atomic_write(os.path.join(intrinsic_dir, 'extrinsic_color.txt'), matrix_bytes(np.eye(4)))
    atomic_write(os.path.join(intrinsic_dir, 'extrinsic_depth.txt'), matrix_bytes(np.eye(4)))
    for index, frame in enumerate(scene.frames):
        images = (('color', 'jpg', frame.color, JPEG_OPTIONS), ('depth', 'png', frame.depth, PNG_OPTIONS),
                  ('label-filt', 'png', frame.label, PNG_OPTIONS),
                  ('instance-filt', 'png', frame.instance, PNG_OPTIONS))
        for folder, extension, array, options in images:
            atomic_write(os.path.join(scene_dir, folder, f'{index}.{extension}'), image_bytes(array, **options))
        atomic_write(os.path.join(scene_dir, 'pose', f'{index}.txt'), matrix_bytes(frame.pose))
    atomic_write(marker, b'')
