"""The scene viewer (hicl/viewer.py, tools/visualize.py): the page's data, subsampling cap and layer colours, the
page in a real headless Chromium (silent console, scene drawn, ``#layer=NAME`` honoured), and the CLI on a tiny
model."""
import base64
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from hicl.label_sets import SCANNET20_CLASSES, SCANNET20_PALETTE
from hicl.text_queries import Competitors, score_texts
from hicl.vis.colours import error_colours, heatmap_colours
from hicl.vis.viewer import (BACKGROUND, PAGE_BUDGET_BYTES, PAGE_OVERHEAD_BYTES, Layer, bytes_per_point, class_layer,
                             default_max_points, error_layer, heatmap_layer, scene_layers, write_scene_page)
from tests.conftest import REPO, unavailable
from tests.test_training import CONFIG, as_cli_options, tiny_config, tiny_overrides

CHROMIUM = '/usr/bin/chromium'
PURPLE, TEAL, YELLOW = (68, 1, 84), (33, 145, 140), (253, 231, 37)  # viridis at 0, 0.5 (index 128) and 1
GREY = (191, 191, 191)  # hicl.vis.colours.UNLABELLED_GREY as uint8
WRONG, CORRECT, UNLABELLED = (228, 26, 28), (200, 200, 200), (90, 90, 90)
PANEL_WIDTH = 300  # screenshot columns left of this may hold the layer panel; the canvas is checked right of it


