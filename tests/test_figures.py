"""The paper's figures (hicl.vis.figures, tools/plot_predictions.py: Fig. 4, tools/plot_features.py: Fig. 7): per-scene
mIoU, the per-class draw, t-SNE, the panels and their titles, the CLIs on a tiny SynthRooms scene."""
import runpy

import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope
from PIL import Image

from hicl.experiments.figure_inputs import align_scenes, figure_argument_parser, parse_figure_args
from hicl.inference import ScenePrediction
from hicl.label_sets import SCANNET20_CLASSES, SCANNET20_PALETTE
from hicl.vis.colours import UNLABELLED_GREY
from hicl.vis.figures import (PointSample, check_model_count, check_same_draw, draw_per_class, feature_compactness_of,
                              feature_figure, marker_area, prediction_figure, save_figure, scene_miou, scene_mious,
                              tsne_embedding)
from tests.conftest import REPO
from tests.evaluation.test_correlation_probe import compactness_by_hand
from tests.test_training import CONFIG, as_cli_options, tiny_config, tiny_overrides


def fake_scene(scene_id, truth, prediction, num_classes=len(SCANNET20_CLASSES), seed=0):
    """A ScenePrediction of len(truth) random points with random features (D = 8) whose argmax logits are
    ``prediction``."""
    rng = np.random.default_rng(seed)
    truth, prediction = np.asarray(truth, np.int64), np.asarray(prediction, np.int64)
    features = rng.normal(size=(len(truth), 8)).astype(np.float32)
    return ScenePrediction(scene_id=scene_id, xyz=rng.uniform(0, 4, size=(len(truth), 3)).astype(np.float32),
                           rgb=np.zeros((len(truth), 3), np.uint8), truth=truth, features=features,
                           logits=np.eye(num_classes, dtype=np.float32)[prediction])


def test_the_scene_miou_is_that_of_the_confusion_counted_by_hand_without_the_unlabelled_points():
    truth = np.array([0, 0, 1, 1, -1])
    prediction = np.array([0, 1, 1, 1, 0])
    # class 0: tp 1, fn 1 -> 1/2; class 1: tp 2, fp 1 -> 2/3; class 2 neither true nor predicted: not averaged.
    # Had the unlabelled point counted, class 0 would have a false positive (1/3).
    assert scene_miou(truth, prediction, num_classes=3) == pytest.approx((1 / 2 + 2 / 3) / 2)
    rows = [(fake_scene('a', truth, prediction), fake_scene('a', truth, np.maximum(truth, 0)))]
    np.testing.assert_allclose(scene_mious(rows, 3), [[(1 / 2 + 2 / 3) / 2, 1.0]])


