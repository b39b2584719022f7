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
arrays; class colours come from :func:`hicl.vis.colours.label_colours`, set colours from
:func:`hicl.vis.colours.set_colours`.
"""
import base64
import html
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from string import Template
from typing import NamedTuple

import numpy as np

from ..fileio import atomic_write
from .colours import (ERROR_CORRECT, ERROR_UNLABELLED, ERROR_WRONG, UNLABELLED_GREY, error_colours, heatmap_colours,
                      label_colours, rgb8, set_colours)

DEFAULT_MAX_POINTS = 300_000
PAGE_BUDGET_BYTES = 20_000_000
PAGE_FOLDER = 'viewer_page'  # page.html, viewer.css, viewer.js
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
    set (:func:`hicl.vis.colours.set_colours`)."""
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


@lru_cache(maxsize=1)
def page_files():
    """(template, style, script) of the page: ``viewer_page/page.html`` as a :class:`string.Template` with the
    fields TITLE, BACKGROUND, STYLE, DATA and SCRIPT, and the texts of ``viewer.css`` and ``viewer.js`` (package
    data beside this module)."""
    folder = resources.files(__package__) / PAGE_FOLDER
    return tuple([Template((folder / 'page.html').read_text(encoding='utf-8'))]
                 + [(folder / name).read_text(encoding='utf-8') for name in ('viewer.css', 'viewer.js')])


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
    template, style, script = page_files()
    page = template.substitute(TITLE=html.escape(title or 'scene'), BACKGROUND=', '.join(map(str, BACKGROUND)),
                               STYLE=style, DATA=json.dumps(data).replace('<', '\\u003c'), SCRIPT=script)
    page = page.encode('utf-8')
    atomic_write(path, lambda file: file.write(page))
    return PageSummary(points=len(keep), total_points=len(xyz), size_bytes=len(page))
