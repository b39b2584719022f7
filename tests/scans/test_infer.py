"""A model on a scan of your own: hicl.inference.predict_scan gives tools/test.py's predictions for a dataset scene
written to a file; the same scan in another format or y-up (with --up y) gives the same predictions;
tools/infer.py writes the labels, scores, PLY and viewer page and prints the class table; bad input is refused."""
import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope
from plyfile import PlyData

from hicl.geometry.segmentation import segment_points
from hicl.inference import build_split_dataset, load_inference_model, predict_scan, predict_scenes
from hicl.label_sets import SCANNET20_CLASSES
from hicl.open_vocabulary import text_anchors
from hicl.scans import normalise_scan, read_scan
from hicl.scans.conventions import UP_ROTATIONS
from hicl.scans.outputs import softmax_confidence
from hicl.text_queries import query_scorer, score_texts
from tests.conftest import REPO
from tests.scans.test_readers import WRITERS
from tests.test_training import CONFIG, as_cli_options, tiny_config, tiny_overrides


@pytest.fixture(scope='module')
def random_net(synthrooms_tiny, tmp_path_factory):
    """(config, checkpoint) of a randomly initialised baseline 3D net on the tiny set."""
    cfg = tiny_config(synthrooms_tiny, tmp_path_factory.mktemp('work'), max_epochs=1)
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('net') / 'random.pth'
    torch.save(dict(meta=dict(dataset_meta=dict(classes=SCANNET20_CLASSES)),
                    state_dict=MODELS.build(cfg.model).state_dict()), path)
    return cfg, str(path)


@pytest.fixture(scope='module')
def test_scene(random_net):
    """(the tiny test scene's (N, 6) x y z r g b points, its prediction through the dataset as tools/test.py)."""
    cfg, checkpoint = random_net
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


def test_a_scene_written_to_a_file_is_predicted_as_tools_test_py_predicts_it(random_net, test_scene, tmp_path,
                                                                             one_thread):
    cfg, checkpoint = random_net
    points, reference = test_scene
    model = load_inference_model(cfg, checkpoint)
    scan, report = normalise_scan(read_scan(scan_file(points, tmp_path / 'scene.npy')))
    assert report.points == len(points)  # no NaN, no duplicates in a converted scene
    anchors_file = str(Path(cfg.train_dataloader.dataset.data_root) / 'text_anchors.npz')
    prediction, queries = predict_scan(model, cfg, scan, keep_features=True,
                                       score=query_scorer(['chair', 'wall'], anchors_file))
    np.testing.assert_array_equal(prediction.prediction, reference.prediction)
    expected = score_texts(reference.features, ['chair', 'wall'], text_anchors(['chair', 'wall'], anchors_file))
    for query, wanted in zip(queries, expected):  # the same scores as tools/query.py's, whole-scan colour range
        np.testing.assert_allclose(query.scores, wanted.scores, atol=1e-5)
        assert query.colour_range == pytest.approx(wanted.colour_range, abs=1e-5)
    np.testing.assert_allclose(prediction.features, reference.features, atol=1e-5)


@pytest.mark.parametrize('name, up', [('scene.txt', 'z'), ('scene_y_up.npy', 'y'), ('scene_minus_y_up.npy', '-y')])
def test_other_formats_and_up_axes_give_the_same_predictions(random_net, test_scene, tmp_path, one_thread, name, up):
    cfg, checkpoint = random_net
    points, reference = test_scene
    scan, _ = normalise_scan(read_scan(scan_file(points, tmp_path / name, up)), up=up)
    prediction, _ = predict_scan(load_inference_model(cfg, checkpoint), cfg, scan)
    np.testing.assert_allclose(scan.xyz, points[:, :3], atol=1e-5)
    assert np.mean(prediction.prediction == reference.prediction) >= 0.999  # text keeps 7 decimals: near-ties


@pytest.mark.parametrize('name', sorted(WRITERS))
def test_every_format_gives_the_predictions_of_the_same_points_in_memory(
        random_net, test_scene, tmp_path, one_thread, name):
    """The tiny test room (x y z r g b) written in each format and read back through tools/infer.py's path gets the
    prediction of tools/test.py: exactly where the format keeps float32 coordinates, on all but near-ties (a point
    moved by the format's 6 printed decimals across a voxel border) where it prints them as text or as scaled
    integers (LAS)."""
    cfg, checkpoint = random_net
    points, reference = test_scene
    path = tmp_path / name
    WRITERS[name](path, points)
    scan, _ = normalise_scan(read_scan(path, bin_columns=6 if name.endswith('.bin') else None))
    prediction, _ = predict_scan(load_inference_model(cfg, checkpoint), cfg, scan)
    if name in ('ascii.pcd', 'ascii.ply', 'mesh.obj', 'points.txt', 'points.las'):
        assert np.mean(prediction.prediction == reference.prediction) >= 0.999
    else:
        np.testing.assert_array_equal(prediction.prediction, reference.prediction)


