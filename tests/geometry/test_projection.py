"""Projection and pairing against hand-computed cases."""
import numpy as np
import pytest

from hicl.geometry import depth_agrees, pair_points_with_pixels, project_points, scale_intrinsic, world_to_camera

K = np.array([[100.0, 0, 50], [0, 100.0, 40], [0, 0, 1]])
# A camera at (1, 2, 0.5) looking along world +x: camera x = world -y, camera y = world -z, camera z = world +x.
POSE = np.array([[0, 0, 1, 1.0], [-1, 0, 0, 2.0], [0, -1, 0, 0.5], [0, 0, 0, 1]])


def test_project_hand_computed():
    # world point = camera centre + (3, -0.5, -0.2) -> camera (0.5, 0.2, 3)
    # -> u = 50 + 100 * 0.5 / 3, v = 40 + 100 * 0.2 / 3
    xyz = np.array([[4.0, 1.5, 0.3]])
    uv, z = project_points(xyz, POSE[None], K)
    np.testing.assert_allclose(uv[0, 0], [50 + 50 / 3, 40 + 20 / 3])
    np.testing.assert_allclose(z[0, 0], 3.0)


def test_columns_use_fx_and_rows_fy():
    # the point of test_project_hand_computed, camera (0.5, 0.2, 3), through a camera with f_x != f_y
    k = np.array([[100.0, 0, 50], [0, 250.0, 40], [0, 0, 1]])
    uv, _ = project_points(np.array([[4.0, 1.5, 0.3]]), POSE[None], k)
    np.testing.assert_allclose(uv[0, 0], [50 + 100 * 0.5 / 3, 40 + 250 * 0.2 / 3])


def test_world_to_camera_inverts_pose():
    np.testing.assert_allclose(world_to_camera(POSE[None])[0] @ POSE, np.eye(4), atol=1e-12)


def test_scale_intrinsic_keeps_pixel_centres():
    k = scale_intrinsic(K, (640, 480), (320, 240))
    np.testing.assert_allclose(k, [[50, 0, 24.75], [0, 50, 19.75], [0, 0, 1]])
    with pytest.raises(ValueError, match='3x3 or 4x4'):
        scale_intrinsic(np.eye(3)[:, :2], (1, 1), (1, 1))


def test_scale_intrinsic_scales_columns_by_the_width_ratio_and_rows_by_the_height_ratio():
    # 640x480 -> 320x120: x by 1/2, y by 1/4; principal point u' = (u + 0.5) * s - 0.5
    k = scale_intrinsic(K, (640, 480), (320, 120))
    np.testing.assert_allclose(k, [[50, 0, 50.5 / 2 - 0.5], [0, 25, 40.5 / 4 - 0.5], [0, 0, 1]])


def test_depth_agrees_accepts_visible_rejects_occluded_and_invalid():
    xyz = np.array([[4.0, 1.5, 0.3]])  # lands on pixel (col 67, row 47) at z = 3 m
    depth = np.zeros((3, 60, 80), dtype=np.float32)
    depth[0, 47, 67] = 3.03  # within 5 cm
    depth[1, 47, 67] = 2.50  # something 50 cm in front: occluded
    depth[2, 47, 67] = 0.0  # invalid depth
    poses = np.repeat(POSE[None], 3, axis=0)
    assert depth_agrees(xyz, poses, depth, K, tolerance=0.05)[:, 0].tolist() == [True, False, False]
    # relative tolerance 0.25 * 2.5 m = 0.625 m accepts the 0.5 m gap
    assert depth_agrees(xyz, poses, depth, K, relative_tolerance=0.25)[:, 0].tolist() == [True, True, False]


def test_relative_tolerance_is_a_share_of_the_measured_depth():
    # OpenScene: |depth - z| <= 0.25 * depth. The point lies at z = 3 m; a surface measured at 2.3 m is 0.7 m in
    # front of it, more than 0.25 * 2.3 = 0.575 m (occluded) though less than 0.25 * z = 0.75 m
    xyz = np.array([[4.0, 1.5, 0.3]])  # pixel (col 67, row 47)
    depth = np.zeros((2, 60, 80), dtype=np.float32)
    depth[0, 47, 67] = 2.3
    depth[1, 47, 67] = 2.6  # 0.4 m <= 0.25 * 2.6 = 0.65 m: visible
    poses = np.repeat(POSE[None], 2, axis=0)
    assert depth_agrees(xyz, poses, depth, K, relative_tolerance=0.25)[:, 0].tolist() == [False, True]


def test_pairs_inside_labelled_pixels_only():
    xyz = np.array([[4.0, 1.5, 0.3],  # pixel (67, 47) of the 80x60 image
                    [4.0, 2.0, 0.5],  # optical axis: pixel (50, 40)
                    [-2.0, 2.0, 0.5],  # behind the camera
                    [1.5, -10.0, 0.5]])  # far outside the image
    labels = np.full((1, 60, 80), 255, dtype=np.uint8)
    labels[0, 47, 67] = 7
    pairs = pair_points_with_pixels(xyz, POSE[None], labels, K)
    assert pairs.point_idx.tolist() == [0] and pairs.label.tolist() == [7] and pairs.view_idx.tolist() == [0]
    labels[0, 40, 50] = 3
    pairs = pair_points_with_pixels(xyz, POSE[None], labels, K)
    assert pairs.point_idx.tolist() == [0, 1] and pairs.label.tolist() == [7, 3]
    # min_depth (nuScenes: 1 m) drops points nearer than that; the visibility mask is honoured
    near = pair_points_with_pixels(xyz, POSE[None], labels, K, min_depth=3.5)
    assert near.point_idx.size == 0
    hidden = pair_points_with_pixels(xyz, POSE[None], labels, K, visible=np.array([[False, True, True, True]]))
    assert hidden.point_idx.tolist() == [1]


def test_pairs_vectorised_over_views():
    xyz = np.array([[4.0, 2.0, 0.5]])
    moved = POSE.copy()
    moved[1, 3] += 0.1  # camera 10 cm towards +y: the point moves to camera x = +0.1 -> u = 50 + 100 * 0.1 / 3
    labels = np.zeros((2, 60, 80), dtype=np.uint8)
    labels[1, 40, 53] = 5
    pairs = pair_points_with_pixels(xyz, np.stack([POSE, moved]), labels, K)
    assert pairs.view_idx.tolist() == [0, 1] and pairs.label.tolist() == [0, 5]