def test_fig4_has_a_truth_column_and_one_column_per_model_titled_with_its_scene_miou(tmp_path):
    truth = np.array([0, 0, 1, 1, -1, 3])
    rows = [(fake_scene('scene_a', truth, [0, 1, 1, 1, 0, 3]), fake_scene('scene_a', truth, np.maximum(truth, 0))),
            (fake_scene('scene_b', [3, 3, 3], [3, 3, 0], seed=1), fake_scene('scene_b', [3, 3, 3], [3, 3, 3], seed=1))]
    names = ['EXP I baseline', 'EXP V HICL']
    mious = scene_mious(rows, len(SCANNET20_CLASSES))
    figure = prediction_figure(rows, names, mious, SCANNET20_CLASSES, SCANNET20_PALETTE)
    axes = np.reshape(figure.axes, (2, 3))
    assert [[axis.get_title() for axis in row] for row in axes] == [
        ['scene_a\nground truth', 'EXP I baseline\nmIoU 72.2', 'EXP V HICL\nmIoU 100.0'],  # (1/2 + 2/3 + 1) / 3
        ['scene_b\nground truth', 'EXP I baseline\nmIoU 33.3', 'EXP V HICL\nmIoU 100.0']]  # (2/3 + 0) / 2
    # truth panel: points drawn low to high (the last drawn is the highest), the unlabelled one grey
    scene = rows[0][0]
    drawn = axes[0, 0].collections[0]
    np.testing.assert_allclose(drawn.get_offsets()[-1], scene.xyz[scene.xyz[:, 2].argmax(), :2])
    grey_rows = np.all(np.isclose(drawn.get_facecolors()[:, :3], UNLABELLED_GREY), axis=1)
    assert grey_rows.sum() == 1
    np.testing.assert_allclose(drawn.get_offsets()[grey_rows][0], scene.xyz[4, :2])
    # every panel of a scene draws its points equally wide, in metres: wider markers for a smaller room
    sizes = [[float(axis.collections[0].get_sizes()[0]) for axis in row] for row in axes]
    assert sizes[0] == [marker_area(scene.xyz, 3.6)] * 3 and sizes[1] == [marker_area(rows[1][0].xyz, 3.6)] * 3
    # the legend names the classes present in a truth or a prediction, and the unlabelled grey
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ['wall', 'floor', 'bed', 'unlabelled']
    save_figure(figure, tmp_path / 'fig4' / 'fig.png')
    # 3 columns of 3.6 in at 100 dpi; 2 rows of 3.6 in + 1 legend row and a margin of 0.25 in
    assert Image.open(tmp_path / 'fig4' / 'fig.png').size == (1080, 770)


def scenes_of(truths, seed=0):
    return [fake_scene(f'scene{index}', truth, np.zeros(len(truth), np.int64), seed=seed + index)
            for index, truth in enumerate(truths)]


def test_the_markers_are_as_wide_as_the_point_diameter_in_metres_on_the_panel():
    room = np.array([[0, 0, 0], [4, 1, 2.5]])  # 4 m wide: 0.04 m of 3.6 in x 72 pt/in = 2.592 pt
    assert marker_area(room, panel_inches=3.6, diameter=0.04) == pytest.approx(2.592**2)
    assert marker_area(room / 2, panel_inches=3.6, diameter=0.04) == pytest.approx(4 * 2.592**2)


def test_the_draw_caps_each_class_over_all_scenes_and_leaves_out_unlabelled_points():
    rng = np.random.default_rng(0)
    truths = [rng.choice([-1, 0, 1, 2], size=300, p=[0.3, 0.5, 0.17, 0.03]), rng.choice([-1, 0, 1], size=200)]
    scenes = scenes_of(truths)
    cap = 40
    sample = draw_per_class(iter(scenes), cap=cap, seed=3)
    labelled = np.concatenate([truth[truth >= 0] for truth in truths])
    expected = {label: min(cap, int((labelled == label).sum())) for label in np.unique(labelled)}
    assert expected[2] < cap  # a class with fewer points than the cap keeps all of them
    assert dict(zip(*np.unique(sample.truth, return_counts=True))) == expected
    for scene_index, point_index, truth, features in zip(sample.scene_index, sample.point_index, sample.truth,
                                                         sample.features):
        assert truth >= 0 and scenes[scene_index].truth[point_index] == truth
        np.testing.assert_array_equal(scenes[scene_index].features[point_index], features)
    assert len(set(zip(sample.scene_index, sample.point_index))) == len(sample.truth)  # without replacement
    assert set(sample.scene_index[sample.truth == 0]) == {0, 1}  # the capped class is drawn from both scenes
    again = draw_per_class(scenes, cap=cap, seed=3)
    np.testing.assert_array_equal(again.point_index, sample.point_index)
    assert not np.array_equal(draw_per_class(scenes, cap=cap, seed=4).point_index, sample.point_index)


