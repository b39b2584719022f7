"""Prepare datasets.

  # SynthRooms, the embedded demo: generate raw scans (ScanNet layout) -> convert -> simulated-labeller anchors
  python tools/create_data.py synthrooms --out data/synthrooms [--num-train 24 --num-val 6 --seed 0]
  # real ScanNet v2 (meshes in ROOT/scans, SensReader frame exports in FRAMES or ROOT/scans)
  python tools/create_data.py scannet --root /datasets/scannet --out data/scannet [--frames-root FRAMES]
"""
import argparse

from hicl.datasets.converter import convert_scannet
from hicl.synthrooms.prepare import prepare_synthrooms


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='dataset', required=True)
    synth = sub.add_parser('synthrooms', help='generate and convert the embedded SynthRooms dataset')
    synth.add_argument('--out', default='data/synthrooms')
    synth.add_argument('--num-train', type=int, default=24)
    synth.add_argument('--num-val', type=int, default=6)
    synth.add_argument('--frames-per-scene', type=int, default=16)
    synth.add_argument('--seed', type=int, default=0)
    scannet = sub.add_parser('scannet', help='convert a raw ScanNet-layout dataset')
    scannet.add_argument('--root', required=True, help='folder with scans/ and scannetv2_<split>.txt')
    scannet.add_argument('--out', required=True)
    scannet.add_argument('--frames-root', help='SensReader exports <scene>/{color,depth,pose,intrinsic}')
    scannet.add_argument('--frame-step', type=int, default=1, help='keep every k-th frame (100: the 25k subset)')
    scannet.add_argument('--max-frames', type=int, help='at most this many frames per scene')
    scannet.add_argument('--splits', nargs='+', default=['train', 'val'])
    scannet.add_argument('--sets', default='auto', choices=['auto', 'mesh', 'points', 'segs_json', 'none'],
                         help='geometric consistency sets: Felzenszwalb on the mesh (auto: points when the mesh has '
                              'no faces), or ScanNet\'s released segs.json; none to skip')
    scannet.add_argument('--sets-k', type=float, default=0.01, help='Felzenszwalb k (Segmentator: 0.01)')
    scannet.add_argument('--sets-min-size', type=int, default=20, help='smallest set, vertices')
    for p in (synth, scannet):
        p.add_argument('--workers', type=int, default=2, help='scenes converted in parallel')
        p.add_argument('--overwrite', action='store_true', help='redo scenes whose outputs exist')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.dataset == 'synthrooms':
        result = prepare_synthrooms(args.out, num_train=args.num_train, num_val=args.num_val, seed=args.seed,
                                    frames_per_scene=args.frames_per_scene, workers=args.workers,
                                    overwrite=args.overwrite)
        print(f'text anchors: {result["anchors_file"]}')
    else:
        result = convert_scannet(args.root, args.out, splits=args.splits, workers=args.workers,
                                 frames_root=args.frames_root, frame_step=args.frame_step,
                                 max_frames=args.max_frames, overwrite=args.overwrite,
                                 sets=None if args.sets == 'none' else dict(source=args.sets, k=args.sets_k,
                                                                            min_size=args.sets_min_size))
    for split, path in result['infos'].items():
        print(f'{split}: {path}')
    print(f'{len(result["converted"])} scenes converted, {len(result["reused"])} up to date')


if __name__ == '__main__':
    main()
