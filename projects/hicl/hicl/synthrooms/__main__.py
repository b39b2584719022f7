"""Command line: python -m hicl.synthrooms OUT_ROOT [options]; writes SynthRooms in ScanNet's raw layout."""
import argparse
import time

from .generate import generate_synthrooms


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_root', help='dataset root, e.g. data/synthrooms/raw')
    parser.add_argument('--num-train', type=int, default=24)
    parser.add_argument('--num-val', type=int, default=6)
    parser.add_argument('--num-test', type=int, default=10)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--frames', type=int, default=16, help='frames per scene')
    parser.add_argument('--color-size', type=int, nargs=2, default=(640, 480), metavar=('W', 'H'))
    parser.add_argument('--depth-size', type=int, nargs=2, default=(320, 240), metavar=('W', 'H'))
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--overwrite', action='store_true')
    args = parser.parse_args(argv)
    start = time.time()
    names = generate_synthrooms(args.out_root, args.num_train, args.num_val, args.num_test, args.seed, args.frames,
                                args.color_size, args.depth_size, args.workers, args.overwrite)
    print(f'{len(names)} scenes in {args.out_root} ({time.time() - start:.1f} s)')


if __name__ == '__main__':
    main()
