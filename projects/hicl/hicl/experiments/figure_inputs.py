"""What the figure CLIs (tools/plot_predictions.py, tools/plot_features.py) feed :mod:`hicl.vis.figures`: their
arguments, one or two trained nets run on the same scenes, and the per-scene rows of their predictions."""
import argparse

import numpy as np

from ..engine.runtime import ConfigOptionsAction, load_config
from ..inference import SPLITS, build_split_dataset, load_inference_model, predict_scenes, scene_ids
from ..vis.figures import MAX_MODELS, check_model_count

DEFAULT_NUM_SCENES = 3


def figure_argument_parser(description):
    """The arguments both figure CLIs take: ``--model NAME CONFIG CKPT`` (1 or 2), ``--scenes``, ``--split``,
    ``--out``, ``--cfg-options``. Parse with :func:`parse_figure_args`."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', nargs=3, action='append', default=[], metavar=('NAME', 'CONFIG', 'CKPT'),
                        help='a panel title, the config and a checkpoint of tools/train.py or tools/export_3d_net.py; '
                             f'give it once, or {MAX_MODELS} times to compare')
    parser.add_argument('--scenes', nargs='+', metavar='ID',
                        help=f'scene ids (default: the first {DEFAULT_NUM_SCENES} scenes of the split)')
    parser.add_argument('--split', choices=SPLITS, default='test', help='the config loader whose scenes are drawn')
    parser.add_argument('--out', required=True, help='PNG file to write')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction,
                        help='override keys of every model\'s config, key=value')
    return parser


def parse_figure_args(parser, argv=None):
    """Parse ``argv`` (default: sys.argv) with a :func:`figure_argument_parser`; a usage error unless 1 or
    ``MAX_MODELS`` models are given."""
    args = parser.parse_args(argv)
    try:
        check_model_count([name for name, _, _ in args.model])
    except ValueError as error:
        parser.error(str(error))
    return args


def model_predictions(models, split='test', scenes=None, cfg_options=None):
    """Run each model on the same scenes of a split.

    Args:
        models: 1 or 2 (name, config path, checkpoint path) triples.
        split: 'train', 'val' or 'test': the dataset of the config's loader of that split, with the test pipeline.
        scenes: scene ids; None: the split's first ``DEFAULT_NUM_SCENES`` scenes.
        cfg_options: dict of config overrides applied to every model's config (as ``--cfg-options``).
    Yields, per model, (name, dataset metainfo, iterator of :class:`~hicl.inference.ScenePrediction` over the
    scenes); an unknown scene id raises KeyError when the iterator starts.
    """
    check_model_count([name for name, _, _ in models])
    for name, config, checkpoint in models:
        cfg = load_config(config, cfg_options)
        dataset = build_split_dataset(cfg, split)
        chosen = scenes or scene_ids(dataset)[:DEFAULT_NUM_SCENES]
        yield name, dataset.metainfo, predict_scenes(load_inference_model(cfg, checkpoint), dataset, chosen)


def align_scenes(per_model):
    """Per scene, the tuple of each model's prediction, from one list of ScenePrediction per model.

    Raises ValueError when the models saw different scenes or points (their configs load different data)."""
    rows = list(zip(*per_model))
    for row in rows:
        first = row[0]
        for other in row[1:]:
            if other.scene_id != first.scene_id or not (np.array_equal(other.xyz, first.xyz)
                                                        and np.array_equal(other.truth, first.truth)):
                raise ValueError(f'the models see different points or truth for {first.scene_id} / {other.scene_id}:'
                                 ' give configs with the same dataset, split and test pipeline')
    return rows
