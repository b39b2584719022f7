"""The large-scan benchmark's inputs and table (the timings themselves are tools/benchmark.py's output)."""
import numpy as np
import pytest

from hicl.experiments.benchmark_scans import ROOM_SPACING_M, format_scan_inference, tiled_rooms


def test_rooms_are_laid_side_by_side_until_there_are_enough_points(tmp_path):
    (tmp_path / 'points').mkdir()
    room = np.c_[np.random.default_rng(0).uniform(0, 5, (10, 3)), np.full((10, 3), 100)].astype(np.float32)
    room.tofile(tmp_path / 'points' / 'a.bin')
    points = tiled_rooms(str(tmp_path / 'points'), 25)
    assert points.shape == (25, 6)
    np.testing.assert_allclose(points[10:20, 0], room[:, 0] + ROOM_SPACING_M)  # the second copy, one place on
    np.testing.assert_allclose(points[20:, 1], room[:5, 1])  # the third still in the first row
    with pytest.raises(FileNotFoundError, match='no point files in'):
        tiled_rooms(str(tmp_path / 'empty'), 5)


def test_the_table_has_a_row_per_size():
    rows = [(1_000_000, None, 1, 2.5, 400_000.0, 3200.4, None),
            (1_000_000, 250_000, 14, 6.0, 166_667.0, 1228.0, 0.99812),
            (5_000_000, 1_000_000, 12, 20.0, 250_000.0, 3683.0, None)]
    table = format_scan_inference(rows)
    assert '| 1,000,000 | all (one pass) | 1 | 2.5 | 400k | 3200 | - |' in table
    assert '| 1,000,000 | 250,000 | 14 | 6.0 | 167k | 1228 | 99.81% |' in table
    assert '| 5,000,000 | 1,000,000 | 12 | 20.0 | 250k | 3683 | - |' in table
