"""Prepare datasets.

  # SynthRooms, the embedded demo: generate raw scans (ScanNet layout) -> convert -> simulated-labeller anchors
  python tools/create_data.py synthrooms --out data/synthrooms [--num-train 24 --num-val 6 --num-test 10 --seed 0]
  # real ScanNet v2 (meshes in ROOT/scans, SensReader frame exports in FRAMES or ROOT/scans)
  python tools/create_data.py scannet --root /datasets/scannet --out data/scannet [--frames-root FRAMES]
  # SynthStreet, the embedded outdoor set: generate (official nuScenes layout) -> convert -> anchors
  python tools/create_data.py synthstreet --out data/synthstreet [--samples-per-scene 8 --seed 0]
  # real nuScenes lidarseg (official layout: v1.0-*/ tables, samples/, sweeps/, lidarseg/), with nuscenes-devkit
  python tools/create_data.py nuscenes --root data/nuscenes --version v1.0-trainval --out data/nuscenes
"""
import argparse
import importlib

from hicl.converters.nuscenes import DEFAULT_LIDAR_SET_OPTIONS, VERSION_SPLITS, convert_nuscenes
from hicl.converters.scannet import convert_scannet
from hicl.synthrooms.prepare import prepare_synthrooms
from hicl.synthstreet.prepare import prepare_synthstreet


def int_at_least(minimum):
    """An argparse ``type``: the option's value as an int; a value below ``minimum`` is refused at parsing (exit 2,
    the message names the option), before any work."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'expected an integer >= {minimum}, got {text!r}') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'must be >= {minimum}, got {value}')
        return value
    return parse


POSITIVE, NON_NEGATIVE = int_at_least(1), int_at_least(0)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='dataset', required=True)
    synth = sub.add_parser('synthrooms', help='generate and convert the embedded SynthRooms dataset')
    synth.add_argument('--out', default='data/synthrooms')
    synth.add_argument('--num-train', type=NON_NEGATIVE, default=24, help='train scenes (0: no train split)')
    synth.add_argument('--num-val', type=NON_NEGATIVE, default=6, help='val scenes (0: no val split)')
    synth.add_argument('--num-test', type=NON_NEGATIVE, default=10, help='test scenes (0: no test split)')
    synth.add_argument('--anchors', default='clip_like', choices=['clip_like', 'orthonormal'],
                       help='text anchors: CLIP-like pairwise cosines (default) or orthonormal ones')
    synth.add_argument('--frames-per-scene', type=POSITIVE, default=16)
    synth.add_argument('--seed', type=int, default=0)
    scannet = sub.add_parser('scannet', help='convert a raw ScanNet-layout dataset')
    scannet.add_argument('--root', required=True, help='folder with scans/ and scannetv2_<split>.txt')
    scannet.add_argument('--out', required=True)
    scannet.add_argument('--frames-root', help='SensReader exports <scene>/{color,depth,pose,intrinsic}')
    scannet.add_argument('--frame-step', type=POSITIVE, default=1, help='keep every k-th frame (100: the 25k subset)')
    scannet.add_argument('--max-frames', type=POSITIVE, help='at most this many frames per scene')
    scannet.add_argument('--splits', nargs='+', default=['train', 'val'])
    scannet.add_argument('--label-set', default='scannet20',
                         help='the label set of the raw label ids (recorded in the infos; a dataset config with '
                              'another label_set refuses them); your own: register it in a module and --import it')
    scannet.add_argument('--import', dest='imports', nargs='+', default=[], metavar='MODULE',
                         help='modules to import first, e.g. the one that registers your label set')
    scannet.add_argument('--sets', default='auto', choices=['auto', 'mesh', 'points', 'segs_json', 'none'],
                         help='geometric consistency sets: Felzenszwalb on the mesh (auto: points when the mesh has '
                              'no faces), or ScanNet\'s released segs.json; none to skip')
    scannet.add_argument('--sets-k', type=float, default=0.01, help='Felzenszwalb k (Segmentator: 0.01)')
    scannet.add_argument('--sets-min-size', type=POSITIVE, default=20, help='smallest set, vertices')
    street = sub.add_parser('synthstreet', help='generate and convert the embedded SynthStreet outdoor dataset')
    street.add_argument('--out', default='data/synthstreet')
    street.add_argument('--samples-per-scene', type=POSITIVE, default=8, help='keyframes in each of the 10 scenes')
    street.add_argument('--sweeps-per-sample', type=NON_NEGATIVE, default=0,
                        help='non-keyframe sweeps between keyframes')
    street.add_argument('--seed', type=int, default=0)
    street.add_argument('--azimuth-steps', type=POSITIVE, default=542,
                        help='LiDAR columns per revolution (nuScenes: 1084; 542 halves the points and CPU training)')
    nuscenes = sub.add_parser('nuscenes', help='convert the official nuScenes layout (lidarseg) with nuscenes-devkit')
    nuscenes.add_argument('--root', required=True, help='folder with <version>/, samples/, sweeps/ and lidarseg/')
    nuscenes.add_argument('--version', default='v1.0-trainval', choices=sorted(VERSION_SPLITS))
    nuscenes.add_argument('--out', required=True, help='where the infos and sets/ go (usually --root)')
    nuscenes.add_argument('--splits', nargs='+', help='default: train and val (test for v1.0-test)')
    nuscenes.add_argument('--max-sweeps', type=NON_NEGATIVE, default=10, help='earlier sweeps recorded per keyframe')
    nuscenes.add_argument('--no-sets', action='store_true', help='skip the per-sweep geometric consistency sets')
    for p in (street, nuscenes):
        p.add_argument('--sets-k', type=float, default=DEFAULT_LIDAR_SET_OPTIONS['k'], help='segment_lidar merge scale')
        p.add_argument('--sets-max-gap', type=float, default=DEFAULT_LIDAR_SET_OPTIONS['max_gap'],
                       help='longest edge of the sweep graph, metres')
    for p in (synth, scannet, street, nuscenes):
        p.add_argument('--workers', type=POSITIVE, default=2, help='scenes converted in parallel')
        p.add_argument('--overwrite', action='store_true', help='redo scenes (sweeps) whose outputs exist')
    args = parser.parse_args()
    if args.dataset == 'synthrooms' and not args.num_train + args.num_val + args.num_test:
        synth.error('--num-train, --num-val and --num-test are all 0: no scene to generate')
    return args


def prepare_outdoor(args):
    """SynthStreet (generate, convert) or real nuScenes (convert); prints the infos and the sets' counts."""
    sets = dict(DEFAULT_LIDAR_SET_OPTIONS, k=args.sets_k, max_gap=args.sets_max_gap)
    if args.dataset == 'synthstreet':
        result = prepare_synthstreet(args.out, samples_per_scene=args.samples_per_scene,
                                     sweeps_per_sample=args.sweeps_per_sample, seed=args.seed, sets=sets,
                                     workers=args.workers, overwrite=args.overwrite, azimuth_steps=args.azimuth_steps)
        print(f'text anchors: {result["anchors_file"]}')
    else:
        result = convert_nuscenes(args.root, args.out, version=args.version, splits=args.splits,
                                  max_sweeps=args.max_sweeps, sets=None if args.no_sets else sets,
                                  workers=args.workers, overwrite=args.overwrite)
    for split, path in result['infos'].items():
        print(f'{split}: {path} ({result["samples"][split]} samples)')
    print(f'sets: {result["sets_written"]} sweeps computed, {result["sets_reused"]} up to date')


