"""What the correlation necks did in one or more trainings, as a markdown table.

python tools/correlation_report.py PATH [PATH ...] [--names NAME ...] [--out FILE.md]

Each PATH is one setting: a run's work dir, or a folder of runs (e.g. the seed<S> runs tools/ablate.py leaves
under --work-dir), averaged. Columns: the last validation's mIoU, then the instruments (README of
hicl.experiments.correlation_report): accuracies of the net's and the necks' logits on the sampled points against
the refined labels, how much each neck changes its features, attention entropy (1 = uniform) and lifts of the
attention mass on the same set / label (training) and true class (validation), loss_kl, agreement, compactness.
"""
import argparse
import os.path as osp

from hicl.experiments.correlation_report import instruments_table_markdown, run_dirs, run_summary, setting_row
from hicl.fileio import atomic_write


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('paths', nargs='+', help='run work dirs or folders of runs, one table row each')
    parser.add_argument('--names', nargs='+', help='row names (default: the paths)')
    parser.add_argument('--out', help='also write the table to this markdown file')
    return parser.parse_args()


def main():
    args = parse_args()
    names = args.names or [osp.normpath(path) for path in args.paths]
    if len(names) != len(args.paths):
        raise SystemExit(f'--names gives {len(names)} names for {len(args.paths)} paths')
    rows = [setting_row(name, [run_summary(run) for run in run_dirs(path)]) for name, path in zip(names, args.paths)]
    table = instruments_table_markdown(rows)
    print(table)
    if args.out:
        atomic_write(args.out, table)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