def test_models_that_saw_other_points_are_refused():
    truth = np.array([0, 1, 1])
    with pytest.raises(ValueError, match='different points or truth for a / a'):
        align_scenes([[fake_scene('a', truth, truth)], [fake_scene('a', truth, truth, seed=1)]])
    with pytest.raises(ValueError, match='different points or truth for a / b'):
        align_scenes([[fake_scene('a', truth, truth)], [fake_scene('b', truth, truth)]])
    assert len(align_scenes([[fake_scene('a', truth, truth)], [fake_scene('a', truth, [0, 0, 0])]])) == 1
    with pytest.raises(ValueError, match='drew different points'):
        check_same_draw([draw_per_class(scenes_of([truth])), draw_per_class(scenes_of([[0, -1, 1]]))])
    check_same_draw([draw_per_class(scenes_of([truth])), draw_per_class(scenes_of([truth], seed=5))])


def test_a_draw_without_labelled_points_is_refused():
    with pytest.raises(ValueError, match='no labelled point'):
        draw_per_class(scenes_of([np.full(10, -1)]))


def test_the_compactness_is_within_over_between_class_variance_of_the_drawn_features():
    sample = PointSample(features=np.array([[0], [2], [10], [12]], np.float32), truth=np.array([0, 0, 1, 1]),
                         scene_index=np.zeros(4, np.int64), point_index=np.arange(4))
    # classes at {0, 2} and {10, 12}: within 4 x 1, between 4 x 5^2
    assert feature_compactness_of(sample) == pytest.approx(4 / 100)


def test_tsne_embeds_each_point_in_two_dimensions_reproducibly():
    features = np.random.default_rng(0).normal(size=(60, 512)).astype(np.float32)
    embedding = tsne_embedding(features, seed=1)
    assert embedding.shape == (60, 2) and np.isfinite(embedding).all()
    np.testing.assert_array_equal(tsne_embedding(features, seed=1), embedding)


def test_fig7_has_one_panel_per_model_titled_with_its_compactness(tmp_path):
    truth = np.array([0, 1, 1, 5])
    embeddings = [np.zeros((4, 2)), np.ones((4, 2))]
    figure = feature_figure(['EXP I baseline', 'EXP V HICL'], embeddings, truth, [0.4567, 0.1234], SCANNET20_CLASSES,
                            SCANNET20_PALETTE)
    titles = [axis.get_title() for axis in figure.axes]
    assert titles == ['EXP I baseline\ncompactness 0.457', 'EXP V HICL\ncompactness 0.123']
    assert [len(axis.collections[0].get_offsets()) for axis in figure.axes] == [4, 4]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ['wall', 'floor', 'sofa']
    save_figure(figure, tmp_path / 'fig7.png')
    assert Image.open(tmp_path / 'fig7.png').size == (1180, 500)  # 2 panels of 5 in + a legend column of 1.8 in


@pytest.mark.parametrize('count', [0, 3])
def test_zero_or_three_models_are_refused(count, capsys):
    names = [f'model {index}' for index in range(count)]
    with pytest.raises(ValueError, match=f'{count} models given'):
        check_model_count(names)
    with pytest.raises(ValueError, match=f'{count} models given'):
        feature_figure(names, [], np.zeros(0, np.int64), [], SCANNET20_CLASSES, SCANNET20_PALETTE)
    argv = [arg for name in names for arg in ('--model', name, 'config.py', 'model.pth')] + ['--out', 'fig.png']
    with pytest.raises(SystemExit):
        parse_figure_args(figure_argument_parser('test'), argv)
    assert f'{count} models given' in capsys.readouterr().err


@pytest.fixture(scope='module')
def random_nets(synthrooms_tiny, tmp_path_factory):
    """Two randomly initialised 3D nets of the baseline config on the tiny set, saved as checkpoints (meta with
    the label set, state_dict with its version metadata). Returns their paths."""
    cfg = tiny_config(synthrooms_tiny, tmp_path_factory.mktemp('work'), max_epochs=1)
    init_default_scope('mmdet3d')
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        path = tmp_path_factory.mktemp('nets') / f'random_{seed}.pth'
        torch.save(dict(meta=dict(dataset_meta=dict(classes=SCANNET20_CLASSES)),
                        state_dict=MODELS.build(cfg.model).state_dict()), path)
        paths.append(str(path))
    return paths


