"""Write a self-contained browser page per scene (no server, no network; hicl/vis/viewer.py):
python tools/visualize.py CONFIG CKPT --scene ID [--scene ID ...] --html OUT_DIR_OR_FILE [--text "a chair" ...]

Layers: RGB, ground truth, prediction and errors (when the scene has labels), one heatmap per --text and the
geometric consistency sets (when the converter wrote <data_root>/sets/<scene>.bin). A text's heatmap is scored as by
tools/query.py (hicl/text_queries.py; --score): by default the cosine similarity of each point's feature and the
text's embedding, both L2-normalised, coloured min-max over the scene; with --score softmax the probability of the
text against the model's classes (or --vocabulary), coloured from 0 to 1. The layer's legend gives the scores of
its colours and its note says which score it is. Texts that are class names of the model's anchor file need nothing
more; free texts need the CLIP text tower (--clip-pretrained) and a model trained with CLIP anchors. Open a page
with any browser; <page>#layer=prediction opens it on that layer.
"""
import argparse
import os.path as osp

from hicl.engine.runtime import ConfigOptionsAction, add_settings_mismatch_argument, load_config
from hicl.inference import SPLITS
from hicl.open_vocabulary import CLIP_WEIGHTS_HELP, DEFAULT_CLIP_MODEL
from hicl.text_queries import add_score_arguments, check_score_arguments
from hicl.vis.viewer import DEFAULT_MAX_POINTS, PAGE_BUDGET_BYTES


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint (.pth) of tools/train.py or tools/export_3d_net.py')
    parser.add_argument('--scene', action='append', required=True, metavar='ID',
                        help='scene id, e.g. scene0030_00 (repeat for several scenes)')
    parser.add_argument('--split', default='test', choices=SPLITS, help='split the scenes are in (default: test)')
    parser.add_argument('--html', required=True, metavar='OUT',
                        help='folder for <scene>.html pages, or a .html file when there is one --scene')
    parser.add_argument('--text', action='append', default=[], help='text query shown as a heatmap (repeatable)')
    add_score_arguments(parser)
    parser.add_argument('--clip-model', default=DEFAULT_CLIP_MODEL, help='open_clip model of the text tower')
    parser.add_argument('--clip-pretrained', help=CLIP_WEIGHTS_HELP)
    parser.add_argument('--max-points', type=int,
                        help=f'points drawn per page at most, uniformly subsampled (default: {DEFAULT_MAX_POINTS}, '
                             f'fewer when the layers would make the page larger than {PAGE_BUDGET_BYTES / 1e6:.0f} MB)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the subsampling')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    args = add_settings_mismatch_argument(parser).parse_args()
    check_score_arguments(parser, args)
    if args.html.endswith('.html') and len(args.scene) > 1:
        parser.error(f'--html {args.html} is one file but {len(args.scene)} scenes were given: pass a folder')
    return args


def page_path(html_arg, scene):
    """Where the page of ``scene`` goes: ``html_arg`` itself when it is a .html file, else <html_arg>/<scene>.html."""
    return html_arg if html_arg.endswith('.html') else osp.join(html_arg, f'{scene}.html')


def scene_point_sets(data_info, xyz):
    """(N,) set ids of the (N, 3) points of a scene, read by the pipeline's LoadPointSets (which checks there is
    one per point), or None when the scene has no sets file."""
    from hicl.datasets.transforms.set_voting import LoadPointSets
    path = data_info.get('pts_sets_path')
    if not path or not osp.isfile(path):
        return None
    return LoadPointSets()(dict(data_info, points=xyz))['point_sets']


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    from tqdm import tqdm

    from hicl.inference import build_split_dataset, load_inference_model, predict_scenes, scene_ids
    from hicl.text_queries import query_scorer
    from hicl.vis.viewer import scene_layers, write_scene_page
    model = load_inference_model(cfg, args.checkpoint, args.allow_settings_mismatch)
    dataset = build_split_dataset(cfg, args.split)
    classes, palette = dataset.metainfo['classes'], dataset.metainfo['palette']
    score = (query_scorer(args.text, cfg.model.decode_head.get('anchors_file'), args.score, args.vocabulary,
                          args.clip_model, args.clip_pretrained) if args.text else None)
    index_of = {scene: index for index, scene in enumerate(scene_ids(dataset))}
    scenes = tqdm(predict_scenes(model, dataset, args.scene), total=len(args.scene), desc='scenes', unit='scene')
    for scene in scenes:
        queries = score(scene.features) if score else []
        point_sets = scene_point_sets(dataset.get_data_info(index_of[scene.scene_id]), scene.xyz)
        layers = scene_layers(scene.rgb, scene.prediction, classes, palette, scene.truth, queries, point_sets)
        path = page_path(args.html, scene.scene_id)
        title = f'{scene.scene_id} ({args.split} split), {osp.basename(args.checkpoint)}'
        summary = write_scene_page(path, scene.xyz, layers, title, args.max_points, args.seed)
        scenes.write(f'wrote {path}: {summary.size_bytes / 1e6:.1f} MB, {summary.points} of {summary.total_points} '
                     f'points, layers: {", ".join(layer.name for layer in layers)}')


if __name__ == '__main__':
    main()
