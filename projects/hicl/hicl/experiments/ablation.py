"""Ablation runs: train and test each config over several seeds, then tabulate and plot mIoU.

Log formats read here (mmengine's LoggerHook with LocalVisBackend, metric keys of SegMetric/PerClassSegMetric,
values as fractions in [0, 1]):

- training: ``WORK_DIR/<timestamp>/vis_data/scalars.json``, one JSON object per line. Training lines carry
  ``lr, data_time, loss, loss_*, time, epoch, iter, step`` (step = iteration); validation lines carry one key
  per class name plus ``miou, acc, acc_cls, data_time, time, step`` (step = epoch).
- testing: ``WORK_DIR/<timestamp>/<timestamp>.json``, a single JSON object with the same metric keys as a
  validation line and no ``step``.

A finished run leaves ``WORK_DIR/result.json`` (:func:`make_result`), so an interrupted ablation resumes.
"""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time

import numpy as np

from ..fileio import atomic_write

MIOU_KEY = 'miou'
ACC_KEY = 'acc'
RESULT_FILE = 'result.json'


def run_command(cmd, log_path):
    """Run ``cmd`` (list of str) with stdout and stderr written to ``log_path``; RuntimeError on failure."""
    os.makedirs(osp.dirname(osp.abspath(log_path)), exist_ok=True)
    with open(log_path, 'w') as log:
        returncode = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    if returncode != 0:
        raise RuntimeError(f'command failed with exit code {returncode}: {command_text(cmd)}\n'
                           f'last lines of {log_path}:\n{tail(log_path)}')


def tail(path, num_lines=15):
    """The last ``num_lines`` lines of a text file."""
    with open(path, errors='replace') as f:
        return ''.join(f.readlines()[-num_lines:])


def command_text(cmd):
    """``cmd`` as a shell line; arguments starting with ``$(`` (command substitutions) are left unquoted."""
    return ' '.join(arg if arg.startswith('$(') else shlex.quote(arg) for arg in cmd)


def train_command(config, seed, work_dir, python=sys.executable, tools_dir='tools', cfg_options=()):
    """``python tools/train.py CONFIG --work-dir WORK_DIR [--resume] --cfg-options randomness.seed=SEED ...``.

    ``--resume`` (continue from the work dir's latest checkpoint) is given only when the work dir has one
    (mmengine's ``last_checkpoint`` file): tools/train.py refuses ``--resume`` without a checkpoint.
    """
    resume = ['--resume'] if osp.isfile(osp.join(work_dir, 'last_checkpoint')) else []
    return [python, osp.join(tools_dir, 'train.py'), config, '--work-dir', work_dir, *resume,
            '--cfg-options', f'randomness.seed={seed}', *cfg_options]


def test_command(config, checkpoint, work_dir, python=sys.executable, tools_dir='tools'):
    """``python tools/test.py CONFIG CHECKPOINT --work-dir WORK_DIR``."""
    return [python, osp.join(tools_dir, 'test.py'), config, checkpoint, '--work-dir', work_dir]


def last_checkpoint(work_dir):
    """The checkpoint path mmengine recorded in ``WORK_DIR/last_checkpoint``."""
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise FileNotFoundError(f'training left no {path}; see {osp.join(work_dir, "train.log")}')
    with open(path) as f:
        return f.read().strip()


def train_and_test(config, seed, work_dir, python=sys.executable, tools_dir='tools', cfg_options=(), split='test'):
    """Train then test ``config`` with ``seed`` in ``work_dir`` and write ``work_dir/result.json``.

    A run whose ``result.json`` exists is not run again. Output of the two commands goes to ``train.log`` and
    ``test.log`` in the work dir. ``cfg_options``: extra ``key=value`` overrides for training. ``split='val'``
    skips the test (for choices made on val: the run is scored by its last validation).
    Returns the result dict (:func:`make_result`).
    """
    existing = load_result(work_dir)
    if existing is not None:
        return existing
    start = time.time()
    run_command(train_command(config, seed, work_dir, python, tools_dir, cfg_options),
                osp.join(work_dir, 'train.log'))
    if split == 'test':
        run_command(test_command(config, last_checkpoint(work_dir), work_dir, python, tools_dir),
                    osp.join(work_dir, 'test.log'))
    result = make_result(config, seed, work_dir, time.time() - start, split)
    atomic_write(osp.join(work_dir, RESULT_FILE), json.dumps(result, indent=1) + '\n')
    return result


