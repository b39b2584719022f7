"""tools/device_check.sh: what a person with a GPU runs right after tools/setup.sh and pastes into an issue.

Every row runs the user's own commands (tools/train.py, tools/export_3d_net.py, tools/test.py, torchrun) in a
subprocess on the SynthRooms demo data, and reads their logs and outputs:

- the stack and the devices; the SubMConv3d self-test on each device (:mod:`hicl.engine.device_selftest`);
- configs/hicl_synthrooms.py with every HICL loss from the first iteration, with and without ``--amp`` (s/iter,
  peak GPU memory, losses finite);
- export and tools/test.py on the device (mIoU), and the share of points whose prediction on the GPU equals the
  CPU's for the same checkpoint (spconv's GPU sums run in another order than its CPU sums, so near-ties may flip:
  expected at least :data:`EXPECTED_AGREEMENT`);
- the paper-size model (MinkUNet14A at 5 cm, M = 1024, the paper's necks, batch 8) for a few iterations, with the
  projected time of the paper's 120 ScanNet epochs;
- a one-process ``torchrun`` start with the NCCL backend.

Without a GPU it runs the CPU rows, says that the GPU rows were not run, and exits 0.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..', '..'))
DEMO_CONFIG = 'configs/hicl_synthrooms.py'
PAPER_CONFIG = 'configs/ablation/hicl_paper_synthrooms.py'
# The paper's ScanNet schedule: 1,201 training scenes, batch 8, 120 epochs.
SCANNET_TRAIN_SCENES, PAPER_BATCH, PAPER_EPOCHS = 1201, 8, 120
EXPECTED_AGREEMENT = 0.999
ALL_LOSSES_FROM_THE_START = ['default_hooks.correlation_stages.correlation_epoch=0',
                             'default_hooks.correlation_stages.feedback_epoch=0']
PAPER_SIZE = ['model.data_preprocessor.voxel_layer.voxel_size=[0.05,0.05,0.05]', 'model.num_samples=1024',
              f'train_dataloader.batch_size={PAPER_BATCH}']


@dataclass
class Row:
    """One line of the table: what was checked, where, the result, and whether it passed (None: not run)."""
    check: str
    device: str
    result: str
    ok: object = None

    def cells(self):
        verdict = {True: 'ok', False: 'FAILED', None: 'not run'}[self.ok]
        cells = [text.replace('|', '\\|') for text in (self.check, self.device, verdict, self.result)]
        return '| ' + ' | '.join(cells) + ' |'


def format_table(rows):
    lines = ['| check | device | verdict | result |', '|---|---|---|---|']
    return '\n'.join(lines + [row.cells() for row in rows])


def run(command, env=None, timeout=1800):
    """(exit status, seconds, stdout + stderr) of ``command`` (a list) run in the repository."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    return done.returncode, time.perf_counter() - start, done.stdout + done.stderr


def last_lines(text, count=3):
    return ' / '.join(line.strip() for line in text.strip().splitlines()[-count:])


def stack_row():
    from ..engine.device_selftest import installed_gpus, stack_line
    return Row('stack', 'cuda' if installed_gpus() else 'cpu', stack_line(), True)


def selftest_row(device):
    from ..engine.device_selftest import sparse_conv_selftest
    try:
        result = sparse_conv_selftest(device)
    except Exception as error:  # report the failure in the table, do not stop the other rows
        return Row('SubMConv3d forward+backward', device, f'{type(error).__name__}: {error}', False)
    return Row('SubMConv3d forward+backward', device, result.line(), result.ok)


def iterations_per_epoch(config, batch_size=None):
    """Training iterations in one epoch of ``config``'s train split (its batch size, or ``batch_size``)."""
    from mmengine.config import Config

    from ..inference import build_split_dataset
    cfg = Config.fromfile(osp.join(REPO, config))
    batch = batch_size or cfg.train_dataloader.batch_size
    return math.ceil(len(build_split_dataset(cfg, 'train')) / batch)