def box_scene(num_points=3000, seed=0):
    """Points on the surface of a 4 x 3 x 2 m box: (N, 3) float32 metres, (N, 3) uint8 colours ramping with the
    position, (N,) face ids 0..5."""
    rng = np.random.default_rng(seed)
    faces = rng.integers(0, 6, num_points)
    xyz = rng.uniform(-1, 1, (num_points, 3))
    xyz[np.arange(num_points), faces // 2] = np.where(faces % 2, 1.0, -1.0)
    xyz = (xyz * [2, 1.5, 1]).astype(np.float32)
    rgb = np.round((xyz - xyz.min(0)) / np.ptp(xyz, 0) * 255).astype(np.uint8)
    return xyz, rgb, faces


def page_data(path):
    """The JSON the page's script reads, xyz decoded to (n, 3) float32 and each layer's rgb to (n, 3) uint8."""
    text = path.read_text(encoding='utf-8')
    data = json.loads(re.search(r'<script id="scene-data" type="application/json">(.*?)</script>', text, re.S)[1])
    data['xyz'] = np.frombuffer(base64.b64decode(data['xyz']), '<f4').reshape(-1, 3)
    for layer in data['layers']:
        layer['rgb'] = np.frombuffer(base64.b64decode(layer['rgb']), np.uint8).reshape(-1, 3)
    return data


def colour_set(colours):
    return set(map(tuple, np.asarray(colours).reshape(-1, 3).tolist()))


# --- the page's content ---------------------------------------------------------------------------------------

def test_page_holds_a_seeded_subsample_with_each_points_colours(tmp_path):
    xyz, rgb, faces = box_scene(5000)
    layers = [Layer('RGB', rgb), class_layer('faces', faces, SCANNET20_CLASSES, SCANNET20_PALETTE)]
    summary = write_scene_page(tmp_path / 'a.html', xyz, layers, title='box', max_points=1200, seed=3)
    assert summary == (1200, 5000, os.path.getsize(tmp_path / 'a.html'))
    data = page_data(tmp_path / 'a.html')
    assert data['totalPoints'] == 5000 and data['title'] == 'box'
    row_of = {point: row for row, point in enumerate(map(tuple, xyz.tolist()))}
    rows = [row_of[point] for point in map(tuple, data['xyz'].tolist())]
    assert len(set(rows)) == 1200 and max(rows) > 4000  # distinct points drawn from the whole scene
    np.testing.assert_array_equal(data['layers'][0]['rgb'], rgb[rows])
    np.testing.assert_array_equal(data['layers'][1]['rgb'], layers[1].colours[rows])
    assert [layer['name'] for layer in data['layers']] == ['RGB', 'faces']
    assert data['layers'][0]['legend'] == []
    assert data['layers'][1]['legend'] == [[SCANNET20_CLASSES[c], list(SCANNET20_PALETTE[c])] for c in range(6)]

    write_scene_page(tmp_path / 'b.html', xyz, layers, title='box', max_points=1200, seed=3)
    assert (tmp_path / 'b.html').read_bytes() == (tmp_path / 'a.html').read_bytes()
    write_scene_page(tmp_path / 'c.html', xyz, layers, title='box', max_points=1200, seed=4)
    assert not np.array_equal(page_data(tmp_path / 'c.html')['xyz'], data['xyz'])
    assert write_scene_page(tmp_path / 'all.html', xyz, layers, max_points=6000).points == 5000


def test_page_is_self_contained_and_its_text_cannot_break_out(tmp_path):
    xyz, rgb, _ = box_scene(100)
    title = '</script><img src=x onerror=alert(1)> & co'
    write_scene_page(tmp_path / 'p.html', xyz, [Layer('RGB', rgb, note='<b>not bold</b>')], title=title)
    text = (tmp_path / 'p.html').read_text(encoding='utf-8')
    for external in ('http://', 'https://', '<script src', '<link', '@import', 'url('):
        assert external not in text.lower(), external
    assert text.count('</script>') == 2 and '<img' not in text  # the data and the viewer script, nothing else
    data = page_data(tmp_path / 'p.html')
    assert data['title'] == title and data['layers'][0]['note'] == '<b>not bold</b>'
    assert f'<title>{title}</title>' not in text and '<title>&lt;/script&gt;' in text


def test_default_cap_keeps_a_page_under_the_budget(tmp_path):
    assert default_max_points(8) == 300_000 and bytes_per_point(8) == 48
    for num_layers in (1, 8, 20, 40):
        assert default_max_points(num_layers) * bytes_per_point(num_layers) + PAGE_OVERHEAD_BYTES <= PAGE_BUDGET_BYTES
    assert default_max_points(20) < 300_000  # many layers: fewer points
    rng = np.random.default_rng(0)
    xyz = rng.uniform(0, 10, (310_000, 3)).astype(np.float32)
    layers = [Layer(f'layer {i}', rng.integers(0, 256, (310_000, 3), dtype=np.uint8)) for i in range(8)]
    summary = write_scene_page(tmp_path / 'big.html', xyz, layers)
    assert summary.points == 300_000 and summary.total_points == 310_000
    assert 48 * 300_000 < summary.size_bytes <= 48 * 300_000 + PAGE_OVERHEAD_BYTES < PAGE_BUDGET_BYTES


# --- layer colours ----------------------------------------------------------------------------------------------

def test_error_colours_and_layer():
    prediction, truth = np.array([0, 1, 2, 3]), np.array([0, 2, -1, 3])
    np.testing.assert_array_equal(error_colours(prediction, truth), [CORRECT, WRONG, UNLABELLED, CORRECT])
    layer = error_layer(prediction, truth)
    assert layer.name == 'errors' and layer.note == '1 of 3 labelled points wrong (33.3%)'
    assert layer.legend == [('wrong', WRONG), ('correct', CORRECT), ('unlabelled', UNLABELLED)]
    assert [label for label, _ in error_layer(prediction, np.array([0, 1, 2, 0])).legend] == ['wrong', 'correct']
    with pytest.raises(ValueError, match=r'prediction \(4,\) and truth \(3,\)'):
        error_colours(prediction, truth[:3])


def test_heatmap_colours_are_viridis_over_a_stated_range():
    np.testing.assert_array_equal(heatmap_colours([0, 0.5, 1]), [PURPLE, TEAL, YELLOW])
    np.testing.assert_array_equal(heatmap_colours([-0.2, 0.1, 0.4], low=-0.2, high=0.4), [PURPLE, TEAL, YELLOW])
    np.testing.assert_array_equal(heatmap_colours([0.3, 0.3], low=0.3, high=0.3), [PURPLE, PURPLE])
    luminance = heatmap_colours(np.linspace(0, 1, 11)) @ np.array([0.299, 0.587, 0.114])
    assert (np.diff(luminance) > 0).all()  # brighter with the score
    layer = heatmap_layer('query: chair', np.array([0.0, 1.0]), 'note')
    assert [label for label, _ in layer.legend] == ['0.000', '0.200', '0.400', '0.600', '0.800', '1.000']
    assert layer.legend[0][1] == PURPLE and layer.legend[-1][1] == YELLOW
    layer = heatmap_layer('query: chair', np.array([-0.2, 0.4]), 'note', low=-0.2, high=0.4)
    assert [label for label, _ in layer.legend] == ['-0.200', '-0.080', '0.040', '0.160', '0.280', '0.400']
    np.testing.assert_array_equal(layer.colours, [PURPLE, YELLOW])
    for bad in ([0.2, np.nan], [0.5, 1.5], [-0.1], [[0.5]]):
        with pytest.raises(ValueError, match=r'heatmap scores must be an \(N,\) array of finite values in \[0, 1\]'):
            heatmap_colours(bad)
    with pytest.raises(ValueError, match=r'values in \[-0.2, 0.4\]; got shape \(1,\) .* finite range \[0.5, 0.5\]'):
        heatmap_colours([0.5], low=-0.2, high=0.4)


def test_query_layer_shows_the_cosine_min_max_over_the_scene():
    features = np.array([[0.5, 0.0], [0.0, 0.3], [-0.2, 0.0]])  # unnormalised: dot products 1, 0, -0.4
    queries = score_texts(features, ['chair'], np.array([[2.0, 0.0]]))  # cosines 1, 0, -1
    layer = scene_layers(np.zeros((3, 3), np.uint8), np.zeros(3, int), SCANNET20_CLASSES, SCANNET20_PALETTE,
                         queries=queries)[-1]
    assert layer.name == 'query: chair'
    np.testing.assert_array_equal(layer.colours, [YELLOW, TEAL, PURPLE])  # shares 1, 0.5, 0 of [-1, 1]
    assert [label for label, _ in layer.legend] == ['-1.000', '-0.600', '-0.200', '0.200', '0.600', '1.000']
    assert layer.note.startswith('cosine of the L2-normalised point feature and text embedding (raw, in [-1, 1]); '
                                 'colours min-max over this scene: -1.000 dark purple to 1.000 yellow')

    competitors = Competitors(('chair', 'wall'), np.array([[1.0, 0.0], [0.0, 1.0]], np.float32), 'two classes')
    layer = scene_layers(np.zeros((3, 3), np.uint8), np.zeros(3, int), SCANNET20_CLASSES, SCANNET20_PALETTE,
                         queries=score_texts(features, ['chair'], np.array([[1.0, 0.0]]), 'softmax', competitors))[-1]
    # softmax of [<f, q>, <f, wall>] (chair left out): [0.5, 0] -> 0.6225, [0, 0.3] -> 0.4256, [-0.2, 0] -> 0.4502
    expected = [math.exp(0.5) / (math.exp(0.5) + 1), 1 / (1 + math.exp(0.3)), math.exp(-0.2) / (math.exp(-0.2) + 1)]
    lut = heatmap_colours(np.linspace(0, 1, 256))
    np.testing.assert_array_equal(layer.colours, lut[np.round(np.array(expected) * 255).astype(int)])
    assert [label for label, _ in layer.legend] == ['0.000', '0.200', '0.400', '0.600', '0.800', '1.000']
    assert 'left out, cosine >= 0.99 to the text: chair (1.000)' in layer.note


def test_class_layer_colours_and_legend():
    layer = class_layer('prediction', np.array([4, 4, 0, 20, -1]), SCANNET20_CLASSES, SCANNET20_PALETTE)
    np.testing.assert_array_equal(layer.colours, [(188, 189, 34), (188, 189, 34), (174, 199, 232), GREY, GREY])
    assert layer.colours.dtype == np.uint8
    assert layer.legend == [('wall', (174, 199, 232)), ('chair', (188, 189, 34)), ('unlabelled', GREY)]


def test_scene_layers_follow_what_the_scene_has():
    _, rgb, faces = box_scene(50)
    angles = np.linspace(0, np.pi, 50)  # cosines to the x axis from 1 down to -1
    queries = score_texts(np.stack([np.cos(angles), np.sin(angles)], 1), ['chair'], np.array([[1.0, 0.0]]))
    sets = np.repeat(np.arange(-1, 4), 10)
    layers = scene_layers(rgb, faces, SCANNET20_CLASSES, SCANNET20_PALETTE, faces, queries, sets)
    assert [layer.name for layer in layers] == ['RGB', 'ground truth', 'prediction', 'errors', 'query: chair', 'sets']
    np.testing.assert_array_equal(layers[4].colours, heatmap_colours((np.cos(angles) + 1) / 2))
    assert layers[5].note == '4 geometric consistency sets, one random colour each'
    assert (layers[5].colours[:10] == GREY).all() and len(colour_set(layers[5].colours[10:])) == 4
    unlabelled = np.full(50, -1)
    assert [layer.name for layer in scene_layers(rgb, faces, SCANNET20_CLASSES, SCANNET20_PALETTE, unlabelled)] == [
        'RGB', 'prediction']


@pytest.mark.parametrize('xyz, colours, names, match', [
    (np.zeros((10, 3)), np.zeros((9, 3), np.uint8), ['RGB'], r"layer 'RGB': colours must be \(10, 3\) uint8"),
    (np.zeros((10, 3)), np.zeros((10, 3)), ['RGB'], r"layer 'RGB': colours must be \(10, 3\) uint8.*float64"),
    (np.array([[0, 0, 0], [np.nan, 0, 0]]), np.zeros((2, 3), np.uint8), ['RGB'],
     r'xyz has 1 points with NaN or infinite coordinates \(first: point 1\)'),
    (np.zeros((10, 2)), np.zeros((10, 3), np.uint8), ['RGB'], r'xyz must be a non-empty \(N, 3\) array'),
    (np.zeros((0, 3)), np.zeros((0, 3), np.uint8), ['RGB'], r'xyz must be a non-empty \(N, 3\) array'),
    (np.zeros((10, 3)), np.zeros((10, 3), np.uint8), [], 'needs at least one layer'),
    (np.zeros((10, 3)), np.zeros((10, 3), np.uint8), ['RGB', 'rgb'], 'layer names must differ'),
])
def test_bad_input_is_refused_with_the_reason(tmp_path, xyz, colours, names, match):
    with pytest.raises(ValueError, match=match):
        write_scene_page(tmp_path / 'bad.html', xyz, [Layer(name, colours) for name in names])
    assert not (tmp_path / 'bad.html').exists()


def test_a_cap_below_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match='max_points must be at least 1; got 0'):
        write_scene_page(tmp_path / 'bad.html', np.zeros((2, 3)), [Layer('RGB', np.zeros((2, 3), np.uint8))],
                         max_points=0)