def load_result(work_dir):
    """The run's ``result.json`` as a dict, or None when the run has not finished."""
    path = osp.join(work_dir, RESULT_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def make_result(config, seed, work_dir, seconds, split='test'):
    """dict(config, seed, work_dir, seconds, split, test_miou, test_acc (percent; acc None if not logged; both
    None for ``split='val'``), val_curve: [[epoch, val mIoU percent], ...] by epoch) from the run's mmengine
    logs."""
    metrics = read_test_metrics(work_dir) if split == 'test' else {}
    curve = read_val_curve(work_dir)
    return dict(config=config, seed=seed, work_dir=work_dir, seconds=round(seconds, 1), split=split,
                test_miou=100 * metrics[MIOU_KEY] if MIOU_KEY in metrics else None,
                test_acc=100 * metrics[ACC_KEY] if ACC_KEY in metrics else None,
                val_curve=[[epoch, 100 * miou] for epoch, miou in sorted(curve.items())])


def run_miou(result):
    """The mIoU (%) a run is scored by: its test mIoU, or for a ``split='val'`` run its last validation."""
    if result.get('split', 'test') == 'val':
        if not result['val_curve']:
            raise ValueError(f'{result["work_dir"]} logged no validation')
        return result['val_curve'][-1][1]
    return result['test_miou']


def read_json_records(path):
    """The JSON objects in ``path``: a single JSON document, or one object per line (JSON lines)."""
    with open(path) as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return data if isinstance(data, list) else [data]


def timestamp_dirs(work_dir):
    """mmengine's per-launch log folders ``WORK_DIR/<YYYYmmdd_HHMMSS>``, oldest first."""
    if not osp.isdir(work_dir):
        return []
    names = [name for name in os.listdir(work_dir) if re.fullmatch(r'\d{8}_\d{6}', name)]
    return [osp.join(work_dir, name) for name in sorted(names)]


def metric_value(record, key, mode):
    """``record[key]``, or ``record['<mode>/<key>']`` (mmengine's ``log_with_hierarchy``); None if absent."""
    return record.get(key, record.get(f'{mode}/{key}'))


def read_val_curve(work_dir):
    """{epoch: val mIoU (fraction)} from every ``<timestamp>/vis_data/scalars.json`` in ``work_dir``.

    Launches are merged oldest first, so after a resume the later launch wins for an epoch logged twice.
    Empty when no validation ran.
    """
    curve = {}
    for folder in timestamp_dirs(work_dir):
        path = osp.join(folder, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            for record in read_json_records(path):
                miou = metric_value(record, MIOU_KEY, 'val')
                if miou is not None:
                    curve[int(record['step'])] = float(miou)
    return curve


def read_test_metrics(work_dir):
    """The metrics dict (fractions, keys as logged, e.g. ``miou``, ``acc``, class names) of the most recent
    test launch: the newest ``<timestamp>/<timestamp>.json`` in ``work_dir`` with an mIoU."""
    for folder in reversed(timestamp_dirs(work_dir)):
        path = osp.join(folder, osp.basename(folder) + '.json')
        if osp.isfile(path):
            for record in reversed(read_json_records(path)):
                miou = metric_value(record, MIOU_KEY, 'test')
                if miou is not None:
                    return {key.removeprefix('test/'): value for key, value in record.items()}
    raise FileNotFoundError(f'no test metrics in {work_dir}: expected <timestamp>/<timestamp>.json with '
                            f'"{MIOU_KEY}" from tools/test.py ... --work-dir {work_dir}')


def row_label(config):
    """A short row name from the config file name: ``configs/ablation/exp3_intra_scene.py`` ->
    ``EXP III intra_scene``; names not of the form ``exp<N>_<what>`` are returned as the file stem."""
    stem = osp.splitext(osp.basename(config))[0]
    match = re.fullmatch(r'exp(\d+)_(.+)', stem)
    if match is None:
        return stem
    return f'EXP {roman(int(match.group(1)))} {match.group(2)}'


def roman(number):
    """Roman numeral of 1 <= number < 4000."""
    if not 1 <= number < 4000:
        raise ValueError(f'no Roman numeral for {number}')
    numerals = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), (90, 'XC'), (50, 'L'),
                (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]
    text = ''
    for value, symbol in numerals:
        count, number = divmod(number, value)
        text += symbol * count
    return text


def summarise(results):
    """One row per config, in order of first appearance in ``results`` (dicts from :func:`make_result`).

    Row: dict(name, config, seeds (count), mean, std (sample std, ddof=1; None for one seed), min, max,
    delta (mean minus the first row's mean; 0 for the first row), val_curves (one {epoch: mIoU} per seed)),
    all mIoU in percent.
    """
    by_config = {}
    for result in results:
        by_config.setdefault(result['config'], []).append(result)
    rows = []
    for config, runs in by_config.items():
        miou = np.array([run_miou(run) for run in runs], dtype=np.float64)
        rows.append(dict(name=row_label(config), config=config, seeds=len(runs), mean=float(miou.mean()),
                         std=float(miou.std(ddof=1)) if len(runs) > 1 else None,
                         min=float(miou.min()), max=float(miou.max()),
                         val_curves=[{int(epoch): value for epoch, value in run['val_curve']} for run in runs]))
    for row in rows:
        row['delta'] = row['mean'] - rows[0]['mean']
    return rows


def ablation_table_markdown(rows):
    """Markdown table of :func:`summarise` rows; mIoU in percent with one decimal, Δ in percentage points."""
    lines = ['| Exp | config | seeds | mIoU mean ± std | min–max | Δ vs first |',
             '|---|---|---:|---:|---:|---:|']
    for i, row in enumerate(rows):
        spread = f'{row["mean"]:.1f} ± {row["std"]:.1f}' if row['std'] is not None else f'{row["mean"]:.1f}'
        delta = '—' if i == 0 else f'{row["delta"]:+.1f}'
        lines.append(f'| {row["name"]} | `{row["config"]}` | {row["seeds"]} | {spread} | '
                     f'{row["min"]:.1f}–{row["max"]:.1f} | {delta} |')
    return '\n'.join(lines) + '\n'


def plot_miou_per_epoch(curves, path, title='Validation mIoU per epoch'):
    """Save a PNG of val mIoU (%) against epoch: per row, the mean over seeds and a shaded min–max band.

    Args:
        curves: {row name: [{epoch: mIoU %} per seed]}; at each epoch the seeds that logged it are averaged.
        path: output PNG, written through a temporary file and a rename.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, seed_curves in curves.items():
        epochs = sorted({epoch for curve in seed_curves for epoch in curve})
        values = [[curve[epoch] for curve in seed_curves if epoch in curve] for epoch in epochs]
        line, = axes.plot(epochs, [np.mean(v) for v in values], marker='o', markersize=3, label=name)
        axes.fill_between(epochs, [min(v) for v in values], [max(v) for v in values], color=line.get_color(),
                          alpha=0.2, linewidth=0)
    axes.set(xlabel='epoch', ylabel='val mIoU (%)', title=f'{title} (mean over seeds, band = min–max)')
    axes.grid(alpha=0.3)
    axes.legend()
    atomic_write(path, lambda file: figure.savefig(file, format='png', dpi=120, bbox_inches='tight'))


def run_work_dir(work_root, config, seed):
    """``<work_root>/<config stem>/seed<seed>``."""
    return osp.join(work_root, osp.splitext(osp.basename(config))[0], f'seed{seed}')


def format_seconds(seconds):
    """``H:MM:SS``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f'{minutes // 60}:{minutes % 60:02d}:{secs:02d}'


def run_ablation(configs, seeds, work_root, log=print, **run_kwargs):
    """:func:`train_and_test` every config with every seed, printing progress and an ETA (mean duration of
    the runs finished in this call times the runs still to do). ``run_kwargs`` go to :func:`train_and_test`.
    Returns the list of result dicts, config-major."""
    runs = [(config, seed, run_work_dir(work_root, config, seed)) for config in configs for seed in seeds]
    to_do = sum(load_result(work_dir) is None for _, _, work_dir in runs)
    start, durations, results = time.time(), [], []
    for i, (config, seed, work_dir) in enumerate(runs, 1):
        prefix = f'[{i}/{len(runs)}] {row_label(config)} seed {seed}'
        done = load_result(work_dir)
        if done is not None:
            log(f'{prefix}: done before, {osp.join(work_dir, RESULT_FILE)}')
            results.append(done)
            continue
        eta = format_seconds(np.mean(durations) * (to_do - len(durations))) if durations else 'unknown'
        log(f'{prefix}: running in {work_dir} (elapsed {format_seconds(time.time() - start)}, ETA {eta})')
        run_start = time.time()
        results.append(train_and_test(config, seed, work_dir, **run_kwargs))
        durations.append(time.time() - run_start)
        log(f'{prefix}: {results[-1].get("split", "test")} mIoU {run_miou(results[-1]):.1f}% in '
            f'{format_seconds(durations[-1])}')
    return results


def planned_commands(configs, seeds, work_root, python=sys.executable, tools_dir='tools', cfg_options=(),
                     split='test'):
    """The shell lines :func:`run_ablation` would run (a comment line for each run that is already done)."""
    lines = []
    for config in configs:
        for seed in seeds:
            work_dir = run_work_dir(work_root, config, seed)
            if load_result(work_dir) is not None:
                lines.append(f'# done: {osp.join(work_dir, RESULT_FILE)}')
                continue
            checkpoint = f'$(cat {shlex.quote(osp.join(work_dir, "last_checkpoint"))})'
            lines.append(command_text(train_command(config, seed, work_dir, python, tools_dir, cfg_options)))
            if split == 'test':
                lines.append(command_text(test_command(config, checkpoint, work_dir, python, tools_dir)))
    return lines


def write_report(rows, out, command, split='test'):
    """Write ``<out>.md`` (the markdown table, then the command and date) and ``<out>.png`` (the val mIoU
    curves of :func:`plot_miou_per_epoch`) for :func:`summarise` rows. Returns the two paths."""
    table = ablation_table_markdown(rows)
    scored_by = 'Test mIoU' if split == 'test' else 'Val mIoU after the last epoch'
    note = (f'\n{scored_by} (%), mean ± sample std over seeds; Δ in percentage points.\n'
            f'Generated on {time.strftime("%Y-%m-%d")} by `{command}`.\n')
    atomic_write(out + '.md', table + note)
    plot_miou_per_epoch({row['name']: row['val_curves'] for row in rows}, out + '.png')
    return out + '.md', out + '.png'
