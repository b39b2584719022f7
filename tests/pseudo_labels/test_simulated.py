"""The simulated vision-language labeller: determinism and each kind of noise, measured on hand-built images."""
import json

import numpy as np
import pytest

from hicl.label_sets import IMAGE_IGNORE, SCANNET20_CLASSES
from hicl.pseudo_labels.simulated import (DEFAULT_CONFUSION_GROUPS, SimulatedVLMLabeller, bleed_tokens,
                                          confuse_instances, confusion_partner_table, noise_blobs, vote_tokens)

WALL, FLOOR, CABINET, BED, CHAIR, SOFA, TABLE = range(7)
OTHER_FURNITURE = SCANNET20_CLASSES.index('other furniture')
NO_NOISE = dict(scene_confusion_prob=0.0, view_confusion_prob=0.0, bleed_prob=0.0, token_confusion_prob=0.0,
                token_noise_prob=0.0, upsample='nearest', look_confusion_prob=0.0)


def room():
    """(240, 320) true labels and instances: wall above floor, a chair (instance 1) and a table (instance 2),
    an unlabelled strip at the top. Object boxes are not aligned to the 16 px tokens."""
    labels = np.full((240, 320), WALL, np.uint8)
    labels[120:] = FLOOR
    labels[:10] = IMAGE_IGNORE
    instances = np.zeros((240, 320), np.int64)
    labels[53:150, 37:123], instances[53:150, 37:123] = CHAIR, 1
    labels[70:200, 190:301], instances[70:200, 190:301] = TABLE, 2
    return labels, instances


def room_color():
    """(240, 320, 3) uint8 colour frame of ``room()``: grey wall, brown floor, red chair, blue table."""
    labels, instances = room()
    color = np.zeros(labels.shape + (3,), np.uint8)
    color[:] = (150, 150, 150)
    color[120:] = (120, 80, 40)
    color[instances == 1] = (200, 30, 30)
    color[instances == 2] = (30, 30, 200)
    return color


def labeller(**params):
    """A labeller with every noise off except ``params``."""
    return SimulatedVLMLabeller(**{**NO_NOISE, **params})


def test_same_inputs_give_the_same_labels():
    labels, instances = room()
    first = SimulatedVLMLabeller().label('scene0000_00', '10', labels, instances, room_color())
    again = SimulatedVLMLabeller().label('scene0000_00', '10', labels.copy(), instances.copy(), room_color())
    assert first.dtype == np.uint8 and first.shape == labels.shape
    assert np.array_equal(first, again)


@pytest.mark.parametrize('other', [dict(frame_id='11'), dict(scene_id='scene0001_00'), dict(seed=1)])
def test_another_frame_scene_or_seed_gives_other_noise(other):
    labels, instances = room()
    call = dict(scene_id='scene0000_00', frame_id='10', seed=0)
    call.update(other)
    base = SimulatedVLMLabeller().label('scene0000_00', '10', labels, instances, room_color())
    changed = SimulatedVLMLabeller(seed=call['seed']).label(call['scene_id'], call['frame_id'], labels, instances,
                                                            room_color())
    assert not np.array_equal(base, changed)


def test_without_noise_token_aligned_labels_pass_unchanged():
    labels = np.repeat(np.repeat(np.arange(20, dtype=np.uint8).reshape(4, 5), 16, 0), 16, 1)
    out = labeller().label('s', '0', labels, np.zeros(labels.shape, np.int64))
    assert np.array_equal(out, labels)


def test_nearest_output_is_constant_within_each_token_and_follows_the_majority():
    labels, instances = room()
    out = labeller().label('s', '0', labels, instances)
    tokens = out.reshape(15, 16, 20, 16)
    assert (tokens == tokens[:, :1, :, :1]).all()
    # token (3, 2) covers rows 48..63, cols 32..47: 11 x 11 chair pixels of 256 -> wall wins
    assert tokens[3, 0, 2, 0] == WALL
    # token (4, 3) covers rows 64..79, cols 48..63: all chair
    assert tokens[4, 0, 3, 0] == CHAIR
    assert not np.array_equal(out, labels)


