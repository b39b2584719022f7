"""Text queries on a scene: python tools/query.py CONFIG CKPT --scene ID --text "a place to sit" [--text ...]

Per query, writes <out>/<scene>.<query>.ply (points coloured by the score, viridis; field ``score``: the raw score)
and <out>/<scene>.<query>.png (top-down: RGB and the score), and prints the score's range, what it is and how it is
coloured, and which true classes the top-scoring points have (hicl/text_queries.py).

--score cosine (default): the cosine similarity of each point's feature and the text's embedding, both
L2-normalised, raw in [-1, 1]; colours min-max over the scene, per text (its lowest point dark purple, its highest
yellow). --score softmax [--vocabulary NAME_OR_FILE]: the probability of the text when it competes with the model's
classes (or the vocabulary's names), softmax([<f, q>, <f, T_1>, ..., <f, T_C>])[0], in [0, 1]; colours fixed from 0
to 1; class anchors with a cosine >= 0.99 to the text's are left out of its competitors, and named.
Texts that are class names of the model's anchor file take those anchors; free texts need the CLIP text tower
(--clip-pretrained) and a model trained with CLIP anchors.
"""
import argparse
import os.path as osp
import textwrap

from hicl.engine.runtime import ConfigOptionsAction, add_settings_mismatch_argument, load_config
from hicl.fileio import UnwritableFolderError, check_writable_folder
from hicl.inference import SPLITS
from hicl.open_vocabulary import CLIP_WEIGHTS_HELP, DEFAULT_CLIP_MODEL
from hicl.text_queries import add_score_arguments, check_score_arguments, query_slugs


def query_text(value):
    """--text: a text with at least one non-blank character."""
    if not value.strip():
        raise argparse.ArgumentTypeError(f'{value!r} is empty: a query needs words, e.g. --text "a chair"')
    return value


def top_share(value):
    """--top: a float in (0, 1]."""
    try:
        number = float(value)
    except ValueError:
        number = float('nan')
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f'{value} is not a share in (0, 1]: e.g. 0.01 for the top 1%, 1 for all')
    return number


def parse_args():
    """The options, checked before any work: distinct output names per text (``args.slugs``) and a writable
    ``args.out`` (created; default work_dirs/query/<scene>)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint (.pth) of tools/train.py or tools/export_3d_net.py')
    parser.add_argument('--scene', required=True, metavar='ID', help='scene id, e.g. scene0030_00')
    parser.add_argument('--split', default='test', choices=SPLITS, help='split the scene is in (default: test)')
    parser.add_argument('--text', action='append', required=True, type=query_text, help='text query (repeatable)')
    parser.add_argument('--out', help='output folder (default: work_dirs/query/<scene>)')
    parser.add_argument('--top', type=top_share, default=0.01,
                        help='share in (0, 1] of the labelled points, highest scores first, whose true classes are '
                             'printed (default: 0.01)')
    add_score_arguments(parser)
    parser.add_argument('--clip-model', default=DEFAULT_CLIP_MODEL, help='open_clip model of the text tower')
    parser.add_argument('--clip-pretrained', help=CLIP_WEIGHTS_HELP)
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    args = add_settings_mismatch_argument(parser).parse_args()
    check_score_arguments(parser, args)
    try:
        args.slugs = query_slugs(args.text)
    except ValueError as err:
        parser.error(f'--text: {err}')
    args.out = args.out or osp.join('work_dirs', 'query', args.scene)
    try:
        check_writable_folder(args.out)
    except UnwritableFolderError as err:
        parser.error(f'--out: {err}')
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    from hicl.inference import build_split_dataset, load_inference_model, predict_scenes
    from hicl.text_queries import query_scorer, top_point_classes
    from hicl.vis.colours import heatmap_colours
    from hicl.vis.ply import write_point_ply
    from hicl.vis.top_down import render_top_down
    model = load_inference_model(cfg, args.checkpoint, args.allow_settings_mismatch)
    dataset = build_split_dataset(cfg, args.split)
    score = query_scorer(args.text, cfg.model.decode_head.get('anchors_file'), args.score, args.vocabulary,
                         args.clip_model, args.clip_pretrained)
    scene = next(predict_scenes(model, dataset, [args.scene]))
    for query, slug in zip(score(scene.features), args.slugs):
        stem = osp.join(args.out, f'{args.scene}.{slug}')
        low, high = query.colour_range
        colours = heatmap_colours(query.scores, low, high)
        size = write_point_ply(f'{stem}.ply', scene.xyz, colours, score=query.scores)
        render_top_down(scene.xyz, [('RGB', scene.rgb / 255.0),
                                    (f'"{query.text}" ({query.method}, {low:.3f} to {high:.3f})', colours / 255.0)],
                        f'{stem}.png', textwrap.fill(f'{args.scene}, "{query.text}": {query.statement()}', 110))
        print(f'"{query.text}": {query.method} mean {query.scores.mean():.3f}, min {query.scores.min():.3f}, max '
              f'{query.scores.max():.3f}; wrote {stem}.ply ({size / 1e6:.1f} MB) and {stem}.png')
        print(f'  score: {query.statement()}')
        top = top_point_classes(query.scores, scene.truth, dataset.metainfo['classes'], args.top)
        if top:
            print(f'  true classes of the top {100 * args.top:g}% labelled points: '
                  + ', '.join(f'{name} {100 * share:.0f}%' for name, share in top[:5]))


if __name__ == '__main__':
    main()
