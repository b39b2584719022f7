"""A model on a scan of your own: hicl.inference.predict_scan gives tools/test.py's predictions for a dataset scene
written to a file; the same scan in another format or y-up (with --up y) gives the same predictions;
tools/infer.py writes the labels, scores, PLY and viewer page and prints the class table; bad input is refused."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope
from plyfile import PlyData

from hicl.inference import build_split_dataset, load_inference_model, predict_scan, predict_scenes
from hicl.label_sets import SCANNET20_CLASSES
from hicl.open_vocabulary import text_anchors
from hicl.scans import normalise_scan, read_scan
from hicl.scans.conventions import UP_ROTATIONS
from hicl.scans.outputs import softmax_confidence
from hicl.text_queries import query_scorer, score_texts
from tests.conftest import REPO
from tests.scans.test_readers import WRITERS
from tests.test_open_vocabulary import tiny_trained  # noqa: F401 (a fixture)
from tests.test_training import CONFIG, as_cli_options, tiny_config, tiny_overrides


@pytest.fixture(scope='module')
def tiny_net(tiny_trained, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    """(config, checkpoint) of the baseline 3D net trained for 12 iterations on the tiny set (its classes spread
    over several classes: a random net calls every point of a scene one class, which no comparison of classes
    could tell from another)."""
    root, checkpoint = tiny_trained
    return tiny_config(root, tmp_path_factory.mktemp('work'), max_epochs=1), checkpoint


@pytest.fixture(scope='module')
def test_scene(tiny_net):
    """(the tiny test scene's (N, 6) x y z r g b points, its prediction through the dataset as tools/test.py)."""
    cfg, checkpoint = tiny_net
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the tests' one_thread: spconv's threads sum in a varying order
    dataset = build_split_dataset(cfg, 'test')
    reference = next(predict_scenes(load_inference_model(cfg, checkpoint), dataset))
    torch.set_num_threads(threads)
    points = np.fromfile(dataset.get_data_info(0)['lidar_points']['lidar_path'], np.float32).reshape(-1, 6)
    return points, reference


def scan_file(points, path, up='z'):
    """Write the points to ``path`` (.npy, or .txt) with their up axis turned to ``up``."""
    xyz = points[:, :3].astype(np.float64) @ UP_ROTATIONS[up]  # the inverse rotation of the reader's
    array = np.c_[xyz, points[:, 3:6]]
    if str(path).endswith('.npy'):
        np.save(path, array)
    else:
        np.savetxt(path, array, fmt='%.7f')
    return path


def test_a_scene_written_to_a_file_is_predicted_as_tools_test_py_predicts_it(tiny_net, test_scene, tmp_path,
                                                                             one_thread):
    cfg, checkpoint = tiny_net
    points, reference = test_scene
    model = load_inference_model(cfg, checkpoint)
    scan, report = normalise_scan(read_scan(scan_file(points, tmp_path / 'scene.npy')))
    assert report['points'] == len(points)  # no NaN, no duplicates in a converted scene
    anchors_file = str(Path(cfg.train_dataloader.dataset.data_root) / 'text_anchors.npz')
    prediction, queries = predict_scan(model, cfg, scan, keep_features=True,
                                       score=query_scorer(['chair', 'wall'], anchors_file))
    np.testing.assert_array_equal(prediction.prediction, reference.prediction)
    expected = score_texts(reference.features, ['chair', 'wall'], text_anchors(['chair', 'wall'], anchors_file))
    for query, wanted in zip(queries, expected):  # the same scores as tools/query.py's, whole-scan colour range
        np.testing.assert_allclose(query.scores, wanted.scores, atol=1e-5)
        assert query.colour_range == pytest.approx(wanted.colour_range, abs=1e-5)
    np.testing.assert_allclose(prediction.features, reference.features, atol=1e-5)


def test_the_same_points_in_every_format_give_identical_predictions(tiny_net, test_scene, tmp_path, one_thread):
    """The test scene written by each writer of tests/scans/test_readers.py (ASCII formats with 9 significant
    digits: float32 exactly; LAS at its 1e-6 m scale) and read back: the same class for every point."""
    cfg, checkpoint = tiny_net
    points, reference = test_scene
    model = load_inference_model(cfg, checkpoint)
    for name, write in sorted(WRITERS.items()):
        write(tmp_path / name, points)
        scan, report = normalise_scan(read_scan(tmp_path / name, bin_columns=6 if name.endswith('.bin') else None))
        assert report['points'] == len(points), name
        prediction, _ = predict_scan(model, cfg, scan)
        np.testing.assert_array_equal(prediction.prediction, reference.prediction, err_msg=name)


@pytest.mark.parametrize('name, up', [('scene.txt', 'z'), ('scene_y_up.npy', 'y'), ('scene_minus_y_up.npy', '-y')])
def test_other_formats_and_up_axes_give_the_same_predictions(tiny_net, test_scene, tmp_path, one_thread, name, up):
    cfg, checkpoint = tiny_net
    points, reference = test_scene
    scan, _ = normalise_scan(read_scan(scan_file(points, tmp_path / name, up)), up=up)
    prediction, _ = predict_scan(load_inference_model(cfg, checkpoint), cfg, scan)
    np.testing.assert_allclose(scan.xyz, points[:, :3], atol=1e-5)
    assert np.mean(prediction.prediction == reference.prediction) >= 0.999  # text keeps 7 decimals: near-ties


def test_the_cli_writes_labels_scores_ply_and_page_and_prints_the_class_table(
        tiny_net, test_scene, tmp_path, capsys, one_thread):
    cfg, checkpoint = tiny_net
    points, reference = test_scene
    scan = scan_file(points, tmp_path / 'room.npy')
    duplicated = np.r_[points, points[:5], np.full((2, 6), np.nan, np.float32)]
    scan_file(duplicated, tmp_path / 'room_with_noise.txt')
    options = ['--cfg-options', *as_cli_options(tiny_overrides(Path(cfg.train_dataloader.dataset.data_root), 1))]
    runpy.run_path(str(REPO / 'tools' / 'infer.py'))['main'](
        [CONFIG, checkpoint, str(scan), str(tmp_path / 'room_with_noise.txt'), '--out', str(tmp_path / 'out'),
         *options])
    out = capsys.readouterr().out
    labels = np.load(tmp_path / 'out' / 'room.labels.npy')
    np.testing.assert_array_equal(labels, reference.prediction)
    np.testing.assert_allclose(np.load(tmp_path / 'out' / 'room.scores.npy'), softmax_confidence(reference.logits),
                               atol=1e-5)
    vertex = PlyData.read(str(tmp_path / 'out' / 'room.ply'))['vertex'].data
    np.testing.assert_array_equal(vertex['label'], labels)
    np.testing.assert_array_equal(vertex['input_red'], points[:, 3].astype(np.uint8))
    assert (tmp_path / 'out' / 'room.html').stat().st_size > 10_000
    assert json.loads((tmp_path / 'out' / 'room.classes.json').read_text())['classes'] == list(SCANNET20_CLASSES)
    n = len(points)
    assert f'room_with_noise.txt: {n} points ({n + 7} read, 2 NaN/Inf and 5 duplicates dropped)' in out
    counts = np.bincount(labels, minlength=len(SCANNET20_CLASSES))
    top = int(counts.argmax())
    assert f'{SCANNET20_CLASSES[top]:<20} {counts[top]:>10} {100 * counts[top] / n:>6.1f}%' in out


def test_a_vocabulary_segments_with_its_names_and_softmax_texts_compete_with_them(
        tiny_net, test_scene, tmp_path, one_thread):
    """hicl.inference.infer_scans (tools/infer.py's Python entry point) with a vocabulary of four names of the
    model's anchor file: the labels are the argmax of the model's logits over those four anchors, the classes file
    names them (the first name of a class in its palette colour), and a softmax text competes with the four."""
    import json

    from hicl.inference import infer_scans
    from hicl.label_sets import get_label_set
    from hicl.pseudo_labels.anchors import read_text_anchor_file
    cfg, checkpoint = tiny_net
    points, reference = test_scene
    anchors_file = str(Path(cfg.train_dataloader.dataset.data_root) / 'text_anchors.npz')
    names = {'door': 'door', 'curtain': 'curtain', 'floor': 'floor', 'shower curtain': 'curtain'}
    (tmp_path / 'four.json').write_text(json.dumps(dict(anchors_file=anchors_file, names=names)))
    [result] = infer_scans(cfg, checkpoint, [scan_file(points, tmp_path / 'room.npy')], str(tmp_path / 'out'),
                           texts=['table'], score='softmax', vocabulary=str(tmp_path / 'four.json'))
    anchors, classes, _ = read_text_anchor_file(anchors_file)
    columns = [list(classes).index(name) for name in names]
    expected = reference.logits[:, columns].argmax(1)
    assert len(set(expected)) > 1
    np.testing.assert_array_equal(np.load(tmp_path / 'out' / 'room.labels.npy'), expected)
    legend = json.loads((tmp_path / 'out' / 'room.classes.json').read_text())
    palette = get_label_set('scannet20')['palette']
    assert legend['classes'] == list(names) == list(result.classes)
    assert legend['palette'][:3] == [list(palette[list(classes).index(name)]) for name in ('door', 'curtain', 'floor')]
    logits = reference.features.astype(np.float64) @ anchors[[list(classes).index('table')] + columns].T
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(result.queries[0].scores, softmax[:, 0] / softmax.sum(1), atol=1e-5)
    assert result.queries[0].competitors == f'the 4 names of vocabulary {tmp_path / "four.json"}'


@pytest.mark.parametrize('make, options, message', [
    (lambda d: np.save(d / 'grey.npy', np.random.default_rng(0).uniform(size=(10, 3))), [],
     'grey.npy has no colours, but the model was trained with colour: pass --no-color'),
    (lambda d: np.save(d / 'sweep.npy', np.random.default_rng(0).uniform(size=(10, 4))), [],
     r'sweep.npy has no colours \(it has LiDAR intensity: an outdoor config, trained with intensity, reads it\)'),
    (lambda d: (d / 'empty.ply').write_bytes(b''), [], 'empty.ply is empty'),
])
def test_scans_the_model_cannot_take_are_refused_naming_the_fix(tiny_net, tmp_path, make, options, message):
    cfg, checkpoint = tiny_net
    make(tmp_path)
    path = next(p for p in tmp_path.iterdir() if p.is_file())
    with pytest.raises(ValueError, match=message):
        runpy.run_path(str(REPO / 'tools' / 'infer.py'))['main'](
            [CONFIG, checkpoint, str(path), '--out', str(tmp_path / 'out'), *options, '--cfg-options',
             *as_cli_options(tiny_overrides(Path(cfg.train_dataloader.dataset.data_root), 1))])


@pytest.mark.parametrize('argv, message', [
    (['a.ply', 'b/a.ply'], 'scans with the same name would write the same outputs'),
    (['a.ply', '--scale', '0'], '--scale and --intensity-scale must be > 0'),
    (['a.ply', '--intensity-scale', '-1'], '--scale and --intensity-scale must be > 0'),
])
def test_option_errors_are_usage_errors(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(REPO / 'tools' / 'infer.py'))['parse_args']([CONFIG, 'x.pth', *argv, '--out',
                                                                        str(tmp_path / 'out')])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_tiled_inference_agrees_with_one_pass_and_keeps_every_tile_under_the_budget(tiny_net, one_thread):
    """Four tiny rooms side by side, run in one pass and in overlapping tiles of at most a quarter of the points
    (the tiles' voxel grids aligned to the scan's by hicl.inference.grid_anchor)."""
    from hicl.scans.readers import Scan
    from hicl.scans.tiling import make_tiles, tile_size_for
    cfg, checkpoint = tiny_net
    root = Path(cfg.train_dataloader.dataset.data_root)
    rooms = []
    for index, path in enumerate(sorted((root / 'points').glob('*.bin'))[:4]):
        points = np.fromfile(path, np.float32).reshape(-1, 6)
        points[:, :2] += 10.0 * np.array([index % 2, index // 2])
        rooms.append(points)
    points = np.concatenate(rooms)
    scan = Scan(points[:, :3].astype(np.float64), points[:, 3:].astype(np.uint8), None, 'four_rooms')
    model = load_inference_model(cfg, checkpoint)
    budget, margin = len(points) // 4, 2.0
    tiles = make_tiles(scan.xyz, tile_size_for(scan.xyz, budget, margin), margin)
    assert len(tiles) > 1 and max(len(tile.points) for tile in tiles) <= 1.5 * budget
    assert np.array_equal(np.sort(np.concatenate([tile.points[tile.core] for tile in tiles])),
                          np.arange(len(points)))  # every point labelled by exactly one tile
    whole, _ = predict_scan(model, cfg, scan)
    tiled, _ = predict_scan(model, cfg, scan, max_points=budget, tile_margin=margin)
    agreement = np.mean(whole.prediction == tiled.prediction)
    print(f'{len(points)} points, {len(tiles)} tiles: agreement {agreement:.4f}')
    assert agreement >= 0.99


@pytest.fixture(scope='module')
def outdoor_net(tmp_path_factory):
    """(config, model): a randomly initialised SPVCNN of configs/baseline_synthstreet.py (16 random anchors)."""
    from mmengine.config import Config

    from hicl.label_sets import get_label_set
    from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors
    cfg = Config.fromfile(str(REPO / 'configs' / 'baseline_synthstreet.py'))
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    anchors = str(tmp_path_factory.mktemp('anchors') / 'anchors.npz')
    save_text_anchors(anchors, random_orthonormal_anchors(16, 512), list(get_label_set('nuscenes16')['classes']), {})
    model = MODELS.build(dict(cfg.model, decode_head=dict(cfg.model.decode_head, anchors_file=anchors))).eval()
    return cfg, model


def test_the_outdoor_model_runs_on_the_real_nuscenes_sweep_and_reads_its_intensity(
        outdoor_net, shared_data, one_thread):
    """The outdoor net on the real 34,688-point sweep, read from its .pcd.bin: every point gets a class, the
    intensity column reaches the net (normalised by 255), and a scan without intensity is refused naming what the
    model needs."""
    from hicl.inference import ScanInputError
    from hicl.scans.readers import Scan
    cfg, model = outdoor_net
    sweep = next((shared_data / 'nuscenes_demo').glob('*.pcd.bin'))
    scan, report = normalise_scan(read_scan(sweep))
    prediction, _ = predict_scan(model, cfg, scan, keep_features=True)
    assert report['points'] == len(prediction.prediction) == len(scan.xyz) and report['points_read'] == 34688
    assert prediction.logits.shape == (len(scan.xyz), 16) and np.isfinite(prediction.logits).all()
    dimmed, _ = predict_scan(model, cfg, Scan(scan.xyz, None, scan.intensity * 0, scan.path), keep_features=True)
    assert not np.allclose(dimmed.features, prediction.features)  # the net reads the intensity
    with pytest.raises(ScanInputError, match='has no intensity, but the model was trained with LiDAR intensity'):
        predict_scan(model, cfg, Scan(scan.xyz, None, None, 'no_intensity.ply'))


def test_kitti_remission_is_flagged_for_a_model_trained_with_nuscenes_intensity(outdoor_net, shared_data):
    """The real SemanticKITTI sample stores remission in 0..1, the nuScenes-layout model was trained with 0..255:
    a warning names --intensity-scale 255, and with it the net gets 255 x the remission (no warning)."""
    import warnings
    cfg, model = outdoor_net
    path = shared_data / 'tiny' / 'semantickitti' / '000000.bin'
    with pytest.warns(UserWarning, match=r'000000.bin: its intensity is at most 0\.\d+ .* pass --intensity-scale 255'):
        predict_scan(model, cfg, normalise_scan(read_scan(path))[0])
    scaled, _ = normalise_scan(read_scan(path), intensity_scale=255)
    np.testing.assert_allclose(scaled.intensity, 255 * np.fromfile(path, np.float32).reshape(-1, 4)[:, 3], rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)
        warnings.filterwarnings('ignore', message='point got color value')
        prediction, _ = predict_scan(model, cfg, scaled)
    assert prediction.prediction.shape == (50,)


def test_the_real_scannet_mesh_needs_no_color_and_its_y_up_copy_gets_the_same_classes(
        tiny_net, shared_data, one_thread):
    """The real-sensor mesh (284,805 vertices, x y z only) through the indoor model: refused without --no-color
    (naming it), classified with it; the same mesh turned y-up and read with up='y' gets the same class at every
    vertex."""
    from hicl.inference import ScanInputError
    from hicl.scans.readers import Scan
    cfg, checkpoint = tiny_net
    model = load_inference_model(cfg, checkpoint)
    mesh, report = normalise_scan(read_scan(shared_data / 'segmentator_reference' / 'scene0707_00_depth0.ply'))
    with pytest.raises(ScanInputError, match=r'scene0707_00_depth0.ply has no colours, but the model was trained '
                                             r'with colour: pass --no-color'):
        predict_scan(model, cfg, mesh)
    prediction, _ = predict_scan(model, cfg, mesh, no_color=True)
    assert prediction.prediction.shape == (report['points'],) and report['points_read'] == 284805
    y_up = Scan(mesh.xyz @ UP_ROTATIONS['y'], None, None, 'y_up.ply')  # the inverse of the reader's rotation
    turned, _ = predict_scan(model, cfg, normalise_scan(y_up, up='y')[0], no_color=True)
    np.testing.assert_array_equal(turned.prediction, prediction.prediction)