def test_the_real_sensor_mesh_needs_no_color_and_its_y_up_copy_gets_the_same_classes(
        random_net, shared_data, one_thread):
    """The real-sensor ScanNet mesh (284,805 vertices, x y z only) is refused by a model trained with colour until
    --no-color; a y-up copy of it read with --up y gets the same predictions as the z-up file."""
    from hicl.inference import ScanInputError
    from hicl.scans.readers import Scan
    cfg, checkpoint = random_net
    model = load_inference_model(cfg, checkpoint)
    mesh, report = normalise_scan(read_scan(shared_data / 'segmentator_reference' / 'scene0707_00_depth0.ply'))
    assert report.points_read == 284805
    with pytest.raises(ScanInputError, match='scene0707_00_depth0.ply has no colours.*pass --no-color'):
        predict_scan(model, cfg, mesh)
    z_up, _ = predict_scan(model, cfg, mesh, no_color=True)
    y_up_file = Scan(mesh.xyz @ UP_ROTATIONS['y'], None, None, 'y_up.ply')  # the inverse of the reader's rotation
    y_up, _ = predict_scan(model, cfg, normalise_scan(y_up_file, up='y')[0], no_color=True)
    assert len(z_up.prediction) == report.points
    np.testing.assert_array_equal(y_up.prediction, z_up.prediction)


def test_the_cli_writes_labels_scores_ply_and_page_and_prints_the_class_table(
        random_net, test_scene, tmp_path, capsys, one_thread):
    cfg, checkpoint = random_net
    points, reference = test_scene
    scan = scan_file(points, tmp_path / 'room.npy')
    duplicated = np.r_[points, points[:5], np.full((2, 6), np.nan, np.float32)]
    scan_file(duplicated, tmp_path / 'room_with_noise.txt')
    options = ['--cfg-options', *as_cli_options(tiny_overrides(Path(cfg.train_dataloader.dataset.data_root), 1))]
    runpy.run_path(str(REPO / 'tools' / 'infer.py'))['main'](
        [CONFIG, checkpoint, str(scan), str(tmp_path / 'room_with_noise.txt'), '--out', str(tmp_path / 'out'),
         '--sets', *options])
    out = capsys.readouterr().out
    labels = np.load(tmp_path / 'out' / 'room.labels.npy')
    np.testing.assert_array_equal(labels, reference.prediction)
    np.testing.assert_allclose(np.load(tmp_path / 'out' / 'room.scores.npy'), softmax_confidence(reference.logits),
                               atol=1e-5)
    vertex = PlyData.read(str(tmp_path / 'out' / 'room.ply'))['vertex'].data
    np.testing.assert_array_equal(vertex['label'], labels)
    np.testing.assert_array_equal(vertex['input_red'], points[:, 3].astype(np.uint8))
    assert (tmp_path / 'out' / 'room.html').stat().st_size > 10_000
    np.testing.assert_array_equal(np.load(tmp_path / 'out' / 'room.sets.npy'),
                                  segment_points(points[:, :3].astype(np.float64)))
    assert '"sets"' in (tmp_path / 'out' / 'room.html').read_text()
    n = len(points)
    noisy_labels = np.load(tmp_path / 'out' / 'room_with_noise.labels.npy')  # one per point of the file
    np.testing.assert_array_equal(noisy_labels, np.r_[labels, labels[:5], [-1, -1]])
    assert np.isnan(np.load(tmp_path / 'out' / 'room_with_noise.scores.npy')[-2:]).all()
    assert f'room_with_noise.txt: {n} points ({n + 7} read, 2 NaN/Inf and 5 duplicates dropped)' in out
    counts = np.bincount(labels, minlength=len(SCANNET20_CLASSES))
    top = int(counts.argmax())
    assert f'{SCANNET20_CLASSES[top]:<20} {counts[top]:>10} {100 * counts[top] / n:>6.1f}%' in out


