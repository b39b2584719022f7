"""A self-contained scene viewer: one HTML page per scene, to open in any browser without a server or network.

:func:`write_scene_page` writes the points and their colour layers (RGB, classes, errors, query heatmaps, sets)
into one file whose inlined script draws them on a 2D canvas: drag to orbit, shift- or right-drag to pan, wheel to
zoom, double-click to reset, a layer switcher (or keys 1-9) and the legend of the current layer. The URL fragment
``#layer=NAME`` (a layer name, case-insensitive, or its 1-based number) picks the layer shown first.

Size: the positions (float32) and each layer's colours (uint8 RGB) are inlined as base64, ``16 + 4 L`` bytes per
point for L layers. A scene with more points is subsampled uniformly at random (seeded) to at most
:func:`default_max_points` points: ``DEFAULT_MAX_POINTS`` (300 000, a 14.4 MB page with 8 layers), lowered for
many layers so that the page stays under ``PAGE_BUDGET_BYTES`` (20 MB).

The layer helpers (:func:`scene_layers` and the ``*_layer`` functions) take the net's outputs as plain numpy
arrays; class colours come from :func:`hicl.visualization.label_colours`, set colours from
:func:`hicl.visualization.set_colours`.
"""
import base64
import html
import json
from dataclasses import dataclass
from string import Template
from typing import NamedTuple

import numpy as np

from .fileio import atomic_write
from .visualization import (ERROR_CORRECT, ERROR_UNLABELLED, ERROR_WRONG, UNLABELLED_GREY, error_colours,
                            heatmap_colours, label_colours, rgb8, set_colours)

DEFAULT_MAX_POINTS = 300_000
PAGE_BUDGET_BYTES = 20_000_000
# Upper bound on everything but the base64 arrays: markup, script, title, layer names, notes and legends.
PAGE_OVERHEAD_BYTES = 64_000
BACKGROUND = (32, 33, 36)
HEATMAP_LEGEND_STEPS = 6


@dataclass
class Layer:
    """One colouring of the scene's points.

    Attributes:
        name: shown in the layer switcher; ``#layer=<name>`` selects it (names of one page must differ).
        colours: (N, 3) uint8 RGB, one row per point.
        legend: [(label, (r, g, b)), ...] swatches shown with the layer, or None.
        note: one line of text shown above the legend ('' for none).
    """
    name: str
    colours: np.ndarray
    legend: list = None
    note: str = ''


class PageSummary(NamedTuple):
    """What :func:`write_scene_page` wrote: points drawn, points of the scene, page size in bytes."""
    points: int
    total_points: int
    size_bytes: int


def bytes_per_point(num_layers):
    """Page bytes per drawn point: base64 of 3 float32 coordinates (16) and of 3 uint8 colours per layer (4)."""
    return 16 + 4 * num_layers


