"""The synthetic scenes of the benchmarks: a box room ray-cast with hicl.synthetic, checked by hand."""
import numpy as np
import pytest

from hicl.experiments.benchmark import benchmark_pairing
from hicl.experiments.benchmark_scenes import ROOM_SIZE, box_room_points, render_box_depth, room_cameras


def test_room_depth_is_the_distance_to_the_wall_ahead():
    intrinsic = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])
    poses = room_cameras(4, height=1.5)  # at the room centre (3, 2.5), looking along +x, +y, -x, -y
    depth = render_box_depth(poses, intrinsic, (64, 48))
    # centre pixel: straight ahead to the wall at x = 6 (3 m), y = 5 (2.5 m), x = 0 (3 m), y = 0 (2.5 m)
    assert depth[:, 23:25, 31:33].reshape(4, -1).mean(1) == pytest.approx([3.0, 2.5, 3.0, 2.5], abs=1e-5)
    # a wall facing the camera is a plane of constant camera z; the whole 64x48 view sees it
    assert np.allclose(depth[0], 3.0, atol=1e-5)


def test_room_points_lie_on_its_faces_and_pair_with_the_views():
    points = box_room_points(1000, np.random.default_rng(0))
    on_a_face = np.isclose(points, 0.0) | np.isclose(points, np.asarray(ROOM_SIZE))
    assert on_a_face.any(axis=1).all() and (points >= 0).all() and (points <= np.asarray(ROOM_SIZE)).all()
    result = benchmark_pairing(num_points=2000, num_frames=4, image_size=(64, 48), repeats=1)
    assert 0 < result['pairs'] <= 2000 * 4