@pytest.mark.parametrize('make, options, message', [
    (lambda d: np.save(d / 'grey.npy', np.random.default_rng(0).uniform(size=(10, 3))), [],
     'grey.npy has no colours, but the model was trained with colour: pass --no-color'),
    (lambda d: (d / 'empty.ply').write_bytes(b''), [], 'empty.ply is empty'),
])
def test_scans_the_model_cannot_take_are_refused_naming_the_fix(random_net, tmp_path, make, options, message):
    cfg, checkpoint = random_net
    make(tmp_path)
    path = next(p for p in tmp_path.iterdir() if p.is_file())
    with pytest.raises(ValueError, match=message):
        runpy.run_path(str(REPO / 'tools' / 'infer.py'))['main'](
            [CONFIG, checkpoint, str(path), '--out', str(tmp_path / 'out'), *options, '--cfg-options',
             *as_cli_options(tiny_overrides(Path(cfg.train_dataloader.dataset.data_root), 1))])


@pytest.mark.parametrize('argv, message', [
    (['a.ply', 'b/a.ply'], 'scans with the same name would write the same outputs'),
    (['a.ply', '--scale', '0'], '--scale and --intensity-scale must be > 0, got 0.0 and 1.0'),
    (['a.ply', '--intensity-scale', '-1'], '--scale and --intensity-scale must be > 0, got 1.0 and -1.0'),
])
def test_option_errors_are_usage_errors(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(REPO / 'tools' / 'infer.py'))['parse_args']([CONFIG, 'x.pth', *argv, '--out',
                                                                        str(tmp_path / 'out')])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_tiled_inference_agrees_with_one_pass_and_no_pass_exceeds_the_budget(random_net, one_thread, monkeypatch):
    """Four tiny rooms side by side, run in one pass and in overlapping tiles of at most a quarter of the points
    (the tiles' voxel grids aligned to the scan's by hicl.inference.grid_anchor): every pass of the net takes at
    most the budget (the budget in points is the memory bound), every point is labelled by exactly one tile, and
    the tiled predictions agree with the one pass."""
    import hicl.inference.scans as scan_inference
    from hicl.scans.readers import Scan
    from hicl.scans.tiling import make_tiles, tile_size_for
    cfg, checkpoint = random_net
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
    tiles = make_tiles(scan.xyz, tile_size_for(scan.xyz, budget, margin), margin, budget)
    assert np.array_equal(np.sort(np.concatenate([tile.points[tile.core] for tile in tiles])),
                          np.arange(len(points)))  # every point labelled by exactly one tile
    whole, _ = predict_scan(model, cfg, scan)
    passes = []
    real_scan_features = scan_inference.scan_features
    monkeypatch.setattr(scan_inference, 'scan_features',
                        lambda model, cfg, tile, no_color: passes.append(len(tile.xyz)) or real_scan_features(
                            model, cfg, tile, no_color))
    tiled, _ = predict_scan(model, cfg, scan, max_points=budget, tile_margin=margin)
    agreement = np.mean(whole.prediction == tiled.prediction)
    print(f'{len(points)} points, {len(passes)} passes of at most {max(passes)} points: agreement {agreement:.4f}')
    assert len(passes) > 1 and max(passes) <= budget
    assert agreement >= 0.99


def test_a_dense_corner_splits_its_tile_until_it_fits_and_an_impossible_budget_is_refused():
    """A sparse 20 m square with 5,000 more points packed in a 4 m corner: the grid sized for the mean density leaves
    that tile far over budget, so it is split in quarters until every tile fits; a budget smaller than the points
    within the margin of the smallest tile stops with the options to change."""
    from hicl.scans.tiling import TileBudgetError, make_tiles, tile_size_for
    rng = np.random.default_rng(0)
    xyz = np.r_[rng.uniform(0, 20, size=(5000, 3)), rng.uniform(0, 4, size=(5000, 3))]
    budget, margin = 2000, 0.5
    side = tile_size_for(xyz, budget, margin)
    unsplit = make_tiles(xyz, side, margin)
    tiles = make_tiles(xyz, side, margin, budget)
    assert max(len(tile.points) for tile in unsplit) > budget
    assert max(len(tile.points) for tile in tiles) <= budget and len(tiles) > len(unsplit)
    assert min(tile.side for tile in tiles) < side  # the corner's core was split
    labelled = np.concatenate([tile.points[tile.core] for tile in tiles])
    np.testing.assert_array_equal(np.sort(labelled), np.arange(len(xyz)))
    with pytest.raises(TileBudgetError, match='even for the smallest tile; raise --points-per-pass or lower '
                                              '--tile-margin'):
        make_tiles(xyz, side, margin, 100)


