"""Labelling a dataset into the cache: inputs read from the info file, resumable, evaluated, clear errors."""
import os
import pickle
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hicl.label_sets import IMAGE_IGNORE, SCANNET20_CLASSES, SCANNET20_NYU40_IDS, image_label_lut
from hicl.metrics import confusion_matrix, mean_iou
from hicl.pseudo_labels.cache import PseudoLabelCache, StaleCacheError
from hicl.pseudo_labels.labelling import (check_cache_frames, format_report, label_dataset, load_scene_infos,
                                          manifest_for, read_frame_input, resize_nearest)
from hicl.pseudo_labels.simulated import SimulatedVLMLabeller

COLOR_SIZE = (64, 48)  # W, H of the raw label images
LABEL_SIZE = (32, 24)
NYU_WALL, NYU_FLOOR, NYU_CHAIR, NYU_LAMP = 1, 2, 5, 35  # lamp is not a benchmark class -> 255


def raw_frame(frame_index):
    """(48, 64) uint16 NYU40 label image and instance image: wall / floor, a chair moving with the frame, a lamp."""
    labels = np.full(COLOR_SIZE[::-1], NYU_WALL, np.uint16)
    labels[24:] = NYU_FLOOR
    instances = np.zeros(COLOR_SIZE[::-1], np.uint16)
    left = 4 + 2 * frame_index
    labels[16:40, left:left + 20], instances[16:40, left:left + 20] = NYU_CHAIR, 1
    labels[:6, 50:60], instances[:6, 50:60] = NYU_LAMP, 2
    return labels, instances


def write_dataset(root, scene_ids=('scene0000_00', 'scene0001_00'), num_frames=3):
    """label-filt / instance-filt PNGs and hicl_infos_train.pkl; returns the scene infos."""
    infos = []
    for scene_id in scene_ids:
        frames = []
        for index in range(num_frames):
            labels, instances = raw_frame(index)
            for folder, image in (('label-filt', labels), ('instance-filt', instances)):
                os.makedirs(os.path.join(root, 'scans', scene_id, folder), exist_ok=True)
                Image.fromarray(image).save(os.path.join(root, 'scans', scene_id, folder, f'{index}.png'))
            frames.append(dict(frame_id=str(index), pose=np.eye(4).tolist(), color_path=None, depth_path=None,
                               label_path=f'scans/{scene_id}/label-filt/{index}.png',
                               instance_path=f'scans/{scene_id}/instance-filt/{index}.png'))
        infos.append(dict(scene_id=scene_id, frames=frames))
    with open(os.path.join(root, 'hicl_infos_train.pkl'), 'wb') as f:
        pickle.dump(dict(metainfo=dict(classes=SCANNET20_CLASSES, label_set='scannet20'), data_list=infos), f)
    return infos


def test_resize_nearest_samples_pixel_centres():
    image = np.arange(48).reshape(6, 8)
    assert np.array_equal(resize_nearest(image, (4, 3)), image[1::2, 1::2])


# A hand-made excerpt of ScanNet's scannetv2-labels.combined.tsv: category id -> NYU40 id (the real table's rows
# for these categories; lamp's NYU40 class 35 is not a benchmark class, "otherprop" rows have no number here).
LABEL_MAP_TSV = ('id\traw_category\tcategory\tcount\tnyu40id\n1\twall\twall\t8277\t1\n2\tchair\tchair\t4646\t5\n'
                 '3\tbook\tbook\t1678\t23\n13\tfloor\tfloor\t1\t2\n144\tlamp\tlamp\t100\t35\n'
                 '500\tunknown\tunknown\t1\t\n')