def test_tokens_without_labelled_pixels_stay_unlabelled():
    labels = np.full((32, 32), IMAGE_IGNORE, np.uint8)
    labels[16:, 16:20] = CHAIR
    assert np.array_equal(vote_tokens(labels, 16), [[IMAGE_IGNORE, IMAGE_IGNORE], [IMAGE_IGNORE, CHAIR]])


def test_bilinear_upsampling_rounds_the_corners_of_a_single_token():
    labels = np.full((48, 48), FLOOR, np.uint8)
    labels[16:32, 16:32] = CHAIR
    out = labeller(upsample='bilinear').label('s', '0', labels, np.zeros(labels.shape, np.int64))
    chair = out == CHAIR
    assert chair[24, 24] and not chair[16, 16] and not chair[31, 31]
    assert 0 < chair.sum() < 256 and chair[labels != CHAIR].sum() == 0


def test_bleeding_with_probability_one_swaps_the_boundary_columns_only():
    tokens = np.repeat(np.array([[WALL] * 3 + [FLOOR] * 3], np.uint8), 4, 0)
    bled = bleed_tokens(tokens, 1.0, np.random.default_rng(0))
    expected = np.repeat(np.array([[WALL, WALL, FLOOR, WALL, FLOOR, FLOOR]], np.uint8), 4, 0)
    assert np.array_equal(bled, expected)
    assert np.array_equal(bleed_tokens(tokens, 0.0, np.random.default_rng(0)), tokens)


def test_bleeding_rate_follows_the_probability():
    tokens = np.repeat(np.array([[WALL] * 3 + [FLOOR] * 3], np.uint8), 2000, 0)
    bled = bleed_tokens(tokens, 0.3, np.random.default_rng(0))
    changed = (bled != tokens).mean(0)
    assert changed[[0, 1, 4, 5]].max() == 0
    assert changed[[2, 3]] == pytest.approx([0.3, 0.3], abs=0.04)


def test_bleeding_never_takes_or_gives_the_unlabelled_id():
    tokens = np.array([[WALL, IMAGE_IGNORE, FLOOR]], np.uint8)
    assert np.array_equal(bleed_tokens(tokens, 1.0, np.random.default_rng(0)), tokens)


def test_partners_are_matched_by_normalised_name():
    table = confusion_partner_table(['Chair', 'SOFA', 'floor', 'other_furniture', 'cabinet'],
                                    DEFAULT_CONFUSION_GROUPS)
    partners = [set(row[row >= 0].tolist()) for row in table]
    assert partners == [{1, 3}, {0, 3}, set(), {0, 1, 4}, {3}]


def test_default_partners_keep_furniture_classes_apart():
    table = confusion_partner_table(SCANNET20_CLASSES, DEFAULT_CONFUSION_GROUPS)
    names = {SCANNET20_CLASSES[i] for i in table[CHAIR] if i >= 0}
    assert names == {'sofa', 'other furniture'}


def test_token_confusion_turns_a_chair_into_a_sofa_never_into_floor():
    labels, instances = room()
    chair_to_sofa = labeller(token_confusion_prob=1.0, confusion_groups=[['chair', 'sofa']])
    out = chair_to_sofa.label('s', '0', labels, instances)
    clean = labeller().label('s', '0', labels, instances)
    assert np.array_equal(out == SOFA, clean == CHAIR)
    assert np.array_equal(out == FLOOR, clean == FLOOR)  # floor has no partner


def test_default_token_confusion_picks_one_partner_per_class_and_view():
    labels, instances = room()
    clean = labeller().label('s', '0', labels, instances)
    chair_labels = set()
    for frame in range(20):
        out = labeller(token_confusion_prob=1.0).label('s', str(frame), labels, instances)
        assert len(np.unique(out[clean == CHAIR])) == 1
        chair_labels.add(out[clean == CHAIR][0])
        assert (out[clean == FLOOR] == FLOOR).all()
    assert chair_labels == {SOFA, OTHER_FURNITURE}


