"""Intra-set label refinement (paper 3.2.1): a hand-computed vote, the transforms and a noisy-label pipeline."""
import pickle

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from hicl.datasets import LabelFreeScanNetDataset
from hicl.datasets.transforms import LoadPointSets, SetVotingRefiner
from hicl.geometry.set_voting import vote_within_sets
from hicl.label_sets import SCANNET20_IGNORE_INDEX, SCANNET20_NYU40_IDS, map_raw_labels

X = 255  # ignored label
NUM_CLASSES = 4
# points 0-3 in set 0, 4-6 in set 1, 7-8 in set 2, 9 in no set
POINT_SETS = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, -1])
# view 0: set 0 votes {1: 2, 2: 1} -> 1 (share 2/3), its ignored pair gets 1 too; set 1 ties {2: 1, 3: 1} -> 2
#         (lowest class, share 1/2); set 2 has one vote (0); point 9 has no set.
# view 1: set 0 has one vote (3); set 1 votes {0: 2, 1: 1} -> 0 (share 2/3); set 2 has one vote (2) and an
#         ignored pair; point 9 has no set and stays ignored.
POINT_IDX = np.array([0, 1, 2, 3, 4, 5, 7, 9, 0, 4, 5, 6, 7, 8, 9])
VIEW_IDX = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
RAW = np.array([1, 1, 2, X, 2, 3, 0, 3, 3, 0, 0, 1, 2, X, X])
EXPECTED = {
    'default': ([1, 1, 1, 1, 2, 2, 0, 3, 3, 0, 0, 0, 2, 2, X], 5, {}),
    'min_votes=2 keeps the single-vote groups': (
        [1, 1, 1, 1, 2, 2, 0, 3, 3, 0, 0, 0, 2, X, X], 4, dict(min_votes=2)),
    'min_share keeps the tied group': (
        [1, 1, 1, 1, 2, 3, 0, 3, 3, 0, 0, 0, 2, 2, X], 4, dict(min_share=0.6)),
    'min_share ignores the tied group': (
        [1, 1, 1, 1, X, X, 0, 3, 3, 0, 0, 0, 2, 2, X], 6, dict(min_share=0.6, below_share='ignore')),
    'fill_ignored=False leaves ignored labels': (
        [1, 1, 1, X, 2, 2, 0, 3, 3, 0, 0, 0, 2, X, X], 3, dict(fill_ignored=False)),
}


@pytest.mark.parametrize('case', EXPECTED)
def test_vote_matches_the_hand_computed_refinement(case):
    expected, expected_changed, options = EXPECTED[case]
    refined, changed = vote_within_sets(POINT_IDX, VIEW_IDX, RAW, POINT_SETS, NUM_CLASSES, ignore_index=X, **options)
    assert refined.tolist() == expected
    assert changed == expected_changed == int((refined != RAW).sum())


def test_vote_does_not_depend_on_pair_order():
    order = np.random.default_rng(0).permutation(len(RAW))
    refined, _ = vote_within_sets(POINT_IDX[order], VIEW_IDX[order], RAW[order], POINT_SETS, NUM_CLASSES)
    assert refined.tolist() == np.array(EXPECTED['default'][0])[order].tolist()


def test_vote_without_pairs_or_sets_changes_nothing():
    empty = np.zeros(0, dtype=np.int64)
    assert vote_within_sets(empty, empty, empty, POINT_SETS, NUM_CLASSES)[1] == 0
    refined, changed = vote_within_sets(POINT_IDX, VIEW_IDX, RAW, np.full(10, -1), NUM_CLASSES)
    assert refined.tolist() == RAW.tolist() and changed == 0


def test_vote_rejects_bad_labels_and_options():
    with pytest.raises(ValueError, match='labels must be in 0..3'):
        vote_within_sets(POINT_IDX, VIEW_IDX, np.where(RAW == 3, 7, RAW), POINT_SETS, NUM_CLASSES)
    with pytest.raises(ValueError, match='below_share'):
        vote_within_sets(POINT_IDX, VIEW_IDX, RAW, POINT_SETS, NUM_CLASSES, below_share='drop')
    with pytest.raises(ValueError, match='min_votes'):
        vote_within_sets(POINT_IDX, VIEW_IDX, RAW, POINT_SETS, NUM_CLASSES, min_votes=0)


def test_refiner_writes_refined_and_raw_labels_and_the_change_count():
    results = SetVotingRefiner(num_classes=NUM_CLASSES)(dict(
        pair_point_idx=POINT_IDX, pair_view_idx=VIEW_IDX, pair_label=RAW.copy(), point_sets=POINT_SETS))
    assert results['pair_label'].tolist() == EXPECTED['default'][0]
    assert results['pair_label_raw'].tolist() == RAW.tolist()
    assert results['set_voting_changed'] == 5


def test_load_point_sets_reads_the_file_and_names_a_missing_one(tmp_path):
    path = tmp_path / 'scene.bin'
    POINT_SETS.astype(np.int64).tofile(path)
    assert LoadPointSets()(dict(pts_sets_path=str(path)))['point_sets'].tolist() == POINT_SETS.tolist()
    with pytest.raises(FileNotFoundError, match=r'never\.bin.*create_data\.py'):
        LoadPointSets()(dict(pts_sets_path=str(tmp_path / 'never.bin')))
    with pytest.raises(KeyError, match='create_data.py'):
        LoadPointSets()(dict(scene_id='scene'))