# --- the page in headless Chromium -----------------------------------------------------------------------------

@pytest.fixture(scope='module')
def chromium():
    if not os.path.isfile(CHROMIUM):
        unavailable(f'{CHROMIUM} is missing: install it with tools/install_chromium.sh (root, Debian) to test the '
                    'viewer page in a browser')
    return CHROMIUM


def run_chromium(chromium, url, profile, *mode):
    """Load ``url`` in headless Chromium with ``mode`` (``--screenshot=PNG`` or ``--dump-dom``) and a fresh
    profile folder; returns (stdout, the page's console messages). Chromium logs console messages of every level
    at INFO, so each one counts: the viewer logs nothing when it works."""
    command = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               f'--user-data-dir={profile}', '--enable-logging=stderr', '--v=0', '--window-size=900,700', *mode, url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout, [line for line in out.stderr.splitlines() if ':CONSOLE' in line]


def canvas_pixels(png):
    """(P, 3) uint8 screenshot pixels right of the layer panel."""
    return np.asarray(Image.open(png).convert('RGB'))[:, PANEL_WIDTH:].reshape(-1, 3)


def test_console_messages_are_caught(chromium, tmp_path):
    page = tmp_path / 'broken.html'
    page.write_text('<!DOCTYPE html><html><body><script>console.error("viewer broke");</script></body></html>')
    _, console = run_chromium(chromium, page.as_uri(), tmp_path / 'profile', '--dump-dom')
    assert len(console) == 1 and 'viewer broke' in console[0]