def run_tool(name, argv):
    return runpy.run_path(str(REPO / 'tools' / name))['main'](argv)


def tiny_argv(synthrooms_tiny, random_nets, out):
    return ['--model', 'random 0', CONFIG, random_nets[0], '--model', 'random 1', CONFIG, random_nets[1],
            '--out', str(out), '--cfg-options', *as_cli_options(tiny_overrides(synthrooms_tiny, 1))]


def test_plot_predictions_on_a_tiny_scene(synthrooms_tiny, random_nets, tmp_path, capsys):
    from hicl.experiments.figure_inputs import model_predictions
    run_tool('plot_predictions.py', tiny_argv(synthrooms_tiny, random_nets, tmp_path / 'fig4.png'))
    out = capsys.readouterr().out
    assert f'wrote {tmp_path / "fig4.png"}: 1 scenes x (ground truth + 2 models)' in out
    assert Image.open(tmp_path / 'fig4.png').size[0] == 1080  # truth + 2 models, 3.6 in each at 100 dpi
    models = [('random 0', CONFIG, random_nets[0]), ('random 1', CONFIG, random_nets[1])]
    printed = []
    for _, _, predictions in model_predictions(models, cfg_options=tiny_overrides(synthrooms_tiny, 1)):
        scene = next(predictions)
        assert (scene.truth >= 0).any()
        printed.append(f'{100 * scene_miou(scene.truth, scene.prediction, len(SCANNET20_CLASSES)):.1f}')
    assert f'{scene.scene_id}  ' in out and out.split(scene.scene_id)[1].split()[:2] == printed


def test_plot_features_on_a_tiny_scene(synthrooms_tiny, random_nets, tmp_path, capsys, monkeypatch, one_thread):
    """With a cap above every class's count all labelled points are drawn: the printed compactness of each net is
    that of all its labelled features, computed here in numpy (t-SNE, tested above, is replaced by a cheap
    projection to keep the test fast)."""
    import hicl.vis.figures
    from hicl.experiments.figure_inputs import model_predictions
    monkeypatch.setattr(hicl.vis.figures, 'tsne_embedding', lambda features, seed=0: np.asarray(features)[:, :2])
    argv = tiny_argv(synthrooms_tiny, random_nets, tmp_path / 'fig7.png') + ['--points-per-class', '1000000']
    run_tool('plot_features.py', argv)
    out = capsys.readouterr().out
    assert Image.open(tmp_path / 'fig7.png').size == (1180, 500)
    printed = {line.split(': compactness ')[0]: float(line.split('compactness ')[1])
               for line in out.splitlines() if 'compactness' in line}
    models = [('random 0', CONFIG, random_nets[0]), ('random 1', CONFIG, random_nets[1])]
    for name, _, predictions in model_predictions(models, cfg_options=tiny_overrides(synthrooms_tiny, 1)):
        scenes = list(predictions)
        features = np.concatenate([scene.features[scene.truth >= 0] for scene in scenes])
        truth = np.concatenate([scene.truth[scene.truth >= 0] for scene in scenes])
        assert printed[name] == pytest.approx(compactness_by_hand(features, truth), abs=1e-3)
    assert f't-SNE of {len(truth)} points ({len(np.unique(truth))} classes' in out
    assert printed['random 0'] != printed['random 1']


def test_an_unknown_scene_is_named(synthrooms_tiny, random_nets, tmp_path):
    argv = tiny_argv(synthrooms_tiny, random_nets, tmp_path / 'fig4.png') + ['--scenes', 'scene9999_00']
    with pytest.raises(KeyError, match=r"\['scene9999_00'\] not in this split"):
        run_tool('plot_predictions.py', argv)
    assert not (tmp_path / 'fig4.png').exists()