def print_set_purity(data_root, infos):
    """Per split: the mean and the lowest instance and class purity of the geometric consistency sets."""
    from hicl.evaluation.refinement import scene_set_purity
    for split in infos:
        rows = scene_set_purity(data_root, split)
        for key in ('instance_purity', 'class_purity'):
            values = [row[key] for row in rows if row[key] is not None]
            if values:
                worst = min(rows, key=lambda row: row[key] if row[key] is not None else 2)
                print(f'{split}: set {key.replace("_", " ")} mean {sum(values) / len(values):.3f}, '
                      f'min {worst[key]:.3f} ({worst["scene_id"]}); {sum(r["sets"] for r in rows) / len(rows):.0f} '
                      f'sets per scene')


def main():
    args = parse_args()
    if args.dataset in ('synthstreet', 'nuscenes'):
        prepare_outdoor(args)
        return
    if args.dataset == 'synthrooms':
        result = prepare_synthrooms(args.out, num_train=args.num_train, num_val=args.num_val,
                                    num_test=args.num_test, seed=args.seed, frames_per_scene=args.frames_per_scene,
                                    workers=args.workers, overwrite=args.overwrite, anchors=args.anchors)
        cosine = result['anchor_cosine']
        print(f'text anchors: {result["anchors_file"]} ({args.anchors}; pairwise cosine mean {cosine["mean"]:.3f}, '
              f'min {cosine["min"]:.3f}, max {cosine["max"]:.3f}; confusable pairs {cosine["confusable_mean"]:.3f}, '
              f'others {cosine["other_mean"]:.3f})')
        print_set_purity(args.out, result['infos'])
    else:
        for module in args.imports:
            importlib.import_module(module)
        result = convert_scannet(args.root, args.out, splits=args.splits, workers=args.workers,
                                 label_set=args.label_set,
                                 frames_root=args.frames_root, frame_step=args.frame_step,
                                 max_frames=args.max_frames, overwrite=args.overwrite,
                                 sets=None if args.sets == 'none' else dict(source=args.sets, k=args.sets_k,
                                                                            min_size=args.sets_min_size))
    for split, path in result['infos'].items():
        print(f'{split}: {path}')
    print(f'{len(result["converted"])} scenes converted, {len(result["reused"])} up to date')


if __name__ == '__main__':
    main()