def test_a_vocabulary_segments_into_its_names(random_net, test_scene, tmp_path, one_thread):
    """--vocabulary: the scan is segmented into the vocabulary's names (argmax over their anchors: here three of
    the model's own classes, so the reference is the argmax of the model's logits over those columns), the PLY
    and the class table speak of those names."""
    import json
    cfg, checkpoint = random_net
    points, reference = test_scene
    root = Path(cfg.train_dataloader.dataset.data_root)
    names = ['floor', 'chair', 'wall']
    vocabulary = tmp_path / 'three.json'
    vocabulary.write_text(json.dumps(dict(anchors_file=str(root / 'text_anchors.npz'),
                                          names={name: name for name in names})))
    from hicl.inference import infer_scans
    [result] = infer_scans(cfg, checkpoint, [str(scan_file(points, tmp_path / 'room.npy'))], str(tmp_path),
                           vocabulary=str(vocabulary))
    columns = [SCANNET20_CLASSES.index(name) for name in names]
    expected = reference.logits[:, columns].argmax(1)
    np.testing.assert_array_equal(np.load(result.outputs['labels.npy']), expected)
    assert {name for name, _, _ in result.table} <= set(names)
    assert sum(count for _, count, _ in result.table) == len(points)


def test_the_outdoor_model_runs_on_the_real_nuscenes_sweep_and_reads_its_intensity(
        shared_data, tmp_path, one_thread):
    """A randomly initialised SPVCNN of configs/baseline_synthstreet.py on the real 34,688-point sweep, read from
    its .pcd.bin: every point gets a class, the intensity column reaches the net (normalised by 255), and a scan
    without intensity is refused naming what the model needs."""
    from mmengine.config import Config

    from hicl.inference import ScanInputError
    from hicl.scans.readers import Scan
    cfg = Config.fromfile(str(REPO / 'configs' / 'baseline_synthstreet.py'))
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    from hicl.label_sets import get_label_set
    from hicl.pseudo_labels.anchors import random_orthonormal_anchors, save_text_anchors
    anchors = str(tmp_path / 'anchors.npz')
    save_text_anchors(anchors, random_orthonormal_anchors(16, 512), list(get_label_set('nuscenes16')['classes']), {})
    model = MODELS.build(dict(cfg.model, decode_head=dict(cfg.model.decode_head, anchors_file=anchors))).eval()
    sweep = next((shared_data / 'nuscenes_demo').glob('*.pcd.bin'))
    scan, report = normalise_scan(read_scan(sweep))
    prediction, _ = predict_scan(model, cfg, scan, keep_features=True)
    assert report.points == len(prediction.prediction) == len(scan.xyz) and report.points_read == 34688
    assert prediction.logits.shape == (len(scan.xyz), 16) and np.isfinite(prediction.logits).all()
    dimmed, _ = predict_scan(model, cfg, Scan(scan.xyz, None, scan.intensity * 0, scan.path), keep_features=True)
    assert not np.allclose(dimmed.features, prediction.features)  # the net reads the intensity
    with pytest.raises(ScanInputError, match='has no intensity, but the model was trained with LiDAR intensity'):
        predict_scan(model, cfg, Scan(scan.xyz, None, None, 'no_intensity.ply'))
    kitti_file = shared_data / 'tiny' / 'semantickitti' / '000000.bin'  # x y z remission in [0, 1]
    with pytest.warns(UserWarning, match='intensity is at most .* pass --intensity-scale 255'):
        predict_scan(model, cfg, normalise_scan(read_scan(kitti_file))[0])
    kitti, _ = normalise_scan(read_scan(kitti_file), intensity_scale=255.0)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)
        prediction, _ = predict_scan(model, cfg, kitti)
    assert prediction.logits.shape == (50, 16) and np.isfinite(prediction.logits).all()


def test_device_cuda_without_a_gpu_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    parse_args = runpy.run_path(str(REPO / 'tools' / 'infer.py'))['parse_args']
    with pytest.raises(SystemExit) as stop:
        parse_args([CONFIG, 'x.pth', 'a.ply', '--out', str(tmp_path / 'out'), '--device', 'cuda'])
    assert stop.value.code == 2 and 'device cuda: torch.cuda.is_available() is False' in capsys.readouterr().err
    assert parse_args([CONFIG, 'x.pth', 'a.ply', '--out', str(tmp_path / 'out'), '--device', 'auto']).device == 'cpu'
