"""How much intra-set label refinement helps: 3D pseudo-label mIoU before and after, and set purity."""
import os.path as osp

import numpy as np

from ..dataset_io import info_file_name
from ..geometry.segmentation import set_purity
from ..label_sets import IMAGE_IGNORE, get_label_set, map_with_lut
from ..metrics import confusion_matrix, mean_iou
from ..safe_pickle import load_info_file
from ..vis.colours import label_colours, set_colours

PAIRING_STEPS = ('LoadPointsChecked', 'LoadPointsFromFile', 'LoadSceneFrames', 'PairPointsWithPixels')


def majority_per_point(point_idx, labels, num_points, num_classes, ignore_index=IMAGE_IGNORE):
    """(N,) int64 most frequent label of each point's pairs (ties: lowest class), ignore_index without any.

    point_idx, labels: (P,) int pair arrays; labels equal to ignore_index do not count.
    """
    labelled = labels != ignore_index
    keys = np.asarray(point_idx)[labelled] * num_classes + np.asarray(labels)[labelled]
    counts = np.bincount(keys, minlength=num_points * num_classes).reshape(num_points, num_classes)
    return np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), ignore_index)


def scene_set_purity(data_root, split):
    """Purity of the converter's geometric consistency sets, scene by scene (``set_purity``: the share of points
    whose set's majority label is their own).

    Reads <data_root>/hicl_infos_<split>.pkl and each scene's sets/, semantic_mask/ and, when the converter wrote
    one, instance_mask/ file. Returns a list of dict(scene_id, points, sets, class_purity (the classes of the
    label set the info file was converted for, ignored points left out), instance_purity (None without an
    instance mask)).
    """
    rows = []
    info = load_info_file(osp.join(data_root, info_file_name(split)))
    label_set = get_label_set(info['metainfo']['label_set'])
    for entry in info['data_list']:
        if 'pts_sets_path' not in entry or 'pts_semantic_mask_path' not in entry:
            raise ValueError(f'scene {entry["scene_id"]} of {split} has no sets or no semantic mask: convert it '
                             'with sets and labels to measure set purity')
        point_sets = np.fromfile(osp.join(data_root, 'sets', entry['pts_sets_path']), dtype=np.int64)
        truth = map_with_lut(np.fromfile(osp.join(data_root, 'semantic_mask', entry['pts_semantic_mask_path']),
                                         dtype=np.int64), label_set['raw_to_train'], label_set['ignore_index'])
        valid = truth != label_set['ignore_index']
        instance_purity = None
        if 'pts_instance_mask_path' in entry:
            instances = np.fromfile(osp.join(data_root, 'instance_mask', entry['pts_instance_mask_path']),
                                    dtype=np.int64)
            instance_purity = set_purity(point_sets, instances)
        rows.append(dict(scene_id=entry['scene_id'], points=len(point_sets), sets=int(point_sets.max()) + 1,
                         class_purity=set_purity(point_sets[valid], truth[valid]), instance_purity=instance_purity))
    return rows


def split_dataset(cfg, split):
    """The dataset of ``split`` ('train' or 'val') of config ``cfg`` without its pipeline and not in test mode,
    reading the train loader's ``data_prefix`` (its sets and pseudo-labels), for :func:`load_refined_scene`."""
    from mmdet3d.registry import DATASETS
    loaders = dict(train=cfg.train_dataloader, val=cfg.val_dataloader)
    if split not in loaders:
        raise ValueError(f'unknown split {split!r}: use train or val')
    return DATASETS.build(dict(loaders[split].dataset, pipeline=[], test_mode=False,
                               data_prefix=cfg.train_dataloader.dataset.data_prefix))


def find_scene(cfg, scene_id):
    """(dataset, index) of scene_id in the train dataset, else in the val dataset (pipelines left out)."""
    from mmdet3d.registry import DATASETS
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        dataset = DATASETS.build(dict(loader.dataset, pipeline=[], test_mode=False))
        for index in range(len(dataset)):
            if dataset.get_data_info(index)['scene_id'] == scene_id:
                return dataset, index
    raise KeyError(f'scene {scene_id} is in neither the train nor the val info file of the config')


def load_refined_scene(dataset, index, train_pipeline, num_frames, point_sets_of=None, refiner=None):
    """Run the loading and pairing steps of ``train_pipeline`` on one scene, attach its sets and refine.

    dataset: a LabelFreeScanNetDataset (its pipeline is not used); num_frames: views to sample.
    point_sets_of: None reads the converter's sets (LoadPointSets), else a function (N, 3) xyz -> (N,) set ids.
    refiner: SetVotingRefiner config (default: the one in train_pipeline, else the defaults for the dataset's
    classes).
    Returns the results dict (``points``, pairs, ``pair_label_raw``, ``point_sets``, ``set_voting_changed``,
    and the data info's ``num_classes``, the dataset's C, which is also the ignore index of
    :func:`true_point_labels`).
    """
    from mmdet3d.registry import TRANSFORMS
    steps = [dict(step, num_frames=num_frames) if step['type'] == 'LoadSceneFrames' else step
             for step in train_pipeline if step['type'] in PAIRING_STEPS]
    refiner = refiner or next((step for step in train_pipeline if step['type'] == 'SetVotingRefiner'),
                              dict(type='SetVotingRefiner'))
    results = dataset.get_data_info(index)
    for step in steps:
        results = TRANSFORMS.build(step)(results)
    if point_sets_of is None:
        results = TRANSFORMS.build(dict(type='LoadPointSets'))(results)
    else:
        results['point_sets'] = np.asarray(point_sets_of(results['points'].coord.numpy()), dtype=np.int64)
    return TRANSFORMS.build(refiner)(results)