def test_page_draws_each_layer_in_headless_chromium(chromium, tmp_path):
    xyz, rgb, faces = box_scene()
    prediction = np.where(faces == 5, 4, faces)
    layers = scene_layers(rgb, prediction, SCANNET20_CLASSES, SCANNET20_PALETTE, faces,
                          score_texts(xyz, ['chair'], np.array([[1.0, 0.0, 0.0]])))
    page = tmp_path / 'box.html'
    write_scene_page(page, xyz, layers, title='box')
    shots = {}
    for layer in ('', 'prediction'):
        png = tmp_path / f'{layer or "default"}.png'
        _, console = run_chromium(chromium, page.as_uri() + (f'#layer={layer}' if layer else ''),
                                  tmp_path / f'profile_{layer}', f'--screenshot={png}')
        assert console == []
        shots[layer] = canvas_pixels(png)
        assert (shots[layer] != BACKGROUND).any(1).mean() > 0.05, f'layer {layer!r}: canvas (nearly) blank'
    drawn = (shots[''] != BACKGROUND).any(1)
    assert len(colour_set(shots[''][drawn])) > 500  # the RGB ramp
    assert colour_set(shots[''][drawn]) <= colour_set(rgb)  # exactly the points' colours: nothing else drawn
    drawn_prediction = (shots['prediction'] != BACKGROUND).any(1)
    assert colour_set(shots['prediction'][drawn_prediction]) == colour_set(SCANNET20_PALETTE[:5])
    assert (shots[''] != shots['prediction']).any(1).mean() > 0.05

    dom, console = run_chromium(chromium, page.as_uri() + '#layer=Query:%20Chair', tmp_path / 'profile_dom',
                                '--dump-dom')
    assert console == []
    assert re.search(r'<body data-points="3000" data-layer="query: chair">', dom)


