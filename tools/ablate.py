"""Train and test ablation configs over several seeds; write the mIoU table (markdown) and val mIoU curves (PNG).

python tools/ablate.py [CONFIGS ...] [--seeds 0 1 2] [--work-dir work_dirs/ablation] [--out docs/ablation_synthrooms]

Each run trains in <work-dir>/<config name>/seed<S> and leaves result.json there; finished runs are skipped, so
running the same command again resumes an interrupted ablation.
"""
import argparse
import os.path as osp
import shlex
import sys
from glob import glob

from hicl.experiments.ablation import ablation_table_markdown, planned_commands, run_ablation, summarise, write_report

TOOLS_DIR = osp.dirname(osp.abspath(__file__))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='configs, one table row each (default: configs/ablation/exp*.py)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/ablation', help='runs go to WORK_DIR/<config>/seed<S>')
    parser.add_argument('--out', default='docs/ablation_synthrooms', help='writes OUT.md and OUT.png')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='extra training overrides for every run, e.g. train_cfg.val_interval=1')
    parser.add_argument('--split', choices=['test', 'val'], default='test',
                        help='score runs on the test split (reporting) or by their last validation, no test (choosing)')
    parser.add_argument('--dry-run', action='store_true', help='print the commands instead of running them')
    return parser.parse_args()


def main():
    args = parse_args()
    configs = args.configs or sorted(glob('configs/ablation/exp*.py'))
    if not configs:
        sys.exit('no configs given and none match configs/ablation/exp*.py (run from the repository root)')
    run_kwargs = dict(tools_dir=osp.relpath(TOOLS_DIR), cfg_options=args.cfg_options, split=args.split)
    if args.dry_run:
        print('\n'.join(planned_commands(configs, args.seeds, args.work_dir, **run_kwargs)))
        return
    rows = summarise(run_ablation(configs, args.seeds, args.work_dir, **run_kwargs))
    command = shlex.join(['python', 'tools/ablate.py', *sys.argv[1:]])
    table_path, plot_path = write_report(rows, args.out, command, args.split)
    print(ablation_table_markdown(rows))
    print(f'wrote {table_path} and {plot_path}')


if __name__ == '__main__':
    main()
