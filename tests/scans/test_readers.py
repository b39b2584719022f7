"""Reading a user's scan: the same points written in every format read back equal; real files nobody here made read
as their sources describe them; bad files are refused naming the file; the conventions (up axis, units, NaN,
duplicates) against hand-computed values."""
import glob
import warnings

import numpy as np
import pytest
import trimesh
from plyfile import PlyData, PlyElement

from hicl.scans import ScanFileError, normalise_scan, read_scan
from hicl.scans.conventions import to_z_up
from hicl.scans.readers import Scan


@pytest.fixture
def s3dis_points(shared_data):
    """(100, 6) float32 x y z r g b of the real S3DIS sample (mmdet3d's converted layout)."""
    return np.fromfile(shared_data / 'tiny' / 's3dis' / 'points' / 'Area_1_office_2.bin', np.float32).reshape(-1, 6)


def write_ply(path, points, text):
    vertex = np.empty(len(points), dtype=[('x', 'f4'), ('y', 'f4'), ('z', 'f4'), ('red', 'u1'), ('green', 'u1'),
                                          ('blue', 'u1')])
    for i, name in enumerate(('x', 'y', 'z')):
        vertex[name] = points[:, i]
    for i, name in enumerate(('red', 'green', 'blue')):
        vertex[name] = points[:, 3 + i]
    PlyData([PlyElement.describe(vertex, 'vertex')], text=text).write(str(path))


def write_mesh(path, points):
    faces = np.stack([np.arange(len(points) - 2), np.arange(1, len(points) - 1), np.arange(2, len(points))], 1)
    mesh = trimesh.Trimesh(vertices=points[:, :3], faces=faces,  # every vertex in a face, as in a scan's mesh
                           vertex_colors=np.c_[points[:, 3:6], np.full(len(points), 255)].astype(np.uint8),
                           process=False)
    mesh.export(str(path))


def write_pcd(path, points, binary):
    """Binary: the usual packed float ``rgb`` field; ASCII: separate r g b fields (a packed float does not survive
    being printed as text)."""
    from pypcd4 import Encoding, PointCloud
    if binary:
        packed = PointCloud.encode_rgb(points[:, 3:6].astype(np.uint8))
        PointCloud.from_xyzrgb_points(np.c_[points[:, :3], packed]).save(str(path), encoding=Encoding.BINARY)
    else:
        cloud = PointCloud.from_points(points, ('x', 'y', 'z', 'r', 'g', 'b'), (np.float32,) * 3 + (np.uint8,) * 3)
        cloud.save(str(path), encoding=Encoding.ASCII)


def write_las(path, points):
    import laspy
    las = laspy.create(point_format=2, file_version='1.2')  # format 2: x y z + 16-bit red green blue
    las.header.scales = [1e-6] * 3
    las.header.offsets = [0.0] * 3
    las.x, las.y, las.z = (points[:, i].astype(np.float64) for i in range(3))
    las.red, las.green, las.blue = (points[:, 3 + i].astype(np.uint16) * 256 for i in range(3))
    las.write(str(path))


WRITERS = {
    'ascii.pcd': lambda path, p: write_pcd(path, p, binary=False),
    'binary.pcd': lambda path, p: write_pcd(path, p, binary=True),
    'points.las': write_las,
    'binary.ply': lambda path, p: write_ply(path, p, text=False),
    'ascii.ply': lambda path, p: write_ply(path, p, text=True),
    'mesh.obj': write_mesh,
    'mesh.glb': write_mesh,
    'points.npy': lambda path, p: np.save(path, p),
    'points.npz': lambda path, p: np.savez(path, points=p),
    'points.bin': lambda path, p: p.astype(np.float32).tofile(path),  # read with bin_columns=6
    'points.txt': lambda path, p: np.savetxt(path, p, fmt='%.6f %.6f %.6f %d %d %d'),
}


