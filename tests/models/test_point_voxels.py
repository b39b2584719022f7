"""Points of a batch's scenes -> rows of the batch's voxel features, by hand."""
from types import SimpleNamespace

import pytest
import torch

from hicl.models.point_voxels import batch_voxel_index


def test_later_scenes_are_offset_by_the_voxels_of_the_earlier_ones():
    first = SimpleNamespace(point2voxel_map=torch.tensor([0, 0, 1, 2]), batch_idx=torch.zeros(3))
    second = SimpleNamespace(point2voxel_map=torch.tensor([1, 0]), batch_idx=torch.ones(2))
    rows = batch_voxel_index([first, second], [torch.tensor([3, 1]), torch.tensor([0, 1, 0])])
    assert [r.tolist() for r in rows] == [[2, 0], [3 + 1, 3 + 0, 3 + 1]]


def test_each_scene_is_offset_by_the_voxels_of_all_the_scenes_before_it():
    # scenes of 3, 2 and 4 voxels; the last voxel of each: rows 2, 3 + 1 and 3 + 2 + 3
    samples = [SimpleNamespace(point2voxel_map=torch.tensor([size - 1]), batch_idx=torch.full((size, ), scene))
               for scene, size in enumerate((3, 2, 4))]
    rows = batch_voxel_index(samples, [torch.tensor([0])] * 3)
    assert [r.tolist() for r in rows] == [[2], [4], [8]]


def test_one_index_list_per_scene_is_required():
    sample = SimpleNamespace(point2voxel_map=torch.tensor([0]), batch_idx=torch.zeros(1))
    with pytest.raises(ValueError):
        batch_voxel_index([sample, sample], [torch.tensor([0])])