def true_point_labels(results):
    """(N,) train ids of the scene's points through the dataset's ``seg_label_mapping`` (``num_classes`` =
    ignored), or None without a semantic mask."""
    path = results.get('pts_semantic_mask_path')
    if not path:
        return None
    return map_with_lut(np.fromfile(path, dtype=np.int64), results['seg_label_mapping'], results['num_classes'])


def pair_hits(results, truth):
    """(raw hits, refined hits, evaluated pairs): pairs whose label equals the (N,) true label of their point,
    pairs of ignored points skipped."""
    pair_truth = truth[results['pair_point_idx']]
    evaluated = pair_truth != results['num_classes']
    raw, refined = ((results[key] == pair_truth)[evaluated].sum() for key in ('pair_label_raw', 'pair_label'))
    return int(raw), int(refined), int(evaluated.sum())


def pair_agreement(results, truth):
    """(raw, refined) share of the pairs whose label equals the true label of their point (see pair_hits)."""
    raw, refined, count = pair_hits(results, truth)
    return raw / count, refined / count


def evaluate_refinement(dataset, train_pipeline, num_frames, num_classes, progress=None, predictions=None):
    """Over every scene of ``dataset``: the 3D pseudo-labels (per-point majority of its pair labels; points
    without pairs are not evaluated) before and after SetVotingRefiner, against the true labels.

    predictions: optional {scene_id: (N,) predicted class ids of all the scene's points} (tools/test.py
    --save-preds), scored on the same vertices as the pseudo-labels (the seen ones) and on all vertices.
    Returns dict(raw_miou, refined_miou, raw_pair_acc, refined_pair_acc, set_purity, num_sets, changed,
    seen_share: the share of the labelled vertices that have a pair) plus, with predictions,
    prediction_miou_seen and prediction_miou_all.
    """
    gts, raws, refineds, purities, num_sets, changed = [], [], [], [], [], 0
    predicted_seen, all_truth, predicted_all, labelled_count = [], [], [], 0
    hits = np.zeros(2)
    pair_count = 0
    for index in range(len(dataset)):
        results = load_refined_scene(dataset, index, train_pipeline, num_frames)
        truth = true_point_labels(results)
        n = len(results['points'])
        raw = majority_per_point(results['pair_point_idx'], results['pair_label_raw'], n, num_classes)
        refined = majority_per_point(results['pair_point_idx'], results['pair_label'], n, num_classes)
        seen = (raw < num_classes) & (truth != num_classes)
        gts.append(truth[seen]), raws.append(raw[seen]), refineds.append(refined[seen])
        labelled_count += int((truth != num_classes).sum())
        if predictions is not None:
            predicted = np.asarray(predictions[results['scene_id']])
            if len(predicted) != n:
                raise ValueError(f'scene {results["scene_id"]}: {len(predicted)} predictions for {n} points')
            predicted_seen.append(predicted[seen]), all_truth.append(truth), predicted_all.append(predicted)
        raw_hits, refined_hits, count = pair_hits(results, truth)
        hits += [raw_hits, refined_hits]
        pair_count += count
        valid = truth != num_classes
        purities.append(set_purity(results['point_sets'][valid], truth[valid]))
        num_sets.append(int(results['point_sets'].max()) + 1)
        changed += int(results['set_voting_changed'])
        if progress is not None:
            progress()
    result = dict(raw_miou=mean_iou(confusion_matrix(gts, raws, num_classes, num_classes)),
                  refined_miou=mean_iou(confusion_matrix(gts, refineds, num_classes, num_classes)),
                  raw_pair_acc=float(hits[0] / pair_count), refined_pair_acc=float(hits[1] / pair_count),
                  set_purity=float(np.mean(purities)), num_sets=float(np.mean(num_sets)), changed=changed,
                  seen_share=sum(len(g) for g in gts) / labelled_count)
    if predictions is not None:
        result.update(
            prediction_miou_seen=mean_iou(confusion_matrix(gts, predicted_seen, num_classes, num_classes)),
            prediction_miou_all=mean_iou(confusion_matrix(all_truth, predicted_all, num_classes,
                                                          num_classes)))
    return result


def refinement_panels(results, palette):
    """The (title, (N, 3) colours) panels of one refined scene (as the paper's Fig. 3): sets, raw 3D
    pseudo-labels, refined ones, truth; classes in the (C, 3) uint8 ``palette`` of the dataset's C classes."""
    num_classes, num_points = len(palette), len(results['points'])
    raw = majority_per_point(results['pair_point_idx'], results['pair_label_raw'], num_points, num_classes)
    refined = majority_per_point(results['pair_point_idx'], results['pair_label'], num_points, num_classes)
    num_sets = len(np.unique(results['point_sets'][results['point_sets'] >= 0]))
    panels = [(f'sets ({num_sets})', set_colours(results['point_sets'])),
              ('raw 3D pseudo-labels', label_colours(raw, palette)),
              (f'refined ({results["set_voting_changed"]} pair labels changed)', label_colours(refined, palette))]
    truth = true_point_labels(results)
    if truth is not None:
        panels.append(('true labels', label_colours(truth, palette)))
    return panels
