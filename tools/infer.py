"""Run a trained model on scans of your own: python tools/infer.py CONFIG CKPT SCAN [SCAN ...] --out DIR
[--up z|y|-y] [--scale S] [--intensity-scale S] [--no-color] [--bin-columns 4|5|6] [--text "a place to sit" ...]
[--vocabulary NAME_OR_FILE] [--sets] [--points-per-pass N] [--tile-margin M]

Reads each SCAN (PLY, PCD, LAS, OBJ/GLB/GLTF, NPY/NPZ, BIN, TXT/XYZ: docs/using_a_model.md, "Your own scan"), drops
NaN/Inf and duplicate points, turns it z-up and into metres, runs the 3D net on it (in overlapping tiles of at most
--points-per-pass points when it is larger), and writes into DIR per scan:
<name>.labels.npy (class id per point of the file, in its order: -1 for a NaN/Inf point, a repeated point's copies
alike), <name>.scores.npy (the softmax probability of that class; NaN for a NaN/Inf point), <name>.ply (the cleaned
points in class colours; the input colours as input_red/green/blue) and <name>.html (the self-contained viewer: RGB,
prediction, one layer per --text, the sets with --sets); prints the per-class table.
--vocabulary segments into another class list (configs/vocabularies/*.json), as tools/test.py does.
The same from Python: hicl.inference.infer_scans.
"""
import argparse

from hicl.engine.runtime import (DEVICES, ConfigOptionsAction, TrainingOptionError, add_settings_mismatch_argument,
                                 load_config, resolve_device)
from hicl.fileio import UnwritableFolderError, check_writable_folder
from hicl.open_vocabulary import CLIP_WEIGHTS_HELP, DEFAULT_CLIP_MODEL
from hicl.scans.conventions import UP_ROTATIONS
from hicl.scans.readers import scan_name
from hicl.text_queries import add_score_arguments

VOCABULARY_HELP = ('segment with this vocabulary instead of the model\'s classes, as tools/test.py --vocabulary '
                   '(a JSON file, or a name in configs/vocabularies); --score softmax texts then compete with '
                   'its names')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint (.pth) of tools/train.py or tools/export_3d_net.py')
    parser.add_argument('scans', nargs='+', metavar='SCAN', help='point cloud or mesh files')
    parser.add_argument('--out', required=True, help='output folder (created)')
    parser.add_argument('--up', choices=sorted(UP_ROTATIONS), default='z',
                        help="the scan's up axis: y or -y for y-up exports (phones, photogrammetry, glTF)")
    parser.add_argument('--scale', type=float, default=1.0, help='multiply coordinates to get metres (mm: 0.001)')
    parser.add_argument('--intensity-scale', type=float, default=1.0,
                        help='multiply LiDAR intensity (255 for KITTI remission in [0, 1] with a nuScenes model)')
    parser.add_argument('--no-color', action='store_true',
                        help='run a model trained with colour on a scan without it (grey points: much worse)')
    parser.add_argument('--bin-columns', type=int, choices=(4, 5, 6),
                        help='float32 values per point of a .bin (default 5 for *.pcd.bin, else 4)')
    parser.add_argument('--text', action='append', default=[], help='text query shown as a viewer layer')
    add_score_arguments(parser, vocabulary_help=VOCABULARY_HELP)
    parser.add_argument('--clip-model', default=DEFAULT_CLIP_MODEL, help='open_clip model of the text tower')
    parser.add_argument('--clip-pretrained', help=CLIP_WEIGHTS_HELP)
    parser.add_argument('--sets', action='store_true',
                        help='add the geometric consistency sets (Segmentator on the points) as a viewer layer and '
                             '<name>.sets.npy (minutes on millions of points)')
    parser.add_argument('--max-points', type=int, help='subsample the viewer page to this many points')
    parser.add_argument('--points-per-pass', type=int, default=1_000_000,
                        help='the most points one pass of the net takes (the memory budget; default 1,000,000); a '
                             'larger scan runs in overlapping ground-plane tiles')
    parser.add_argument('--tile-margin', type=float, default=2.0,
                        help='metres of context around each tile\'s points (default 2)')
    parser.add_argument('--device', choices=('auto', *DEVICES), default='cpu',
                        help="where the net runs (default cpu; 'auto': cuda when there is a GPU)")
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    add_settings_mismatch_argument(parser)
    args = parser.parse_args(argv)
    if not args.scale > 0 or not args.intensity_scale > 0:
        parser.error(f'--scale and --intensity-scale must be > 0, got {args.scale} and {args.intensity_scale}')
    if args.points_per_pass < 1000 or not args.tile_margin >= 0:
        parser.error(f'--points-per-pass must be >= 1000 and --tile-margin >= 0, got {args.points_per_pass} and '
                     f'{args.tile_margin}')
    stems = [scan_name(path) for path in args.scans]
    if len(set(stems)) != len(stems):
        parser.error(f'scans with the same name would write the same outputs: {sorted(stems)}')
    try:
        check_writable_folder(args.out)
        args.device = resolve_device(args.device)
    except (UnwritableFolderError, TrainingOptionError) as error:
        parser.error(str(error))
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    from tqdm import tqdm

    from hicl.inference import infer_scans
    from hicl.scans.outputs import format_class_table
    results = infer_scans(cfg, args.checkpoint, args.scans, args.out, up=args.up, scale=args.scale,
                          intensity_scale=args.intensity_scale, no_color=args.no_color,
                          bin_columns=args.bin_columns, texts=args.text, score=args.score,
                          vocabulary=args.vocabulary, clip_model=args.clip_model,
                          clip_pretrained=args.clip_pretrained, sets=args.sets, page_points=args.max_points,
                          points_per_pass=args.points_per_pass, tile_margin=args.tile_margin,
                          allow_settings_mismatch=args.allow_settings_mismatch, device=args.device,
                          progress=tqdm)
    for result in results:
        report = result.report
        print(f'{result.path}: {report.points} points ({report.points_read} read, {report.non_finite} '
              f'NaN/Inf and {report.duplicates} duplicates dropped); wrote '
              f'{", ".join(sorted(result.outputs.values()))}')
        print(format_class_table(result.table))


if __name__ == '__main__':
    main()
