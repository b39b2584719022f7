"""Geometric consistency sets: loading them, and intra-set refinement of the pair labels (paper 3.2.1)."""
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from ...geometry.set_voting import vote_within_sets
from ...label_sets import IMAGE_IGNORE
from .points import check_one_per_point

SETS_HINT = ('run tools/create_data.py (scannet, synthrooms, nuscenes or synthstreet) on this dataset to compute '
             'the sets')


def read_point_sets(path):
    """(N,) int64 set id of each point of one scene (-1 = no set) from an int64 .bin file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'point set file {path} not found: {SETS_HINT}')
    return np.fromfile(path, dtype=np.int64)


@TRANSFORMS.register_module()
class LoadPointSets(BaseTransform):
    """Load the geometric consistency sets G_k of the scene: one set id per point.

    Reads ``pts_sets_path`` (the dataset joins it with ``data_prefix['pts_sets']``, default '<data_root>/sets')
    and, when already loaded, ``points`` (one set id per point, else PointsFileError naming the scene and both
    files).
    Writes ``point_sets`` (N,) int64, -1 = the point is in no set.
    """

    def transform(self, results):
        if 'pts_sets_path' not in results:
            raise KeyError(f'scene {results.get("scene_id")} has no pts_sets_path in its data info: {SETS_HINT}')
        point_sets = read_point_sets(results['pts_sets_path'])
        check_one_per_point(results, point_sets, results['pts_sets_path'], 'set ids', f'{SETS_HINT} again')
        results['point_sets'] = point_sets
        return results


@TRANSFORMS.register_module()
class SetVotingRefiner(BaseTransform):
    """Intra-set label refinement: in each view, the pairs of each set take the mode of the set's labels.

    See ``hicl.geometry.set_voting.vote_within_sets`` for the rule (ties: lowest class id).
    Reads ``pair_point_idx``, ``pair_view_idx``, ``pair_label`` (P,) int64 and ``point_sets`` (N,) int64.
    Writes the refined ``pair_label`` (P,) int64 (same pairs, same order), the input labels as
    ``pair_label_raw`` (P,) int64 and ``set_voting_changed`` (int), how many labels changed.
    Runs after PairPointsWithPixels; points may be moved afterwards but not reordered before it.

    Args:
        num_classes: number of classes (labels are 0..num_classes-1 or ignore_index); None (default): the
            sample's ``num_classes``, which the label-free datasets put in every data info (their label set's).
        min_votes: a (view, set) group with fewer labelled pairs keeps its labels.
        min_share: a group whose mode holds less than this share of its votes keeps its labels, or ignores
            them with ``below_share='ignore'``.
        ignore_index: the "no label" value of the pairs (label images: 255); ignored labels never vote.
        fill_ignored: give the mode to the ignored pairs of a set too (the paper: to all its pixels).
    """

    def __init__(self, num_classes=None, min_votes=1, min_share=0.0, below_share='keep',
                 ignore_index=IMAGE_IGNORE, fill_ignored=True):
        self.vote_options = dict(num_classes=num_classes, min_votes=min_votes, min_share=min_share,
                                 below_share=below_share, ignore_index=ignore_index, fill_ignored=fill_ignored)

    def transform(self, results):
        raw_labels = np.asarray(results['pair_label'], dtype=np.int64)
        options = dict(self.vote_options)
        if options['num_classes'] is None:
            if 'num_classes' not in results:
                raise KeyError('SetVotingRefiner(num_classes=None) reads the number of classes from the sample, '
                               'which has none: pass num_classes, or use a label-free dataset (they record it)')
            options['num_classes'] = results['num_classes']
        refined, changed = vote_within_sets(results['pair_point_idx'], results['pair_view_idx'], raw_labels,
                                            results['point_sets'], **options)
        results['pair_label_raw'] = raw_labels
        results['pair_label'] = refined
        results['set_voting_changed'] = changed
        return results

    def __repr__(self):
        options = ', '.join(f'{key}={value!r}' for key, value in self.vote_options.items())
        return f'{type(self).__name__}({options})'
