"""The shared synthetic-scene core against hand-computed cases: slab test, z-buffer render, boxes, shading."""
import numpy as np
import pytest

from hicl.synthetic import Boxes, camera_rays, face_normal_table, render_view, sample_light_direction, shade, slab_test


def _boxes(centers, sizes, yaws):
    count = len(yaws)
    return Boxes(np.asarray(centers, dtype=np.float64), np.asarray(sizes, dtype=np.float64),
                 np.asarray(yaws, dtype=np.float64), np.zeros((count, 3), dtype=np.uint8),
                 np.ones(count, dtype=np.int64), np.arange(1, count + 1))


def test_slab_test_entry_exit_and_face_of_hand_computed_rays():
    """Box of half extents (1, 2, 3) at the origin of its frame; one ray per column."""
    origins = np.array([[-5.0, 0.0, 0.0], [0.0, 0.0, 10.0], [-3.0, -3.0, 0.0], [-5.0, 5.0, 0.0]])
    directions = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    for origin, direction, expected in zip(origins, directions, [(4, 6, 0), (7, 13, 5), (2, 4, 0), None]):
        rays = tuple(np.full((1, 1), value, dtype=np.float32) for value in direction)
        t_enter, t_exit, face = slab_test(rays, origin.astype(np.float32), np.array([1.0, 2.0, 3.0], np.float32))
        assert t_enter.shape == t_exit.shape == face.shape == (1, 1)
        if expected is None:  # passes beside the box (y = 5 > 2)
            assert t_enter[0, 0] > t_exit[0, 0]
            continue
        assert (t_enter[0, 0], t_exit[0, 0], face[0, 0]) == pytest.approx(expected)
        # the entry face's outward normal faces the ray, and the entry point lies on that face's plane
        normal = face_normal_table(_boxes([[0, 0, 0]], [[2, 4, 6]], [0.0]))[0, face[0, 0]]
        hit = origin + t_enter[0, 0] * direction
        assert np.dot(normal, direction) < 0 and np.dot(normal, hit) == pytest.approx([1.0, 2.0, 3.0][face[0, 0] // 2])


def test_render_view_sees_the_front_face_of_a_box_ahead():
    """A 2 m cube 5 m straight ahead of a camera at the origin looking along +z (OpenCV axes): its -z face at
    camera z = 4 covers the pixels with |u - cx| <= 2 and |v - cy| <= 2 at f = 10 (x = 0.1 k * 4 < 1 m)."""
    intrinsic = np.array([[10.0, 0, 4, 0], [0, 10.0, 4, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_allclose(camera_rays(intrinsic, (9, 9))[4, 6], [0.2, 0.0, 1.0])
    for yaw in (0.0, np.pi / 2):  # a quarter turn about z leaves the cube in place
        boxes = _boxes([[0, 0, 5]], [[2, 2, 2]], [yaw])
        view = render_view(boxes, np.eye(4), intrinsic, (9, 9))
        covered = np.zeros((9, 9), dtype=bool)
        covered[2:7, 2:7] = True
        np.testing.assert_allclose(view.depth[covered], 4.0, rtol=1e-6)
        assert np.all(view.depth[~covered] == 0) and np.all(view.box_index == np.where(covered, 0, -1))
        np.testing.assert_array_equal(np.unique(view.box_face[covered]), [4])  # 6 * box 0 + face -z
        np.testing.assert_allclose(face_normal_table(boxes)[0, 4], [0, 0, -1], atol=1e-7)


def test_rotated_box_bounds_and_inside_test():
    boxes = _boxes([[0, 0, 0]], [[2, 2, 2]], [np.pi / 4])
    np.testing.assert_allclose(boxes.aabbs()[0], [[-np.sqrt(2), -np.sqrt(2), -1], [np.sqrt(2), np.sqrt(2), 1]])
    points = np.array([[1.2, 0.0, 0.0], [0.9, 0.9, 0.0], [0.0, 0.0, 1.0]])  # inside, outside, on the top face
    np.testing.assert_array_equal(boxes.contains(points, [0]), [True, False, False])


def test_shading_is_ambient_plus_clipped_lambert():
    light = sample_light_direction(np.random.default_rng(0))
    assert np.linalg.norm(light) == pytest.approx(1.0) and 50 <= np.rad2deg(np.arcsin(light[2])) <= 75
    normals = np.array([light, -light, [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(shade(normals, light), [0.6 + 0.45, 0.6, 0.6 + 0.45 * light[2]])