@pytest.mark.parametrize('blob_sigma', [0.0, 1.5])
def test_noise_blobs_cover_the_asked_fraction(blob_sigma):
    hit = noise_blobs((300, 400), 0.15, blob_sigma, np.random.default_rng(0))
    assert hit.mean() == pytest.approx(0.15, abs=0.02)


def test_noise_blobs_are_clumped():
    def right_neighbour_also_hit(blob_sigma):
        hit = noise_blobs((300, 400), 0.15, blob_sigma, np.random.default_rng(0))
        return (hit[:, 1:] & hit[:, :-1]).sum() / hit[:, :-1].sum()
    assert right_neighbour_also_hit(0.0) == pytest.approx(0.15, abs=0.03)
    assert right_neighbour_also_hit(1.5) > 0.6


def test_view_confusion_relabels_whole_objects_differently_per_view():
    labels, instances = room()
    chair = instances == 1
    table = confusion_partner_table(SCANNET20_CLASSES, DEFAULT_CONFUSION_GROUPS)
    chair_labels = []
    for frame in range(100):
        out = confuse_instances(labels, instances, table, 0.4, np.random.default_rng(frame))
        assert len(np.unique(out[chair])) == 1  # the whole visible object changes at once
        assert np.array_equal(out[instances == 0], labels[instances == 0])  # background (instance 0) never
        chair_labels.append(out[chair][0])
    chair_labels = np.array(chair_labels)
    assert set(chair_labels) == {CHAIR, SOFA, OTHER_FURNITURE}
    assert (chair_labels != CHAIR).mean() == pytest.approx(0.4, abs=0.1)


def test_view_confusion_through_the_labeller_differs_between_frames():
    labels, instances = room()
    noisy = labeller(view_confusion_prob=0.5)
    centre_labels = {noisy.label('scene0000_00', str(frame), labels, instances)[100, 80] for frame in range(30)}
    assert CHAIR in centre_labels and len(centre_labels) >= 2


def test_scene_confusion_is_the_same_in_every_frame_of_a_scene():
    labels, instances = room()
    noisy = labeller(scene_confusion_prob=0.5)
    clean = labeller().label('s', '0', labels, instances)
    scene_chair_labels = []
    for scene in range(20):
        frames = [noisy.label(f'scene{scene:04d}_00', str(frame), labels, instances) for frame in range(3)]
        assert all(np.array_equal(frame, frames[0]) for frame in frames)
        scene_chair_labels.append(frames[0][clean == CHAIR][0])
        assert len(np.unique(frames[0][clean == CHAIR])) == 1
    assert set(scene_chair_labels) == {CHAIR, SOFA, OTHER_FURNITURE}


def test_token_noise_rate_follows_the_probability():
    labels = np.zeros((480, 640), np.uint8)
    out = labeller(token_noise_prob=0.4).label('s', '0', labels, np.zeros(labels.shape, np.int64))
    tokens = out[::16, ::16]
    assert (tokens != 0).mean() == pytest.approx(0.4 * 19 / 20, abs=0.05)
    assert len(np.unique(tokens)) > 10


def test_token_noise_never_labels_tokens_without_labelled_pixels():
    labels = np.full((64, 64), IMAGE_IGNORE, np.uint8)
    labels[:32] = FLOOR  # the upper 2 x 4 tokens are labelled, the lower ones not
    out = labeller(token_noise_prob=0.9).label('s', '0', labels, np.zeros(labels.shape, np.int64))
    assert (out[32:] == IMAGE_IGNORE).all()
    assert (out[:32] != FLOOR).any()  # the noise did hit the labelled tokens


