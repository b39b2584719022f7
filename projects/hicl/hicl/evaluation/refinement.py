"""How much intra-set label refinement helps: 3D pseudo-label mIoU before and after, and set purity."""
import numpy as np
from mmdet3d.evaluation.functional.seg_eval import per_class_iou

from ..geometry.segmentation import set_purity
from ..label_sets import SCANNET20_IGNORE_INDEX
from ..visualization import load_refined_scene, majority_per_point, true_point_labels
from .seg_metric import confusion_matrix


def miou_of(hist):
    """nanmean IoU of a (C, C) confusion matrix (classes absent from truth and prediction are NaN)."""
    with np.errstate(invalid='ignore', divide='ignore'):
        return float(np.nanmean(per_class_iou(hist)))


def evaluate_refinement(dataset, train_pipeline, num_frames, num_classes, progress=None):
    """Over every scene of ``dataset``: the 3D pseudo-labels (per-point majority of its pair labels; points
    without pairs are not evaluated) before and after SetVotingRefiner, against the true labels.

    Returns dict(raw_miou, refined_miou, raw_pair_acc, refined_pair_acc, set_purity, num_sets, changed).
    """
    gts, raws, refineds, purities, num_sets, changed = [], [], [], [], [], 0
    pair_hits = np.zeros(2)
    pair_count = 0
    for index in range(len(dataset)):
        results = load_refined_scene(dataset, index, train_pipeline, num_frames)
        truth = true_point_labels(results)
        n = len(results['points'])
        raw = majority_per_point(results['pair_point_idx'], results['pair_label_raw'], n, num_classes)
        refined = majority_per_point(results['pair_point_idx'], results['pair_label'], n, num_classes)
        seen = (raw < num_classes) & (truth != SCANNET20_IGNORE_INDEX)
        gts.append(truth[seen]), raws.append(raw[seen]), refineds.append(refined[seen])
        pair_truth = truth[results['pair_point_idx']]
        evaluated = pair_truth != SCANNET20_IGNORE_INDEX
        pair_hits += [(results[key] == pair_truth)[evaluated].sum() for key in ('pair_label_raw', 'pair_label')]
        pair_count += int(evaluated.sum())
        valid = truth != SCANNET20_IGNORE_INDEX
        purities.append(set_purity(results['point_sets'][valid], truth[valid]))
        num_sets.append(int(results['point_sets'].max()) + 1)
        changed += int(results['set_voting_changed'])
        if progress is not None:
            progress()
    return dict(raw_miou=miou_of(confusion_matrix(gts, raws, num_classes, SCANNET20_IGNORE_INDEX)),
                refined_miou=miou_of(confusion_matrix(gts, refineds, num_classes, SCANNET20_IGNORE_INDEX)),
                raw_pair_acc=float(pair_hits[0] / pair_count), refined_pair_acc=float(pair_hits[1] / pair_count),
                set_purity=float(np.mean(purities)), num_sets=float(np.mean(num_sets)), changed=changed)