# --- pipeline on SynthRooms: pure sets (the true labels) and noisy pixel labels -------------------------------

LOAD_POINTS = dict(type='LoadPointsFromFile', coord_type='DEPTH', shift_height=False, use_color=True, load_dim=6,
                   use_dim=[0, 1, 2, 3, 4, 5])


@pytest.fixture(scope='module')
def noisy_synthrooms(synthrooms_tiny, tmp_path_factory):
    """(info file with pts_sets_path, sets folder, noisy pseudo-label cache) for the tiny train scenes; the sets
    are the true NYU40 labels of the points, so every set is pure."""
    from hicl.pseudo_labels import SimulatedVLMLabeller, label_dataset, load_scene_infos
    out = tmp_path_factory.mktemp('set_voting')
    with open(synthrooms_tiny / 'hicl_infos_train.pkl', 'rb') as f:
        info = pickle.load(f)
    (out / 'sets').mkdir()
    for entry in info['data_list']:
        raw = np.fromfile(synthrooms_tiny / 'semantic_mask' / entry['pts_semantic_mask_path'], dtype=np.int64)
        raw.tofile(out / 'sets' / f'{entry["scene_id"]}.bin')
        entry['pts_sets_path'] = f'{entry["scene_id"]}.bin'
    with open(out / 'infos_with_sets.pkl', 'wb') as f:
        pickle.dump(info, f)
    label_dataset(load_scene_infos(str(synthrooms_tiny), ['train']), str(synthrooms_tiny), SimulatedVLMLabeller(),
                  str(out / 'noisy'), label_size=(160, 120), progress=False, label_set='scannet20')
    return out


def build_refining_dataset(root, noisy):
    init_default_scope('mmdet3d')
    pipeline = [LOAD_POINTS, dict(type='LoadSceneFrames', num_frames=4, label_size=(160, 120)),
                dict(type='PairPointsWithPixels'), dict(type='LoadPointSets'), dict(type='SetVotingRefiner')]
    return LabelFreeScanNetDataset(
        data_root=str(root), ann_file=str(noisy / 'infos_with_sets.pkl'), pipeline=pipeline,
        data_prefix=dict(pts='points', pts_semantic_mask='semantic_mask', pseudo_labels=str(noisy / 'noisy'),
                         pts_sets=str(noisy / 'sets')))


def test_refinement_with_pure_sets_brings_noisy_labels_closer_to_the_truth(synthrooms_tiny, noisy_synthrooms):
    dataset = build_refining_dataset(synthrooms_tiny, noisy_synthrooms)
    np.random.seed(0)
    for index in range(len(dataset)):
        results = dataset[index]
        raw_mask = np.fromfile(synthrooms_tiny / 'semantic_mask' / f'{results["scene_id"]}.bin', dtype=np.int64)
        truth = map_raw_labels(raw_mask, SCANNET20_NYU40_IDS, SCANNET20_IGNORE_INDEX)[results['pair_point_idx']]
        evaluated = truth != SCANNET20_IGNORE_INDEX
        raw_rate = (results['pair_label_raw'] == truth)[evaluated].mean()
        refined_rate = (results['pair_label'] == truth)[evaluated].mean()
        print(f'{results["scene_id"]}: {evaluated.sum()} pairs, raw labels agree with the truth {raw_rate:.3f}, '
              f'refined {refined_rate:.3f}, {results["set_voting_changed"]} labels changed')
        assert results['pts_sets_path'] == str(noisy_synthrooms / 'sets' / f'{results["scene_id"]}.bin')
        assert len(results['pair_label']) == len(results['pair_label_raw'])
        assert results['set_voting_changed'] == int((results['pair_label'] != results['pair_label_raw']).sum()) > 0
        assert refined_rate > raw_rate + 0.02


def test_figure_helpers_take_the_per_point_majority_and_write_a_png(tmp_path):
    from hicl.evaluation.refinement import majority_per_point, refinement_panels
    from hicl.vis.top_down import render_top_down
    raw = majority_per_point(POINT_IDX, RAW, len(POINT_SETS), NUM_CLASSES)
    # ties go to the lowest class (point 0: 1 vs 3; points 4, 5: 0); points 3 and 8 are only seen as ignored
    assert raw.tolist() == [1, 1, 2, X, 0, 0, 1, 0, X, 3]
    results = SetVotingRefiner(num_classes=NUM_CLASSES)(dict(
        points=np.zeros((10, 3)), pair_point_idx=POINT_IDX, pair_view_idx=VIEW_IDX, pair_label=RAW.copy(),
        point_sets=POINT_SETS))
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)[:NUM_CLASSES]
    panels = refinement_panels(results, palette)
    assert [colours.shape for _, colours in panels] == [(10, 3)] * 3
    # the raw panel: each point in its majority class's palette colour, grey where only ignored labels were seen
    np.testing.assert_allclose(panels[1][1][[0, 2, 3]], [palette[1] / 255, palette[2] / 255, [0.75, 0.75, 0.75]])
    render_top_down(np.random.default_rng(0).uniform(size=(10, 3)), panels, tmp_path / 'fig.png')
    assert (tmp_path / 'fig.png').stat().st_size > 0