def test_config_is_json_and_rebuilds_the_same_labeller():
    config = SimulatedVLMLabeller(bleed_prob=0.2, seed=3).config
    assert config['type'] == 'SimulatedVLMLabeller' and config['bleed_prob'] == 0.2
    params = json.loads(json.dumps(config))
    params.pop('type')
    labels, instances = room()
    assert np.array_equal(SimulatedVLMLabeller(**params).label('s', '0', labels, instances, room_color()),
                          SimulatedVLMLabeller(bleed_prob=0.2, seed=3).label('s', '0', labels, instances, room_color()))


def test_unknown_upsampling_is_refused():
    with pytest.raises(ValueError, match='upsample must be one of'):
        SimulatedVLMLabeller(upsample='bicubic')


def test_registered_and_buildable_from_a_config():
    from hicl.registry import PSEUDO_LABELLERS
    built = PSEUDO_LABELLERS.build(dict(type='SimulatedVLMLabeller', token_size=8))
    assert isinstance(built, SimulatedVLMLabeller) and built.params['token_size'] == 8


def test_default_strength_matches_maskclip_on_generated_rooms():
    """MaskCLIP's 2D mIoU on ScanNet is roughly 30-45%: the defaults land there on SynthRooms frames."""
    from hicl import synthrooms
    from hicl.label_sets import SCANNET20_NYU40_IDS, map_raw_labels
    from hicl.metrics import confusion_matrix, mean_iou
    room_types = ('bedroom', 'kitchen', 'bathroom', 'living room', 'office') * 2
    labeller = SimulatedVLMLabeller()
    confusion = 0
    for index, room_type in enumerate(room_types):
        scene = synthrooms.generate_scene(f'scene{index:04d}_00', (0, index), room_type=room_type,
                                          frames_per_scene=4, color_size=(320, 240), depth_size=(8, 6),
                                          vertex_spacing=0.5)
        for frame_index, frame in enumerate(scene.frames):
            truth = map_raw_labels(frame.label, SCANNET20_NYU40_IDS, IMAGE_IGNORE).astype(np.uint8)
            noisy = labeller.label(scene.name, str(frame_index), truth, frame.instance.astype(np.int64), frame.color)
            confusion = confusion + confusion_matrix(truth, noisy, len(SCANNET20_CLASSES), IMAGE_IGNORE)
    assert 0.30 <= mean_iou(confusion) <= 0.45


def test_flip_classes_relabels_whole_object_regions_by_class_probability():
    from hicl.pseudo_labels.simulated import class_flip_table, flip_classes
    names = ('road', 'trailer', 'truck', 'other flat')
    targets, probs = class_flip_table(names, [('trailer', 'truck', 1.0), ('other_flat', 'road', 0.0)])
    assert targets.tolist() == [0, 2, 2, 0] and probs.tolist() == [0.0, 1.0, 0.0, 0.0]
    labels = np.array([[1, 1, 3, 255], [1, 0, 3, 3]], dtype=np.uint8)
    instances = np.array([[5, 5, 0, 0], [5, 0, 0, 0]])
    flipped = flip_classes(labels, instances, targets, probs, np.random.default_rng(0))
    assert flipped.tolist() == [[2, 2, 3, 255], [2, 0, 3, 3]]
    # per (object, class) unit: 400 trailers at probability 0.8 -> about 320 read as trucks, each one whole
    targets, probs = class_flip_table(names, [('trailer', 'truck', 0.8)])
    labels = np.ones((20, 40), dtype=np.uint8)
    instances = np.repeat(np.arange(1, 401).reshape(20, 20), 2, axis=1)
    flipped = flip_classes(labels, instances, targets, probs, np.random.default_rng(1))
    per_object = flipped.reshape(20, 20, 2)
    assert (per_object[..., 0] == per_object[..., 1]).all()
    assert 0.74 < (flipped == 2).mean() < 0.86