def scalars(work_dir):
    """The logged training records of a run (mmengine's vis_data/scalars.json lines with a loss)."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as file:
            records += [record for record in map(json.loads, file) if 'loss' in record]
    return records


def training_summary(records):
    """(median s/iter after the first logged interval, peak memory MB or None, every loss finite) of the records."""
    times = [record['time'] for record in records[1:] or records]
    losses = [value for record in records for key, value in record.items() if key.startswith('loss')]
    memory = [record['memory'] for record in records if 'memory' in record]
    finite = bool(losses) and all(map(math.isfinite, losses))
    return statistics.median(times), (max(memory) if memory else None), finite


def training_row(name, config, device, iterations, work_dir, options=(), amp=False, batch_size=None):
    """Train ``config`` for about ``iterations`` iterations (whole epochs) with tools/train.py on ``device`` and
    report s/iter, peak memory and whether every logged loss was finite. Returns (Row, seconds per iteration)."""
    per_epoch = iterations_per_epoch(config, batch_size)
    epochs = max(1, math.ceil(iterations / per_epoch))
    command = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir, '--cfg-options',
               f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs + 1}',
               'default_hooks.logger.interval=5',
               *ALL_LOSSES_FROM_THE_START, *options] + (['--amp'] if amp else [])
    status, seconds, output = run(command, env={} if device == 'cuda' else {'CUDA_VISIBLE_DEVICES': ''})
    records = scalars(work_dir)
    if status != 0 or not records:
        return Row(name, device, f'tools/train.py exit {status}: {last_lines(output)}', False), None
    per_iter, memory, finite = training_summary(records)
    memory_text = f', peak GPU memory {memory:.0f} MB' if memory is not None else ''
    result = (f'{epochs * per_epoch} iterations in {seconds:.0f} s: {per_iter:.3f} s/iter{memory_text}; '
              f'losses {"finite" if finite else "NOT finite"}')
    return Row(name, device, result, finite), per_iter


def test_row(config, checkpoint, device, work_dir, predictions):
    """tools/test.py on ``device``, its predictions saved to ``predictions``: (Row, mIoU or None)."""
    command = [sys.executable, 'tools/test.py', config, checkpoint, '--work-dir', work_dir, '--device', device,
               '--save-preds', predictions]
    status, seconds, output = run(command)
    found = re.findall(r'miou: ([0-9.]+)', output)
    if status != 0 or not found:
        return Row('tools/test.py', device, f'exit {status}: {last_lines(output)}', False), None
    miou = float(found[-1])
    return Row('tools/test.py', device, f'mIoU {100 * miou:.2f}% in {seconds:.0f} s', True), miou


def prediction_agreement(folder_a, folder_b):
    """(share of points with the same predicted class, points, scenes) over the <scene>.npy files of two
    ``--save-preds`` folders; a scene missing from one or of another length raises ValueError."""
    names = sorted(osp.basename(path) for path in glob.glob(osp.join(folder_a, '*.npy')))
    other = sorted(osp.basename(path) for path in glob.glob(osp.join(folder_b, '*.npy')))
    if not names or names != other:
        raise ValueError(f'{folder_a} and {folder_b} hold different scenes: {names[:3]} vs {other[:3]}')
    equal = total = 0
    for name in names:
        a, b = np.load(osp.join(folder_a, name)), np.load(osp.join(folder_b, name))
        if a.shape != b.shape:
            raise ValueError(f'{name}: {a.shape} predictions in {folder_a}, {b.shape} in {folder_b}')
        equal += int((a == b).sum())
        total += a.size
    return equal / total, total, len(names)


def agreement_row(cpu_predictions, cuda_predictions):
    share, points, scenes = prediction_agreement(cpu_predictions, cuda_predictions)
    return Row('same checkpoint, GPU vs CPU predictions', 'cuda', f'{100 * share:.3f}% of {points:,} points equal '
               f'({scenes} scenes; expected >= {100 * EXPECTED_AGREEMENT:.1f}%)', share >= EXPECTED_AGREEMENT)


def projected_paper_hours(seconds_per_iteration):
    """Hours of the paper's ScanNet schedule (120 epochs of 1,201 scenes in batches of 8) at that speed."""
    return seconds_per_iteration * math.ceil(SCANNET_TRAIN_SCENES / PAPER_BATCH) * PAPER_EPOCHS / 3600


def nccl_row(work_dir):
    command = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '1', '--master_port', '29533',
               'tools/train.py', DEMO_CONFIG, '--launcher', 'pytorch', '--work-dir', work_dir, '--cfg-options',
               'train_cfg.max_epochs=1', 'train_cfg.val_interval=2', *ALL_LOSSES_FROM_THE_START]
    status, seconds, output = run(command)
    backend = (re.findall(r"dist_cfg: \{'backend': '(\w+)'", output) or ['?'])[0]
    distributed = 'Distributed training: True' in output
    ok = status == 0 and distributed and backend == 'nccl'
    return Row('torchrun --nproc_per_node 1', 'cuda', f'exit {status}, distributed {distributed}, backend {backend}, '
               f'{seconds:.0f} s' + ('' if ok else f': {last_lines(output)}'), ok)