def default_max_points(num_layers):
    """The subsampling cap of a page with ``num_layers`` layers: DEFAULT_MAX_POINTS, or fewer where that page
    would exceed PAGE_BUDGET_BYTES."""
    return min(DEFAULT_MAX_POINTS, (PAGE_BUDGET_BYTES - PAGE_OVERHEAD_BYTES) // bytes_per_point(num_layers))


def class_layer(name, labels, classes, palette):
    """A :class:`Layer` of (N,) class ids coloured by ``palette`` (ids outside it: grey), with the classes that
    occur (in class order) and 'unlabelled' as its legend."""
    labels = np.asarray(labels)
    present = np.unique(labels)
    legend = [(classes[label], tuple(palette[label])) for label in present if 0 <= label < len(palette)]
    if ((labels < 0) | (labels >= len(palette))).any():
        legend.append(('unlabelled', tuple(rgb8(UNLABELLED_GREY).tolist())))
    return Layer(name, rgb8(label_colours(labels, palette)), legend)


def error_layer(prediction, truth):
    """The 'errors' :class:`Layer` of (N,) predicted and true class ids (truth < 0: unlabelled), with the share of
    wrong labelled points as its note ('unlabelled' is in the legend when some point is)."""
    colours = error_colours(prediction, truth)
    labelled = np.asarray(truth) >= 0
    num_labelled = int(labelled.sum())
    wrong = int((np.asarray(prediction) != np.asarray(truth))[labelled].sum())
    legend = [('wrong', ERROR_WRONG), ('correct', ERROR_CORRECT)] + [('unlabelled', ERROR_UNLABELLED)] * (
        num_labelled < len(labelled))
    return Layer('errors', colours, legend,
                 f'{wrong} of {num_labelled} labelled points wrong ({wrong / max(num_labelled, 1):.1%})')


def heatmap_layer(name, scores, note='', low=0.0, high=1.0):
    """A :class:`Layer` of (N,) scores in [low, high] as heatmap colours (low dark purple, high yellow), its legend
    a colour bar of HEATMAP_LEGEND_STEPS swatches labelled with the scores they stand for, from low to high."""
    steps = np.linspace(low, high, HEATMAP_LEGEND_STEPS)
    legend = [(f'{step:.3f}', tuple(colour.tolist())) for step, colour in zip(steps, heatmap_colours(steps, low, high))]
    return Layer(name, heatmap_colours(scores, low, high), legend, note)


def set_layer(point_sets, seed=0):
    """The 'sets' :class:`Layer` of (N,) geometric consistency set ids (-1: in no set), one random colour per
    set (:func:`hicl.visualization.set_colours`)."""
    point_sets = np.asarray(point_sets)
    num_sets = len(np.unique(point_sets[point_sets >= 0]))
    legend = [('in no set', tuple(rgb8(UNLABELLED_GREY).tolist()))] if (point_sets < 0).any() else None
    return Layer('sets', rgb8(set_colours(point_sets, seed)), legend,
                 f'{num_sets} geometric consistency sets, one random colour each')


def scene_layers(rgb, prediction, classes, palette, truth=None, queries=(), point_sets=None):
    """The layers of one scene, in page order: 'RGB', 'ground truth' and 'errors' (when ``truth`` has a labelled
    point), 'prediction', one 'query: <text>' heatmap per query, 'sets' (when ``point_sets`` is given).

    rgb: (N, 3) uint8 point colours; prediction, truth: (N,) int class ids (truth < 0: unlabelled);
    classes, palette: the dataset's class names and (C, 3) RGB palette; queries:
    :class:`hicl.text_queries.QueryScores` (the layer's colour range and note are theirs); point_sets: (N,) int
    set ids or None.
    """
    layers = [Layer('RGB', np.asarray(rgb, dtype=np.uint8))]
    labelled = truth is not None and (np.asarray(truth) >= 0).any()
    if labelled:
        layers.append(class_layer('ground truth', truth, classes, palette))
    layers.append(class_layer('prediction', prediction, classes, palette))
    if labelled:
        layers.append(error_layer(prediction, truth))
    for query in queries:
        layers.append(heatmap_layer(f'query: {query.text}', query.scores, query.statement(), *query.colour_range))
    if point_sets is not None:
        layers.append(set_layer(point_sets))
    return layers


def _check_scene(xyz, layers):
    """Raise ValueError naming the problem unless xyz is a non-empty finite (N, 3) array and ``layers`` a
    non-empty list of uniquely named layers with (N, 3) uint8 colours."""
    if xyz.ndim != 2 or xyz.shape[1] != 3 or not len(xyz):
        raise ValueError(f'xyz must be a non-empty (N, 3) array of coordinates; got shape {xyz.shape}')
    bad = ~np.isfinite(xyz).all(1)
    if bad.any():
        raise ValueError(f'xyz has {int(bad.sum())} points with NaN or infinite coordinates (first: point '
                         f'{int(np.flatnonzero(bad)[0])}); drop them before writing the page')
    if not layers:
        raise ValueError('a scene page needs at least one layer')
    names = [layer.name for layer in layers]
    if len(set(name.lower() for name in names)) != len(names):
        raise ValueError(f'layer names must differ (case-insensitively, #layer=NAME selects them): {names}')
    for layer in layers:
        colours = np.asarray(layer.colours)
        if colours.shape != xyz.shape or colours.dtype != np.uint8:
            raise ValueError(f'layer {layer.name!r}: colours must be ({len(xyz)}, 3) uint8, one RGB row per point; '
                             f'got {colours.shape} {colours.dtype}')


def _base64(array, dtype):
    """ASCII base64 of ``array`` as little-endian ``dtype`` bytes (what the page's typed arrays read)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode('ascii')


def write_scene_page(path, xyz, layers, title='', max_points=None, seed=0):
    """Write the viewer page of one scene to ``path`` (atomically) and return its :class:`PageSummary`.

    xyz: (N, 3) float point coordinates in metres (z up); layers: list of :class:`Layer` with (N, 3) uint8
    colours, the first one shown by default; max_points: subsampling cap (None: :func:`default_max_points`);
    seed: seed of the uniform random subsampling. Raises ValueError on bad input (shapes, NaN coordinates,
    duplicate layer names).
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    layers = list(layers)
    _check_scene(xyz, layers)
    cap = default_max_points(len(layers)) if max_points is None else int(max_points)
    if cap < 1:
        raise ValueError(f'max_points must be at least 1; got {max_points}')
    keep = (np.sort(np.random.default_rng(seed).choice(len(xyz), cap, replace=False)) if len(xyz) > cap
            else np.arange(len(xyz)))
    data = dict(title=title, totalPoints=len(xyz), background=BACKGROUND, xyz=_base64(xyz[keep], '<f4'),
                layers=[dict(name=layer.name, note=layer.note, rgb=_base64(np.asarray(layer.colours)[keep], 'u1'),
                             legend=[[str(label), [int(c) for c in colour]] for label, colour in (layer.legend or [])])
                        for layer in layers])
    # '<' escaped so that no text of the data can close the script element it sits in.
    page = PAGE_TEMPLATE.substitute(TITLE=html.escape(title or 'scene'), BACKGROUND=', '.join(map(str, BACKGROUND)),
                                    DATA=json.dumps(data).replace('<', '\\u003c'), SCRIPT=PAGE_SCRIPT).encode('utf-8')
    atomic_write(path, lambda file: file.write(page))
    return PageSummary(points=len(keep), total_points=len(xyz), size_bytes=len(page))


PAGE_TEMPLATE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$TITLE</title>
<style>
html, body { margin: 0; height: 100%; overflow: hidden; background: rgb($BACKGROUND); color: #e8eaed;
  font: 13px/1.35 system-ui, sans-serif; }
#view { position: absolute; inset: 0; width: 100%; height: 100%; display: block; cursor: grab; }
#panel { position: absolute; top: 8px; left: 8px; width: 230px; max-height: calc(100% - 16px); overflow-y: auto;
  padding: 8px 10px; background: rgba(20, 21, 24, 0.85); border-radius: 6px; }