# --- tools/visualize.py on a tiny model -------------------------------------------------------------------------

def test_cli_writes_a_consistent_page_of_a_tiny_model(synthrooms_tiny, tmp_path, one_thread):
    import matplotlib
    from mmdet3d.registry import MODELS
    from mmengine.registry import init_default_scope

    from hicl.inference import build_split_dataset, load_inference_model, predict_scenes
    from hicl.pseudo_labels.anchors import read_text_anchor_file
    cfg = tiny_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    checkpoint = tmp_path / 'net.pth'
    torch.save(dict(meta=dict(dataset_meta=dict(classes=SCANNET20_CLASSES)),
                    state_dict=MODELS.build(cfg.model).state_dict()), checkpoint)
    test_set = build_split_dataset(cfg, 'test')
    scene = next(predict_scenes(load_inference_model(cfg, str(checkpoint)), test_set))
    out = subprocess.run(
        [sys.executable, 'tools/visualize.py', CONFIG, str(checkpoint), '--scene', scene.scene_id, '--text', 'chair',
         '--html', str(tmp_path / 'pages'), '--max-points', '500', '--cfg-options',
         *as_cli_options(tiny_overrides(synthrooms_tiny, 1))],
        cwd=REPO, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    page = tmp_path / 'pages' / f'{scene.scene_id}.html'
    num_points = test_set.get_data_info(0)['num_points']
    assert re.search(rf'wrote {re.escape(str(page))}: [0-9.]+ MB, 500 of {num_points} points, layers: RGB, ground '
                     'truth, prediction, errors, query: chair, sets', out.stdout), out.stdout
    data = page_data(page)
    layers = {layer['name']: layer for layer in data['layers']}
    assert len(data['xyz']) == 500 and data['totalPoints'] == num_points
    truth, prediction = layers['ground truth']['rgb'], layers['prediction']['rgb']
    expected_errors = np.where(((truth == GREY).all(1))[:, None], UNLABELLED,
                               np.where((truth == prediction).all(1)[:, None], CORRECT, WRONG))
    np.testing.assert_array_equal(layers['errors']['rgb'], expected_errors)
    assert colour_set(prediction) <= colour_set(SCANNET20_PALETTE)
    assert 'geometric consistency sets' in layers['sets']['note']

    # the query layer: the cosine of each point's feature and chair's anchor (numpy), min-max over the whole scene
    anchors, classes, _ = read_text_anchor_file(str(synthrooms_tiny / 'text_anchors.npz'))
    chair = anchors[classes.index('chair')]
    cosine = scene.features @ chair / np.linalg.norm(scene.features, axis=1) / np.linalg.norm(chair)
    row_of = {point: row for row, point in enumerate(map(tuple, scene.xyz.tolist()))}
    rows = [row_of[point] for point in map(tuple, data['xyz'].tolist())]
    expected = np.round((cosine[rows] - cosine.min()) / (cosine.max() - cosine.min()) * 255)
    viridis = np.round(matplotlib.colormaps['viridis'](np.linspace(0, 1, 256))[:, :3] * 255)
    query = layers['query: chair']
    shown = np.abs(query['rgb'][:, None, :].astype(float) - viridis[None]).sum(2).argmin(1)  # back to 0..255
    assert np.abs(shown - expected).max() <= 1, np.abs(shown - expected).max()  # 1: float rounding across threads
    labels = [float(label) for label, _ in query['legend']]
    assert labels[0] == pytest.approx(cosine.min(), abs=2e-3) and labels[-1] == pytest.approx(cosine.max(), abs=2e-3)
    assert query['note'].startswith('cosine of the L2-normalised point feature and text embedding (raw, in [-1, 1]); '
                                    'colours min-max over this scene'), query['note']
