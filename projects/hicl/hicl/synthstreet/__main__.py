"""Command line: python -m hicl.synthstreet ROOT [options]; writes SynthStreet as nuScenes v1.0-mini."""
import argparse
import time

from .generate import generate_synthstreet


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('root', help='dataset root, e.g. data/synthstreet')
    parser.add_argument('--samples', type=int, default=8, help='keyframes per scene')
    parser.add_argument('--sweeps', type=int, default=0, help='LiDAR sweeps between consecutive keyframes')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--image-size', type=int, nargs=2, default=(400, 225), metavar=('W', 'H'))
    parser.add_argument('--azimuth-steps', type=int, default=1084, help='LiDAR columns per revolution')
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--overwrite', action='store_true')
    args = parser.parse_args(argv)
    start = time.time()
    result = generate_synthstreet(args.root, args.samples, args.sweeps, args.seed, args.image_size,
                                  args.azimuth_steps, args.workers, args.overwrite)
    print(f'{len(result["scenes"])} scenes, {result["num_samples"]} samples in {args.root} '
          f'({time.time() - start:.1f} s)')


if __name__ == '__main__':
    main()