@pytest.mark.parametrize('name', sorted(WRITERS))
def test_the_same_points_in_every_format_read_back_equal(s3dis_points, tmp_path, name):
    path = tmp_path / name
    WRITERS[name](path, s3dis_points)
    scan = read_scan(path, bin_columns=6 if name.endswith('.bin') else None)
    np.testing.assert_allclose(scan.xyz, s3dis_points[:, :3], atol=1e-6)  # float32 everywhere, text at 6 decimals
    assert scan.xyz.dtype == np.float64 and scan.rgb.dtype == np.uint8
    np.testing.assert_array_equal(scan.rgb, s3dis_points[:, 3:6].astype(np.uint8))


def test_real_files_read_as_their_sources_describe_them(shared_data):
    mesh = read_scan(shared_data / 'segmentator_reference' / 'scene0707_00_depth0.ply')
    assert mesh.xyz.shape == (284805, 3) and mesh.rgb is None and mesh.intensity is None  # x y z only (SOURCES.md)
    sweep_path = glob.glob(str(shared_data / 'nuscenes_demo' / '*.pcd.bin'))[0]
    sweep = read_scan(sweep_path)  # *.pcd.bin: 5 columns
    raw = np.fromfile(sweep_path, np.float32).reshape(-1, 5)
    assert sweep.xyz.shape == (34688, 3) and np.array_equal(sweep.intensity, raw[:, 3])
    kitti = read_scan(shared_data / 'tiny' / 'semantickitti' / '000000.bin')  # 4 columns
    assert kitti.xyz.shape == (50, 3) and kitti.rgb is None
    scannet = read_scan(shared_data / 'tiny' / 'scannet' / 'points' / 'scene0000_00.bin', bin_columns=6)
    assert scannet.xyz.shape == (100, 3) and scannet.rgb.shape == (100, 3)


def test_bad_files_are_refused_naming_the_file(tmp_path, s3dis_points):
    cases = {}
    (tmp_path / 'empty.ply').write_bytes(b'')
    cases['empty.ply'] = 'is empty'
    (tmp_path / 'scan.e57').write_bytes(b'ASTM-E57')
    cases['scan.e57'] = "unknown scan format '.e57'"
    (tmp_path / 'cut.las').write_bytes(b'LASF' + bytes(20))
    cases['cut.las'] = 'not a readable LAS/LAZ file'
    header = 'VERSION 0.7\nFIELDS u v\nSIZE 4 4\nTYPE F F\nCOUNT 1 1\nWIDTH 1\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\n'
    (tmp_path / 'points.pcd').write_text(header + 'POINTS 1\nDATA ascii\n1 2\n')
    cases['points.pcd'] = 'its fields have no x y z'
    (tmp_path / 'laz_named.pcd').write_bytes(b'LASF' + bytes(20))
    cases['laz_named.pcd'] = 'is named .pcd but does not start like one'
    (tmp_path / 'text.ply').write_text('1 2 3\n')
    cases['text.ply'] = "is named .ply but does not start like one"
    write_ply(tmp_path / 'really_a.ply', s3dis_points, text=False)
    (tmp_path / 'really_a.glb').write_bytes((tmp_path / 'really_a.ply').read_bytes())
    cases['really_a.glb'] = "is named .glb but does not start like one"
    np.arange(10, dtype=np.float32).tofile(tmp_path / 'ragged.bin')
    cases['ragged.bin'] = 'are not whole rows of 4'
    np.savez(tmp_path / 'two.npz', a=np.zeros((3, 3)), b=np.zeros((3, 3)))
    cases['two.npz'] = "holds the arrays \\['a', 'b'\\]; name the points array"
    np.save(tmp_path / 'objects.npy', np.array([{'x': 1}], dtype=object), allow_pickle=True)
    cases['objects.npy'] = 'not a readable numpy file without pickled objects'
    np.save(tmp_path / 'wide.npy', np.zeros((4, 5)))
    cases['wide.npy'] = r'expected a numeric \(N, 3\), \(N, 4\) or \(N, 6\) array'
    vertex = np.zeros(3, dtype=[('u', 'f4'), ('v', 'f4')])
    PlyData([PlyElement.describe(vertex, 'vertex')]).write(str(tmp_path / 'uv.ply'))
    cases['uv.ply'] = 'its vertices have no x y z properties'
    for name, message in cases.items():
        with pytest.raises(ScanFileError, match=message) as error:
            read_scan(tmp_path / name)
        assert str(tmp_path / name) in str(error.value), name
    with pytest.raises(FileNotFoundError, match='missing.ply does not exist'):
        read_scan(tmp_path / 'missing.ply')