def test_scannet_label_filt_category_ids_map_through_the_tsv(tmp_path):
    (tmp_path / 'scannetv2-labels.combined.tsv').write_text(LABEL_MAP_TSV)
    category = np.array([[1, 2, 13], [3, 144, 0]], np.uint16)  # wall, chair, floor / book, lamp, unannotated
    Image.fromarray(category).save(tmp_path / 'label.png')
    lut = image_label_lut(SCANNET20_NYU40_IDS, tmp_path / 'scannetv2-labels.combined.tsv')
    truth = read_frame_input('true_labels', tmp_path / 'label.png', (3, 2), lut)
    chair = SCANNET20_CLASSES.index('chair')
    assert truth.tolist() == [[0, chair, 1], [IMAGE_IGNORE] * 3]
    # read as NYU40 ids (what the labelling did before): the chair (category 2) would become floor (NYU40 2)
    as_nyu40 = read_frame_input('true_labels', tmp_path / 'label.png', (3, 2),
                                image_label_lut(SCANNET20_NYU40_IDS))
    assert as_nyu40[0, 1] == SCANNET20_CLASSES.index('floor')


def test_the_real_scannet_label_table_maps_chair_to_chair(shared_data):
    lut = image_label_lut(SCANNET20_NYU40_IDS, shared_data / 'scannetv2-labels.combined.tsv')
    assert lut[2] == SCANNET20_CLASSES.index('chair') and lut[1] == SCANNET20_CLASSES.index('wall')


def test_a_table_without_the_columns_is_named(tmp_path):
    (tmp_path / 'labels.tsv').write_text('a\tb\n1\t2\n')
    with pytest.raises(ValueError, match='labels.tsv is not ScanNet.s scannetv2-labels.combined.tsv'):
        image_label_lut(SCANNET20_NYU40_IDS, tmp_path / 'labels.tsv')


def test_true_labels_are_mapped_to_train_ids_with_255_for_other_classes(tmp_path):
    labels, _ = raw_frame(0)
    Image.fromarray(labels).save(tmp_path / 'label.png')
    truth = read_frame_input('true_labels', tmp_path / 'label.png', LABEL_SIZE, image_label_lut((1, 2, 3, 4, 5)))
    assert truth.shape == (24, 32) and truth.dtype == np.uint8
    assert set(np.unique(truth)) == {0, 1, 4, IMAGE_IGNORE}


def test_label_dataset_fills_the_cache_and_measures_2d_miou(tmp_path):
    infos = write_dataset(tmp_path)
    assert load_scene_infos(tmp_path, ['train']) == infos
    labeller = SimulatedVLMLabeller(token_size=4, look_confusion_prob=0)
    cache_root = tmp_path / 'pseudo'
    result = label_dataset(infos, tmp_path, labeller, cache_root, LABEL_SIZE, progress=False, label_set='scannet20')
    assert (result['frames'], result['written'], result['evaluated']) == (6, 6, 6)

    cache = PseudoLabelCache(cache_root)
    cache.verify(manifest_for(labeller, LABEL_SIZE))
    assert cache.read_manifest()['class_names'] == list(SCANNET20_CLASSES)
    confusion = 0
    lut = image_label_lut((1, 2, 3, 4, 5))
    for scene in infos:
        for frame in scene['frames']:
            labels, instances = (read_frame_input(name, tmp_path / frame[key], LABEL_SIZE, lut)
                                 for name, key in (('true_labels', 'label_path'), ('instances', 'instance_path')))
            cached = cache.read(scene['scene_id'], frame['frame_id'])
            assert np.array_equal(cached, labeller.label(scene['scene_id'], frame['frame_id'], labels, instances))
            confusion = confusion + confusion_matrix(labels, cached, len(SCANNET20_CLASSES), IMAGE_IGNORE)
    assert result['miou'] == pytest.approx(mean_iou(confusion))
    assert '2D mIoU vs true labels over 6 frames' in format_report(result, SCANNET20_CLASSES)


def test_label_dataset_resumes_without_relabelling(tmp_path):
    infos = write_dataset(tmp_path)
    labeller = SimulatedVLMLabeller(token_size=4, look_confusion_prob=0)
    first = label_dataset(infos[:1], tmp_path, labeller, tmp_path / 'pseudo', LABEL_SIZE, progress=False,
                          label_set='scannet20')
    cached_path = PseudoLabelCache(tmp_path / 'pseudo').frame_path('scene0000_00', '0')
    mtime = os.stat(cached_path).st_mtime_ns
    again = label_dataset(infos, tmp_path, labeller, tmp_path / 'pseudo', LABEL_SIZE, progress=False,
                          label_set='scannet20')
    assert (first['written'], again['written'], again['frames']) == (3, 3, 6)
    assert os.stat(cached_path).st_mtime_ns == mtime


