"""Intra-set label refinement (paper 3.2.1): the mode of a set's pseudo-labels in one view replaces them."""
import numpy as np

BELOW_SHARE_ACTIONS = ('keep', 'ignore')


def group_pairs_by_view_and_set(view_idx, pair_sets):
    """Dense id of the (view, set) group of each pair that lies in a set.

    view_idx, pair_sets: (Q,) int64 view and set id (>= 0) of Q pairs.
    Returns (Q,) int64 group ids in 0..G-1 and G, the number of distinct groups.
    """
    combined = view_idx * (int(pair_sets.max(initial=-1)) + 1) + pair_sets
    groups, group_of_pair = np.unique(combined, return_inverse=True)
    return group_of_pair.reshape(-1), len(groups)


def class_counts_per_group(group_of_pair, labels, voting, num_groups, num_classes):
    """(G, C) int64 count of each class among the voting pairs of each group (one bincount over group x class).

    group_of_pair, labels: (Q,) int64; voting: (Q,) bool, the pairs whose label votes.
    """
    keys = group_of_pair[voting] * num_classes + labels[voting]
    return np.bincount(keys, minlength=num_groups * num_classes).reshape(num_groups, num_classes)


def check_labels(labels, num_classes, ignore_index):
    """ValueError when a label is neither a class id in 0..num_classes-1 nor ignore_index."""
    invalid = (labels != ignore_index) & ((labels < 0) | (labels >= num_classes))
    if invalid.any():
        raise ValueError(f'labels must be in 0..{num_classes - 1} or {ignore_index} (ignored); '
                         f'found {np.unique(labels[invalid]).tolist()}')


def vote_within_sets(point_idx, view_idx, labels, point_sets, num_classes, min_votes=1, min_share=0.0,
                     below_share='keep', ignore_index=255, fill_ignored=True):
    """Replace the labels of each (view, set) group of pairs by the group's mode.

    A group is the pairs of one view whose points belong to one geometric consistency set. Labelled pairs
    (label != ignore_index) vote; ties go to the lowest class id. A group with fewer than ``min_votes`` votes
    keeps its labels. A group whose mode holds a share of the votes below ``min_share`` keeps its labels
    (``below_share='keep'``) or has them all set to ``ignore_index`` (``below_share='ignore'``). Otherwise every
    labelled pair of the group gets the mode, and with ``fill_ignored`` (the paper: the mode is given to all
    pixels of the projected set) its ignored pairs get it too. Pairs of points without a set (-1) keep theirs.

    Args:
        point_idx, view_idx, labels: (P,) int pair arrays: point index into point_sets, view index, label.
        point_sets: (N,) int set id of each point, -1 = no set.
        num_classes: C; labels are 0..C-1 or ignore_index.
        min_votes: at least 1.
        min_share: in [0, 1].

    Returns:
        (P,) int64 refined labels (same order as the pairs) and the number of labels that changed (int).
    """
    if below_share not in BELOW_SHARE_ACTIONS:
        raise ValueError(f'below_share must be one of {BELOW_SHARE_ACTIONS}, got {below_share!r}')
    if min_votes < 1 or not 0 <= min_share <= 1:
        raise ValueError(f'need min_votes >= 1 and 0 <= min_share <= 1, got {min_votes}, {min_share}')
    labels = np.asarray(labels, dtype=np.int64)
    check_labels(labels, num_classes, ignore_index)
    pair_sets = np.asarray(point_sets, dtype=np.int64)[np.asarray(point_idx, dtype=np.int64)]
    in_set = pair_sets >= 0
    group_labels = labels[in_set]
    group_of_pair, num_groups = group_pairs_by_view_and_set(np.asarray(view_idx, dtype=np.int64)[in_set],
                                                            pair_sets[in_set])
    labelled = group_labels != ignore_index
    counts = class_counts_per_group(group_of_pair, group_labels, labelled, num_groups, num_classes)
    votes = counts.sum(axis=1)
    mode = counts.argmax(axis=1)  # argmax takes the first maximum: ties go to the lowest class id
    enough_votes = votes >= min_votes
    clear_majority = counts.max(axis=1, initial=0) >= min_share * votes
    receives = labelled | fill_ignored
    refined_group_labels = group_labels.copy()
    take_mode = (enough_votes & clear_majority)[group_of_pair] & receives
    refined_group_labels[take_mode] = mode[group_of_pair[take_mode]]
    if below_share == 'ignore':
        refined_group_labels[(enough_votes & ~clear_majority)[group_of_pair]] = ignore_index
    refined = labels.copy()
    refined[in_set] = refined_group_labels
    return refined, int((refined != labels).sum())