def test_up_axis_rotations_take_the_named_axis_to_z():
    scan = Scan(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(to_z_up(scan, 'y').xyz, [[1.0, -3.0, 2.0]])  # y (2) becomes z; z (3) goes to -y
    np.testing.assert_allclose(to_z_up(scan, '-y').xyz, [[1.0, 3.0, -2.0]])
    np.testing.assert_allclose(to_z_up(scan, 'z').xyz, scan.xyz)
    up = Scan(np.array([[0.0, 1.0, 0.0]]))
    np.testing.assert_allclose(to_z_up(up, 'y').xyz, [[0.0, 0.0, 1.0]])  # the file's up is the model's up
    with pytest.raises(ValueError, match="up must be one of"):
        to_z_up(scan, 'x')


def test_normalising_drops_non_finite_and_duplicate_points_and_checks_the_units():
    xyz = np.array([[0, 0, 0], [1, 0, 0], [np.nan, 0, 0], [1, 0, 0], [0, np.inf, 0], [0, 2, 0.5]], dtype=np.float64)
    rgb = np.arange(18, dtype=np.uint8).reshape(6, 3)
    scan, report = normalise_scan(Scan(xyz, rgb, None, 'scan.ply'), up='z', scale=2.0)
    assert (report.points_read, report.non_finite, report.duplicates, report.points) == (6, 2, 1, 3)
    np.testing.assert_array_equal(report.file_rows, [0, 1, -1, 1, -1, 2])  # a repeat: its first copy's row
    np.testing.assert_allclose(scan.xyz, [[0, 0, 0], [2, 0, 0], [0, 4, 1]])  # file order, scaled
    np.testing.assert_array_equal(scan.rgb, rgb[[0, 1, 5]])  # colours follow their points
    with pytest.warns(UserWarning, match=r'spans 5000 m; if its units are millimetres, pass --scale 0.001'):
        normalise_scan(Scan(np.array([[0.0, 0, 0], [5000, 0, 0]]), path='mm.ply'))
    with pytest.warns(UserWarning, match=r'pass --scale 1000'):
        normalise_scan(Scan(np.array([[0.0, 0, 0], [0.01, 0, 0]]), path='km.ply'))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        normalise_scan(Scan(np.array([[0.0, 0, 0], [8.0, 6, 3]]), path='room.ply'))  # a room: no warning
    with pytest.raises(ScanFileError, match=r'one.ply: 1 point\(s\) after cleaning; a scan needs at least 2'):
        normalise_scan(Scan(np.array([[0.0, 0, 0], [np.nan, 0, 0]]), path='one.ply'))


def test_non_finite_intensity_drops_its_point_and_the_intensity_scale_multiplies_the_rest():
    xyz = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0]], dtype=np.float64)
    intensity = np.array([0.25, np.nan, 0.5], dtype=np.float32)
    scan, report = normalise_scan(Scan(xyz, None, intensity, 'sweep.bin'), intensity_scale=255.0)
    assert (report.points_read, report.non_finite, report.duplicates, report.points) == (3, 1, 0, 2)
    np.testing.assert_array_equal(report.file_rows, [0, -1, 1])
    np.testing.assert_allclose(scan.intensity, [63.75, 127.5])
    assert scan.intensity.dtype == np.float32