def test_resuming_labels_again_exactly_the_frames_whose_inputs_changed(tmp_path):
    infos = write_dataset(tmp_path)
    labeller = SimulatedVLMLabeller(token_size=4, look_confusion_prob=0)
    label_dataset(infos, tmp_path, labeller, tmp_path / 'pseudo', LABEL_SIZE, progress=False, label_set='scannet20')
    check_cache_frames(tmp_path / 'pseudo', infos, tmp_path)  # just labelled: current
    cache = PseudoLabelCache(tmp_path / 'pseudo')
    kept = cache.frame_path('scene0000_00', '0')
    os.utime(kept, ns=(10**18, 10**18))
    for folder, image in zip(('label-filt', 'instance-filt'), raw_frame(0)):  # frame 2 of scene0001_00 regenerated
        path = tmp_path / 'scans' / 'scene0001_00' / folder / '2.png'
        labelled_at = os.stat(path).st_mtime_ns
        Image.fromarray(image).save(path)
        os.utime(path, ns=(labelled_at + 10**9, labelled_at + 10**9))  # one second later, whatever the clock's step
    with pytest.raises(StaleCacheError, match=re.escape(
            f'pseudo-label cache {tmp_path / "pseudo"} does not hold labels of the current frames for 1 of the 6 '
            'frames the data reads:\n  1 frame whose input files changed (size or modification time) since they '
            'were labelled: scene0001_00 frame 2\nFix: run tools/make_pseudo_labels.py CONFIG --overwrite')):
        check_cache_frames(tmp_path / 'pseudo', infos, tmp_path)
    result = label_dataset(infos, tmp_path, labeller, tmp_path / 'pseudo', LABEL_SIZE, progress=False,
                           label_set='scannet20')
    assert (result['written'], result['relabelled']) == (1, 1)
    assert '6 frames, 1 labelled now (1 of them again: their input files changed' in format_report(
        result, SCANNET20_CLASSES)
    lut = image_label_lut((1, 2, 3, 4, 5))
    truth, truth_instances = (read_frame_input(name, tmp_path / infos[1]['frames'][2][key], LABEL_SIZE, lut)
                              for name, key in (('true_labels', 'label_path'), ('instances', 'instance_path')))
    assert np.array_equal(cache.read('scene0001_00', '2'),
                          labeller.label('scene0001_00', '2', truth, truth_instances))
    assert os.stat(kept).st_mtime_ns == 10**18  # the other frames are kept
    check_cache_frames(tmp_path / 'pseudo', infos, tmp_path)


def test_a_cache_without_records_of_its_inputs_names_the_first_frames_and_how_many_more(tmp_path):
    infos = write_dataset(tmp_path, num_frames=4)
    label_dataset(infos, tmp_path, SimulatedVLMLabeller(token_size=4, look_confusion_prob=0), tmp_path / 'pseudo',
                  LABEL_SIZE, progress=False, label_set='scannet20')
    for scene_id in ('scene0000_00', 'scene0001_00'):  # as a cache made before the records existed
        os.remove(PseudoLabelCache(tmp_path / 'pseudo').inputs_path(scene_id))
    os.remove(PseudoLabelCache(tmp_path / 'pseudo').frame_path('scene0001_00', '3'))
    with pytest.raises(StaleCacheError) as error:
        check_cache_frames(tmp_path / 'pseudo', infos, tmp_path)
    assert str(error.value).split('\n')[1:3] == [
        '  7 frames with labels but no record of the files they were labelled from (a cache made by an older '
        'version): scene0000_00 frame 0, scene0000_00 frame 1, scene0000_00 frame 2, scene0000_00 frame 3, '
        'scene0001_00 frame 0 and 2 more',
        '  1 frame not in the cache: scene0001_00 frame 3']
    result = label_dataset(infos, tmp_path, SimulatedVLMLabeller(token_size=4, look_confusion_prob=0),
                           tmp_path / 'pseudo', LABEL_SIZE, progress=False, label_set='scannet20')
    assert (result['written'], result['relabelled']) == (8, 7)
    check_cache_frames(tmp_path / 'pseudo', infos, tmp_path)


