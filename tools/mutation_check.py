"""Mutation check of the method's core: python tools/mutation_check.py [--only NAME ...] [--out FILE] [--list].

Each entry of tests/mutation/catalogue.py is a deliberate one-line bug (a detached feature, a swapped KL, an
off-by-one quota, a transposed projection, ...). The check copies the repository to a temporary folder once, runs
the entries' tests there unmutated (the baseline), then applies each bug alone in the copy and runs its tests: a
bug must make a test fail (killed). The real working tree is never modified. Prints a table (mutation, file:line,
result, the killing test); --out writes it as markdown. Exit status 1 when a mutation survives (its tests all
pass), errors or is stale (its original text moved), so the check can serve as a gate; 0 otherwise.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # the repository root: the tests package

from tests.mutation.runner import (DEFAULT_TIMEOUT, gate_passes, location_of, markdown_table,  # noqa: E402
                                   run_mutations, select, summary, text_table)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', metavar='NAME', help='run only these mutations')
    parser.add_argument('--out', metavar='FILE', help='also write the result table to FILE (markdown)')
    parser.add_argument('--list', action='store_true', help='list the catalogue (and stale entries) and exit')
    parser.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT,
                        help=f'seconds allowed per pytest run (default {DEFAULT_TIMEOUT})')
    return parser.parse_args()


def list_catalogue(mutations):
    """Print each mutation: name, file:line (or STALE), what it breaks, its tests."""
    for mutation in mutations:
        equivalent = ' [equivalent]' if mutation.equivalent else ''
        print(f'{mutation.name}{equivalent}  {location_of(mutation) or "STALE: " + mutation.path}\n'
              f'    {mutation.description}\n    tests: {" ".join(mutation.tests)}')


def main():
    args = parse_args()
    try:
        mutations = select(args.only)
    except KeyError as error:
        sys.exit(f'error: {error.args[0]}')
    if args.list:
        list_catalogue(mutations)
        return 0
    start = time.monotonic()
    outcomes = run_mutations(mutations, args.timeout, report=lambda line: print(line, flush=True))
    minutes = (time.monotonic() - start) / 60
    print('\n' + text_table(outcomes) + f'\n\n{summary(outcomes)} in {minutes:.1f} min')
    if args.out:
        with open(args.out, 'w') as file:
            file.write(markdown_table(outcomes) + f'\n{summary(outcomes)} in {minutes:.1f} min\n')
    return 0 if gate_passes(outcomes) else 1


if __name__ == '__main__':
    sys.exit(main())