#panel h1 { font-size: 14px; margin: 0 0 4px; overflow-wrap: anywhere; }
#panel fieldset { border: 1px solid #5f6368; margin: 6px 0; padding: 4px 6px; }
#panel label { display: block; cursor: pointer; }
#note { margin: 6px 0 4px; color: #bdc1c6; }
#legend { list-style: none; margin: 0; padding: 0; }
#legend li { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
#legend span { width: 14px; height: 14px; flex: none; border: 1px solid #000; }
.small { color: #9aa0a6; font-size: 11px; margin-top: 6px; }
</style>
</head>
<body>
<canvas id="view"></canvas>
<div id="panel">
<h1 id="title"></h1>
<div id="count" class="small"></div>
<fieldset id="layers"><legend>layer</legend></fieldset>
<div id="note"></div>
<ul id="legend"></ul>
<label class="small">point size <input id="size" type="range" min="0" max="8" value="0">
<output id="size-value">auto</output></label>
<div class="small">drag: orbit &middot; shift/right-drag: pan &middot; wheel: zoom &middot; double-click: reset
&middot; keys 1-9: layer</div>
</div>
<script id="scene-data" type="application/json">$DATA</script>
<script>
$SCRIPT
</script>
</body>
</html>
""")

PAGE_SCRIPT = """'use strict';
(function () {
  const data = JSON.parse(document.getElementById('scene-data').textContent);
  function bytes(text64) {
    const text = atob(text64);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  const xyz = new Float32Array(bytes(data.xyz).buffer);
  const n = xyz.length / 3;
  const layers = data.layers.map(function (layer) { return Object.assign({}, layer, {rgb: bytes(layer.rgb)}); });
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], xyz[3 * i + a]);
      hi[a] = Math.max(hi[a], xyz[3 * i + a]);
    }
  }
  const centre = [0, 1, 2].map(function (a) { return (lo[a] + hi[a]) / 2; });
  const ext = [0, 1, 2].map(function (a) { return hi[a] - lo[a]; });
  const radius = Math.max(0.5 * Math.hypot(ext[0], ext[1], ext[2]), 1e-3);
  // Mean spacing of points spread over the box's surface: the auto point size covers it on screen.
  const spacing = Math.sqrt(Math.max(2 * (ext[0] * ext[1] + ext[1] * ext[2] + ext[2] * ext[0]), 1e-6) / n);
  const BACKGROUND = data.background;
  const HOME = {yaw: -0.6, pitch: 0.8, zoom: 0.9, panX: 0, panY: 0};
  const view = Object.assign({}, HOME);
  let pointSize = 0;
  let current = 0;
  const canvas = document.getElementById('view');
  const context = canvas.getContext('2d');
  let image = null, depth = null, pending = false, left = 0;
  // Pixels per metre; the scene is centred in the canvas right of the panel (at most a third of the width).
  function viewScale() {
    return view.zoom * 0.5 * Math.min(canvas.width - left, canvas.height) / radius;
  }

  function draw() {
    pending = false;
    const w = canvas.width, h = canvas.height, pixels = image.data, rgb = layers[current].rgb;
    for (let p = 0; p < pixels.length; p += 4) {
      pixels[p] = BACKGROUND[0]; pixels[p + 1] = BACKGROUND[1]; pixels[p + 2] = BACKGROUND[2]; pixels[p + 3] = 255;
    }
    depth.fill(Infinity);
    const scale = viewScale(), cu = (w + left) / 2;
    const cy = Math.cos(view.yaw), sy = Math.sin(view.yaw), ce = Math.cos(view.pitch), se = Math.sin(view.pitch);
    const size = pointSize || Math.min(8, Math.max(1, Math.round(scale * spacing)));
    const half = size >> 1;
    for (let i = 0; i < n; i++) {
      const x = xyz[3 * i] - centre[0], y = xyz[3 * i + 1] - centre[1], z = xyz[3 * i + 2] - centre[2];
      const right = cy * x - sy * y, ahead = sy * x + cy * y;
      const d = ahead * ce - z * se, up = ahead * se + z * ce;
      const u = Math.round(cu + scale * (right + view.panX)) - half;
      const v = Math.round(h / 2 - scale * (up + view.panY)) - half;
      if (u + size <= 0 || v + size <= 0 || u >= w || v >= h) continue;
      for (let b = Math.max(v, 0); b < Math.min(v + size, h); b++) {
        for (let a = Math.max(u, 0); a < Math.min(u + size, w); a++) {
          const k = b * w + a;
          if (d < depth[k]) {
            depth[k] = d;
            pixels[4 * k] = rgb[3 * i]; pixels[4 * k + 1] = rgb[3 * i + 1]; pixels[4 * k + 2] = rgb[3 * i + 2];
          }
        }
      }
    }
    context.putImageData(image, 0, 0);
  }
  function redraw() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }
  function resize() {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.floor(canvas.clientWidth * ratio));
    canvas.height = Math.max(1, Math.floor(canvas.clientHeight * ratio));
    left = Math.min(document.getElementById('panel').getBoundingClientRect().right * ratio, canvas.width / 3);
    image = context.createImageData(canvas.width, canvas.height);
    depth = new Float32Array(canvas.width * canvas.height);
    draw();
  }

  const radios = layers.map(function (layer, index) {
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio'; radio.name = 'layer'; radio.value = String(index);
    radio.addEventListener('change', function () { setLayer(index); });
    label.appendChild(radio);
    label.appendChild(document.createTextNode(' ' + (index < 9 ? (index + 1) + '. ' : '') + layer.name));
    document.getElementById('layers').appendChild(label);
    return radio;
  });
  function setLayer(index) {
    current = index;
    radios[index].checked = true;
    const layer = layers[index], legend = document.getElementById('legend');
    document.getElementById('note').textContent = layer.note;
    legend.textContent = '';
    layer.legend.forEach(function (entry) {
      const item = document.createElement('li'), swatch = document.createElement('span');
      swatch.style.background = 'rgb(' + entry[1].join(',') + ')';
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(entry[0]));
      legend.appendChild(item);
    });
    document.body.dataset.layer = layer.name;
    redraw();
  }
  function layerFromHash() {
    const match = /(?:^#|&)layer=([^&]*)/.exec(location.hash);
    if (!match) return 0;
    const wanted = decodeURIComponent(match[1]).toLowerCase();
    const index = layers.findIndex(function (layer) { return layer.name.toLowerCase() === wanted; });
    if (index >= 0) return index;
    const number = parseInt(wanted, 10);
    return number >= 1 && number <= layers.length ? number - 1 : 0;
  }

  let drag = null;
  canvas.addEventListener('contextmenu', function (event) { event.preventDefault(); });
  canvas.addEventListener('pointerdown', function (event) {
    drag = {x: event.clientX, y: event.clientY, pan: event.shiftKey || event.button === 2};
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', function (event) {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    drag.x = event.clientX; drag.y = event.clientY;
    if (drag.pan) {
      const scale = viewScale() / (window.devicePixelRatio || 1);
      view.panX += dx / scale; view.panY -= dy / scale;
    } else {
      view.yaw -= 0.01 * dx;
      view.pitch = Math.min(Math.PI / 2, Math.max(-Math.PI / 2, view.pitch + 0.01 * dy));
    }
    redraw();
  });
  canvas.addEventListener('pointerup', function () { drag = null; });
  canvas.addEventListener('wheel', function (event) {
    event.preventDefault();
    view.zoom *= Math.exp(-0.0015 * event.deltaY);
    redraw();
  }, {passive: false});
  canvas.addEventListener('dblclick', function () { Object.assign(view, HOME); redraw(); });
  window.addEventListener('keydown', function (event) {
    const number = parseInt(event.key, 10);
    if (number >= 1 && number <= layers.length) setLayer(number - 1);
  });
  const slider = document.getElementById('size');
  slider.addEventListener('input', function () {
    pointSize = parseInt(slider.value, 10);
    document.getElementById('size-value').textContent = pointSize ? String(pointSize) : 'auto';
    redraw();
  });
  window.addEventListener('resize', resize);
  window.addEventListener('hashchange', function () { setLayer(layerFromHash()); });

  document.getElementById('title').textContent = data.title;
  document.getElementById('count').textContent = n === data.totalPoints ? n + ' points'
    : n + ' of ' + data.totalPoints + ' points (uniform random subsample)';
  document.body.dataset.points = String(n);
  setLayer(layerFromHash());
  resize();
})();"""