def test_other_labeller_settings_are_refused_unless_overwriting(tmp_path):
    infos = write_dataset(tmp_path, num_frames=1)
    label_dataset(infos, tmp_path, SimulatedVLMLabeller(token_size=4, look_confusion_prob=0), tmp_path / 'pseudo',
                  LABEL_SIZE, progress=False, label_set='scannet20')
    stronger = SimulatedVLMLabeller(token_size=4, bleed_prob=0.9, look_confusion_prob=0)
    with pytest.raises(StaleCacheError, match='labeller.bleed_prob'):
        label_dataset(infos, tmp_path, stronger, tmp_path / 'pseudo', LABEL_SIZE, progress=False, label_set='scannet20')
    result = label_dataset(infos, tmp_path, stronger, tmp_path / 'pseudo', LABEL_SIZE, overwrite=True,
                           progress=False, label_set='scannet20')
    assert result['written'] == 2


def test_frames_without_2d_labels_are_named_in_the_error(tmp_path):
    infos = write_dataset(tmp_path, num_frames=2)
    infos[1]['frames'][1]['instance_path'] = None
    with pytest.raises(ValueError, match="scene scene0001_00 frame 1 has no instance_path.*instance-filt"):
        label_dataset(infos, tmp_path, SimulatedVLMLabeller(look_confusion_prob=0), tmp_path / 'pseudo', LABEL_SIZE,
                      progress=False, label_set='scannet20')


def test_missing_info_file_points_to_the_converter(tmp_path):
    with pytest.raises(FileNotFoundError, match='tools/create_data.py'):
        load_scene_infos(tmp_path, ['val'])


def test_command_line_tool_writes_the_cache_of_a_config(tmp_path, monkeypatch, capsys):
    write_dataset(tmp_path)
    config = tmp_path / 'config.py'
    config.write_text(f"data_root = '{tmp_path}/'\n"
                      "pseudo_labels = dict(labeller=dict(type='SimulatedVLMLabeller', token_size=4,\n"
                      "                                   look_confusion_prob=0),\n"
                      f"                     cache_root=data_root + 'pseudo', label_size={LABEL_SIZE})\n")
    tool = Path(__file__).resolve().parents[2] / 'tools' / 'make_pseudo_labels.py'
    monkeypatch.setattr(sys, 'argv', [str(tool), str(config), '--splits', 'train'])
    runpy.run_path(str(tool), run_name='__main__')
    assert '6 frames, 6 labelled now' in capsys.readouterr().out
    expected = manifest_for(SimulatedVLMLabeller(token_size=4, look_confusion_prob=0), LABEL_SIZE)
    PseudoLabelCache(tmp_path / 'pseudo').verify(expected)
    assert PseudoLabelCache(tmp_path / 'pseudo').read('scene0001_00', '2').shape == (24, 32)


def test_a_labeller_outside_the_contract_is_refused_with_the_fix():
    from hicl.pseudo_labels import PseudoLabeller
    from hicl.pseudo_labels.labelling import label_frames, manifest_for

    class DuckLabeller:  # has the methods, but does not state the contract
        class_names, required_inputs, batch_size = ('wall',), (), 1

        def label_batch(self, frame_ids, label_size):
            return [np.zeros(label_size[::-1], np.uint8) for _ in frame_ids]

    for call in (lambda: label_frames(DuckLabeller(), [], '', (4, 3), None),
                 lambda: manifest_for(DuckLabeller(), (4, 3))):
        with pytest.raises(TypeError, match='DuckLabeller is not a pseudo-labeller: derive it from '
                                            'hicl.pseudo_labels.PseudoLabeller'):
            call()

    class Unfinished(PseudoLabeller):
        class_names, params = ('wall',), {}

    assert Unfinished().config == dict(type='Unfinished')
    with pytest.raises(NotImplementedError, match='Unfinished must implement label_batch'):
        label_frames(Unfinished(), [('s', dict(frame_id='0'))], '', (4, 3), None)