def test_class_flip_names_must_exist():
    from hicl.pseudo_labels.simulated import class_flip_table
    with pytest.raises(ValueError, match=r"names \['lorry'\]"):
        class_flip_table(('car', 'truck'), [('car', 'lorry', 0.5)])


def test_nuscenes16_preset_mislabels_most_trailers_and_keeps_indoor_manifests():
    from hicl.label_sets import NUSCENES16_CLASSES
    outdoor = SimulatedVLMLabeller(label_set='nuscenes16', **{**NO_NOISE})
    assert outdoor.class_names == NUSCENES16_CLASSES and outdoor.config['class_flips'][0] == ['trailer', 'truck', 0.8]
    assert 'class_flips' not in SimulatedVLMLabeller().config
    trailer, truck = NUSCENES16_CLASSES.index('trailer'), NUSCENES16_CLASSES.index('truck')
    labels = np.full((32, 32), trailer, dtype=np.uint8)
    instances = np.ones((32, 32), dtype=np.int64)
    wrong = np.mean([(outdoor.label('sweep', str(view), labels, instances) == truck).all() for view in range(200)])
    assert 0.72 < wrong < 0.88


def test_look_bins_by_hand():
    from hicl.pseudo_labels.simulated import LOOK_HUE_BINS, LOOK_VALUE_BINS, object_looks
    color = np.zeros((2, 3, 3), np.uint8)
    color[:, 0] = (250, 10, 10)  # object 1: bright red -> hue bin 0, value bin 2
    color[:, 1] = (20, 20, 120)  # object 2: dark blue -> hue 240 deg = bin 4, value 120/255 -> bin 1
    color[:, 2] = (90, 90, 90)  # object 3: grey (no saturation) -> grey bin, value bin 1
    instances = np.array([[1, 2, 3], [1, 2, 3]])
    ids, looks = object_looks(color, instances)
    assert ids.tolist() == [1, 2, 3]
    assert looks.tolist() == [0 * LOOK_VALUE_BINS + 2, 4 * LOOK_VALUE_BINS + 1, LOOK_HUE_BINS * LOOK_VALUE_BINS + 1]


def test_look_noise_is_shared_by_similar_looking_objects_across_scenes_and_differs_between_looks():
    """The same red chair is called the same wrong class, as often, in any scene; a blue chair has its own."""
    labels, instances = room()
    red_chair = room_color()
    outputs = {}
    noisy = labeller(look_confusion_prob=0.5, seed=1, token_size=1)  # pixel tokens: only look noise
    for scene in range(40):
        out = noisy.label(f'scene{scene:04d}_00', '0', labels, instances, red_chair)
        outputs[scene] = out[instances == 1]
    chair_labels = np.concatenate(list(outputs.values()))
    wrong = set(np.unique(chair_labels)) - {CHAIR}
    assert len(wrong) == 1  # one fixed confusable class for this look
    changed = np.mean([not np.all(out == CHAIR) for out in outputs.values()])
    from hicl.pseudo_labels.simulated import look_confusion, object_looks
    _, looks = object_looks(red_chair, instances)
    chance, target = look_confusion(1, CHAIR, looks[0], noisy.partner_table, 0.5)
    assert wrong == {target} and abs(changed - chance) < 0.25  # relabelled in about its look's share of scenes
    blue_chair = red_chair.copy()
    blue_chair[instances == 1] = (30, 30, 200)
    assert object_looks(blue_chair, instances)[1][0] != looks[0]  # another look, drawn separately
    assert look_confusion(1, CHAIR, looks[0], noisy.partner_table, 0.5) == (chance, target)  # fixed per look


def test_look_noise_needs_the_colour_frame():
    labels, instances = room()
    with pytest.raises(ValueError, match='needs the colour frame'):
        SimulatedVLMLabeller().label('s', '0', labels, instances)
    assert SimulatedVLMLabeller().required_inputs == ('true_labels', 'instances', 'color')
    assert SimulatedVLMLabeller(label_set='nuscenes16').required_inputs == ('true_labels', 'instances')
