"""Run a trained model on scans of your own: python tools/infer.py CONFIG CKPT SCAN [SCAN ...] --out DIR
[--up z|y|-y] [--scale S] [--no-color] [--bin-columns 4|5|6] [--text "a place to sit" ...]

Reads each SCAN (PLY, PCD, LAS, OBJ/GLB/GLTF, NPY/NPZ, BIN, TXT/XYZ: docs/using_a_model.md, "Your own scan"), drops
NaN/Inf and duplicate points, turns it z-up and into metres, runs the 3D net on it, and writes into DIR per scan:
<name>.labels.npy (class id per point, in the file's point order after cleaning), <name>.scores.npy (the softmax
probability of that class), <name>.ply (class colours; the input colours as input_red/green/blue) and
<name>.html (the self-contained viewer: RGB, prediction, one layer per --text); prints the per-class table.
"""
import argparse
import os.path as osp

from hicl.engine.runtime import ConfigOptionsAction, add_settings_mismatch_argument, load_config
from hicl.fileio import UnwritableFolderError, check_writable_folder
from hicl.open_vocabulary import CLIP_WEIGHTS_HELP, DEFAULT_CLIP_MODEL
from hicl.scans.conventions import UP_ROTATIONS
from hicl.scans.readers import scan_name
from hicl.text_queries import add_score_arguments, check_score_arguments


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint (.pth) of tools/train.py or tools/export_3d_net.py')
    parser.add_argument('scans', nargs='+', metavar='SCAN', help='point cloud or mesh files')
    parser.add_argument('--out', required=True, help='output folder (created)')
    parser.add_argument('--up', choices=sorted(UP_ROTATIONS), default='z',
                        help="the scan's up axis: y or -y for y-up exports (phones, photogrammetry, glTF)")
    parser.add_argument('--scale', type=float, default=1.0, help='multiply coordinates to get metres (mm: 0.001)')
    parser.add_argument('--no-color', action='store_true',
                        help='run a model trained with colour on a scan without it (grey points: much worse)')
    parser.add_argument('--bin-columns', type=int, choices=(4, 5, 6),
                        help='float32 values per point of a .bin (default 5 for *.pcd.bin, else 4)')
    parser.add_argument('--text', action='append', default=[], help='text query shown as a viewer layer')
    add_score_arguments(parser)
    parser.add_argument('--clip-model', default=DEFAULT_CLIP_MODEL, help='open_clip model of the text tower')
    parser.add_argument('--clip-pretrained', help=CLIP_WEIGHTS_HELP)
    parser.add_argument('--max-points', type=int, help='subsample the viewer page to this many points')
    parser.add_argument('--points-per-pass', type=int, default=1_000_000,
                        help='the most points one pass of the net takes (the memory budget; default 1,000,000); a '
                             'larger scan runs in overlapping ground-plane tiles')
    parser.add_argument('--tile-margin', type=float, default=2.0,
                        help='metres of context around each tile\'s points (default 2)')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    add_settings_mismatch_argument(parser)
    args = parser.parse_args(argv)
    check_score_arguments(parser, args)
    if not args.scale > 0:
        parser.error(f'--scale must be > 0, got {args.scale}')
    if args.points_per_pass < 1000 or not args.tile_margin >= 0:
        parser.error(f'--points-per-pass must be >= 1000 and --tile-margin >= 0, got {args.points_per_pass} and '
                     f'{args.tile_margin}')
    stems = [scan_name(path) for path in args.scans]
    if len(set(stems)) != len(stems):
        parser.error(f'scans with the same name would write the same outputs: {sorted(stems)}')
    try:
        check_writable_folder(args.out)
    except UnwritableFolderError as error:
        parser.error(str(error))
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    from tqdm import tqdm

    from hicl.inference import config_metainfo, load_inference_model, predict_scan
    from hicl.scans import normalise_scan, read_scan
    from hicl.scans.outputs import class_table, format_class_table, write_scan_outputs
    from hicl.text_queries import query_scorer
    model = load_inference_model(cfg, args.checkpoint, args.allow_settings_mismatch)
    classes, palette = config_metainfo(cfg, 'classes'), config_metainfo(cfg, 'palette')
    score = (query_scorer(args.text, cfg.model.decode_head.get('anchors_file'), args.score, args.vocabulary,
                          args.clip_model, args.clip_pretrained) if args.text else None)

    def tile_progress(tiles):
        return tqdm(tiles, desc='tiles', unit='tile', leave=False)

    for path in tqdm(args.scans, desc='scans', unit='scan'):
        scan, report = normalise_scan(read_scan(path, args.bin_columns), args.up, args.scale)
        prediction, queries = predict_scan(model, cfg, scan, args.no_color, args.points_per_pass, args.tile_margin,
                                           tile_progress, score)
        written = write_scan_outputs(prediction, args.out, scan_name(path), classes, palette, queries,
                                     args.max_points,
                                     f'{osp.basename(path)}, {osp.basename(args.checkpoint)}')
        print(f'{path}: {report["points"]} points ({report["points_read"]} read, {report["non_finite"]} NaN/Inf '
              f'and {report["duplicates"]} duplicates dropped); wrote {", ".join(sorted(written.values()))}')
        print(format_class_table(class_table(prediction.prediction, classes)))


if __name__ == '__main__':
    main()