def not_run(check):
    return Row(check, 'cuda', 'no GPU: torch.cuda.is_available() is False', None)


def check_rows(work_root, iterations, paper_iterations, cpu_iterations, has_gpu=None):
    """Yield the rows, running each check as it is reached; ``has_gpu``: run the GPU rows (None: when torch sees a
    GPU)."""
    import torch
    has_gpu = torch.cuda.is_available() if has_gpu is None else has_gpu
    yield stack_row()
    yield selftest_row('cpu')
    if has_gpu:
        yield selftest_row('cuda')
    device = 'cuda' if has_gpu else 'cpu'
    train_dir = osp.join(work_root, f'demo_{device}')
    row, _ = training_row(f'{DEMO_CONFIG} training', DEMO_CONFIG, device,
                          iterations if has_gpu else cpu_iterations, train_dir)
    yield row
    if not row.ok:
        return
    if has_gpu:
        yield training_row(f'{DEMO_CONFIG} training --amp', DEMO_CONFIG, 'cuda', iterations,
                           osp.join(work_root, 'demo_amp'), amp=True)[0]
    exported = osp.join(work_root, 'exported.pth')
    with open(osp.join(train_dir, 'last_checkpoint')) as file:
        checkpoint = file.read().strip()
    status, _, output = run([sys.executable, 'tools/export_3d_net.py', DEMO_CONFIG, checkpoint, exported])
    yield Row('tools/export_3d_net.py', device, last_lines(output, 1), status == 0)
    cpu_row, _ = test_row(DEMO_CONFIG, exported, 'cpu', osp.join(work_root, 'test_cpu'),
                          osp.join(work_root, 'predictions_cpu'))
    yield cpu_row
    if not has_gpu:
        for check in (f'{DEMO_CONFIG} training --amp', 'tools/test.py', 'same checkpoint, GPU vs CPU predictions',
                      f'paper size ({PAPER_CONFIG} at 5 cm, M = 1024, batch {PAPER_BATCH})',
                      'torchrun --nproc_per_node 1'):
            yield not_run(check)
        return
    cuda_row, _ = test_row(DEMO_CONFIG, exported, 'cuda', osp.join(work_root, 'test_cuda'),
                           osp.join(work_root, 'predictions_cuda'))
    yield cuda_row
    if cpu_row.ok and cuda_row.ok:
        yield agreement_row(osp.join(work_root, 'predictions_cpu'), osp.join(work_root, 'predictions_cuda'))
    paper, per_iter = training_row(f'paper size ({PAPER_CONFIG} at 5 cm, M = 1024, batch {PAPER_BATCH})',
                                   PAPER_CONFIG, 'cuda', paper_iterations, osp.join(work_root, 'paper_size'),
                                   PAPER_SIZE, batch_size=PAPER_BATCH)
    if per_iter is not None:
        paper.result += (f'; the paper\'s 120 ScanNet epochs would take about {projected_paper_hours(per_iter):.1f} h '
                         'on this GPU (SynthRooms rooms are smaller than ScanNet scenes: a lower bound)')
    yield paper
    yield nccl_row(osp.join(work_root, 'torchrun'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='work_dirs/device_check/device_check.md', help='the table is written here')
    parser.add_argument('--work-dir', default='work_dirs/device_check', help='runs, checkpoints and predictions')
    parser.add_argument('--iterations', type=int, default=50, help='training iterations of the demo config (GPU)')
    parser.add_argument('--paper-iterations', type=int, default=20, help='training iterations at paper size (GPU)')
    parser.add_argument('--cpu-iterations', type=int, default=10, help='training iterations without a GPU')
    args = parser.parse_args(argv)
    from ..fileio import atomic_write
    rows = []
    for row in check_rows(osp.abspath(args.work_dir), args.iterations, args.paper_iterations,
                          args.cpu_iterations):
        print(row.cells(), flush=True)
        rows.append(row)
    table = format_table(rows)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    atomic_write(args.out, table + '\n')
    print(f'\n{table}\n\nwritten to {args.out}')
    if not any(row.device == 'cuda' and row.ok is not None for row in rows):
        print('no GPU here (torch.cuda.is_available() is False): the GPU rows were not run')
    return 1 if any(row.ok is False for row in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
