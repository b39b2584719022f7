"""The registered dataset and transforms on generated SynthRooms scenes with exact pixel labels."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from hicl.datasets import LabelFreeScanNetDataset
from hicl.label_sets import SCANNET20_IGNORE_INDEX, SCANNET20_NYU40_IDS, map_raw_labels
from tests.conftest import TINY_PSEUDO_LABELS

LOAD_POINTS = dict(type='LoadPointsFromFile', coord_type='DEPTH', shift_height=False, use_color=True, load_dim=6,
                   use_dim=[0, 1, 2, 3, 4, 5])


def build(root, depth_tolerance=0.05, num_frames=4, pseudo_labels=TINY_PSEUDO_LABELS, online_labeller=None):
    init_default_scope('mmdet3d')
    pipeline = [LOAD_POINTS, dict(type='LoadSceneFrames', num_frames=num_frames, online_labeller=online_labeller,
                                  label_set='scannet20', label_size=(160, 120)),
                dict(type='PairPointsWithPixels', depth_tolerance=depth_tolerance),
                dict(type='PackLabelFreeInputs', keys=['points'])]
    return LabelFreeScanNetDataset(
        data_root=str(root), ann_file='hicl_infos_train.pkl', pipeline=pipeline,
        data_prefix=dict(pts='points', pts_semantic_mask='semantic_mask', pseudo_labels=pseudo_labels))


def true_labels(root, scene):
    raw = np.fromfile(root / 'semantic_mask' / f'{scene}.bin', dtype=np.int64)
    return map_raw_labels(raw, SCANNET20_NYU40_IDS, SCANNET20_IGNORE_INDEX)


def pair_agreement(sample, labels):
    pairs = sample['data_samples'].pseudo_pairs
    return (labels[pairs.point_idx.numpy()] == pairs.label.numpy()).mean()


def test_pairs_carry_the_label_of_the_pixel_that_sees_the_point(synthrooms_tiny):
    dataset = build(synthrooms_tiny)
    sample = dataset[0]
    scene = dataset.get_data_info(0)['scene_id']
    labels = true_labels(synthrooms_tiny, scene)
    pairs = sample['data_samples'].pseudo_pairs
    assert len(pairs.label) > 0.1 * len(labels)
    assert set(pairs.view_idx.unique().tolist()) == {0, 1, 2, 3}
    assert pair_agreement(sample, labels) > 0.9
    # training samples carry no 3D ground truth
    assert 'pts_semantic_mask' not in sample['data_samples'].gt_pts_seg


def test_depth_check_rejects_occluded_points(synthrooms_tiny):
    scene_labels = true_labels(synthrooms_tiny, build(synthrooms_tiny).get_data_info(0)['scene_id'])
    np.random.seed(0)
    checked = pair_agreement(build(synthrooms_tiny)[0], scene_labels)
    np.random.seed(0)
    unchecked_sample = build(synthrooms_tiny, depth_tolerance=1e3)[0]
    assert len(unchecked_sample['data_samples'].pseudo_pairs.label) > 0
    assert pair_agreement(unchecked_sample, scene_labels) < checked - 0.05


def test_missing_pseudo_labels_and_info_are_clear_errors(synthrooms_tiny, tmp_path):
    with pytest.raises(FileNotFoundError, match='create_data.py'):
        build(tmp_path)
    with pytest.raises(FileNotFoundError, match='make_pseudo_labels.py'):
        build(synthrooms_tiny, pseudo_labels='pseudo_labels/never_made')[0]


def test_online_labelling_gives_the_cached_pairs(synthrooms_tiny):
    from tests.conftest import exact_labeller
    online = dict(type='SimulatedVLMLabeller', **{k: v for k, v in exact_labeller().params.items()
                                                  if k not in ('class_names', 'confusion_groups')})
    np.random.seed(1)
    cached = build(synthrooms_tiny, num_frames=2)[0]['data_samples'].pseudo_pairs
    np.random.seed(1)
    computed = build(synthrooms_tiny, num_frames=2, pseudo_labels='pseudo_labels/never_made',
                     online_labeller=online)[0]['data_samples'].pseudo_pairs
    for key in ('point_idx', 'view_idx', 'label'):
        assert torch.equal(getattr(cached, key), getattr(computed, key))


def test_a_depth_map_of_another_size_than_the_recorded_one_is_named(synthrooms_tiny, tmp_path):
    import shutil

    from PIL import Image

    from hicl.dataset_io import ScanNetFormatError
    root = tmp_path / 'copy'
    shutil.copytree(synthrooms_tiny, root)
    dataset = build(root)
    path = dataset.get_data_info(0)['frames'][2]['depth_path']
    with Image.open(path) as image:
        image.resize((image.width // 2, image.height // 2)).save(path)
    with pytest.raises(ScanNetFormatError, match=path + ": depth image is 80x60 pixels, but the scene's depth "
                                                        'images are 160x120'):
        dataset[0]


class Payload:
    """What a crafted info file unpickles into: a call of os.system."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}',)


def test_a_crafted_info_file_is_refused_without_running_it(synthrooms_tiny, tmp_path):
    import pickle
    import shutil

    from hicl.pseudo_labels import load_scene_infos
    from hicl.safe_pickle import InfoFileError
    root = tmp_path / 'copy'
    shutil.copytree(synthrooms_tiny, root)
    marker = tmp_path / 'payload_ran'
    with open(root / 'hicl_infos_train.pkl', 'wb') as file:
        pickle.dump(dict(metainfo={}, data_list=[Payload(marker)]), file)
    info_file = str(root / 'hicl_infos_train.pkl')
    with pytest.raises(InfoFileError, match=f'info file {info_file}: refusing to load global posix.system'):
        build(root)
    with pytest.raises(InfoFileError, match=f'info file {info_file}: refusing to load global posix.system'):
        load_scene_infos(str(root), ['train'])
    assert not marker.exists()
    (root / 'hicl_infos_train.pkl').write_bytes(b'\x80\x05trunc')
    with pytest.raises(InfoFileError, match=f'info file {info_file} is truncated or not'):
        build(root)


def test_a_sample_holds_distinct_frames(synthrooms_tiny):
    from hicl.datasets.transforms import LoadSceneFrames
    info = build(synthrooms_tiny).get_data_info(0)
    np.random.seed(0)
    for num_frames in (2, 3, 4, 4, 4):  # of the scene's 4 frames
        views = LoadSceneFrames(num_frames=num_frames)(dict(info))['views']
        assert len(set(views['frame_ids'])) == num_frames


def test_online_labelling_needs_the_label_set_of_the_frames_true_labels():
    from mmdet3d.registry import TRANSFORMS
    init_default_scope('mmdet3d')
    with pytest.raises(ValueError, match="LoadSceneFrames with an online_labeller needs label_set"):
        TRANSFORMS.build(dict(type='LoadSceneFrames', online_labeller=dict(type='SimulatedVLMLabeller')))
