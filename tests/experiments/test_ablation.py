"""The ablation runner on work dirs fabricated in mmengine's log formats (no training is run)."""
import json
import sys

import pytest

from hicl.experiments import ablation
from hicl.experiments.ablation import (ablation_table_markdown, plot_miou_per_epoch, read_test_metrics, read_val_curve,
                                       row_label, run_command, summarise, train_and_test)

CLASSES = ['wall', 'floor', 'chair']


def metric_record(miou, acc):
    """Metrics as PerClassSegMetric returns them (fractions) plus LogProcessor's timings."""
    record = {name: 0.5 for name in CLASSES}
    record.update(miou=miou, acc=acc, acc_cls=0.4, data_time=0.02, time=0.2)
    return record


def write_train_launch(work_dir, timestamp, val_miou, iters_per_epoch=6):
    """A training launch: ``<ts>/vis_data/scalars.json`` (and its ``<ts>.json`` copy), one JSON object per line:
    a training line per epoch (step = iteration), then a validation line (step = epoch) per {epoch: mIoU}."""
    vis_data = work_dir / timestamp / 'vis_data'
    vis_data.mkdir(parents=True)
    lines = []
    for epoch, miou in val_miou.items():
        it = epoch * iters_per_epoch
        lines.append(dict(lr=0.002, data_time=0.01, loss=2.1, loss_ce=2.1, time=1.9, epoch=epoch, iter=it, step=it))
        lines.append(dict(metric_record(miou, 0.6), step=epoch))
    text = ''.join(json.dumps(line) + '\n' for line in lines)
    (vis_data / 'scalars.json').write_text(text)
    (vis_data / f'{timestamp}.json').write_text(text)


def write_test_launch(work_dir, timestamp, miou, acc):
    """A tools/test.py launch: ``<ts>/<ts>.json``, one JSON object without a step."""
    (work_dir / timestamp).mkdir(parents=True)
    (work_dir / timestamp / f'{timestamp}.json').write_text(json.dumps(metric_record(miou, acc)))


def test_val_curve_merges_resumed_launches(tmp_path):
    write_train_launch(tmp_path, '20260101_100000', {1: 0.10, 2: 0.12})
    write_test_launch(tmp_path, '20260101_103000', 0.5, 0.9)
    write_train_launch(tmp_path, '20260101_110000', {2: 0.15, 3: 0.20})  # resumed: re-ran epoch 2
    assert read_val_curve(tmp_path) == {1: 0.10, 2: 0.15, 3: 0.20}


def test_val_curve_empty_without_validation(tmp_path):
    assert read_val_curve(tmp_path) == {}


def test_latest_test_launch_wins(tmp_path):
    write_test_launch(tmp_path, '20260101_100000', 0.11, 0.51)
    write_test_launch(tmp_path, '20260101_120000', 0.22, 0.62)
    write_train_launch(tmp_path, '20260101_130000', {1: 0.9})  # newer, but a training launch
    metrics = read_test_metrics(tmp_path)
    assert (metrics['miou'], metrics['acc'], metrics['wall']) == (0.22, 0.62, 0.5)


def test_missing_test_metrics_names_the_directory(tmp_path):
    write_train_launch(tmp_path, '20260101_100000', {1: 0.1})
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        read_test_metrics(tmp_path)
    with pytest.raises(FileNotFoundError, match='no_such_dir'):
        read_test_metrics(tmp_path / 'no_such_dir')


def result(config, seed, miou, curve=((1, 5.0),)):
    return dict(config=config, seed=seed, test_miou=miou, val_curve=[list(point) for point in curve])


EXP1, EXP2, EXP3 = 'configs/ablation/exp1_baseline.py', 'configs/ablation/exp2_set_voting.py', 'x/exp3_a.py'


def ablation_results():
    return [result(EXP1, 0, 10.0), result(EXP1, 1, 12.0), result(EXP1, 2, 14.0),
            result(EXP2, 0, 15.0), result(EXP2, 1, 16.0), result(EXP3, 0, 9.04)]


def test_summarise_against_hand_computation():
    rows = summarise(ablation_results())
    assert [row['name'] for row in rows] == ['EXP I baseline', 'EXP II set_voting', 'EXP III a']
    assert [row['seeds'] for row in rows] == [3, 2, 1]
    first, second, third = rows
    # mean(10, 12, 14) = 12; sample variance ((-2)^2 + 0 + 2^2) / (3 - 1) = 4
    assert first['mean'] == pytest.approx(12.0) and first['std'] == pytest.approx(2.0)
    assert (first['min'], first['max'], first['delta']) == (10.0, 14.0, 0.0)
    # mean(15, 16) = 15.5; sample variance (0.25 + 0.25) / 1 = 0.5
    assert second['mean'] == pytest.approx(15.5) and second['std'] == pytest.approx(0.5 ** 0.5)
    assert second['delta'] == pytest.approx(3.5)
    assert third['std'] is None and third['delta'] == pytest.approx(9.04 - 12.0)


def test_markdown_table_numbers():
    table = ablation_table_markdown(summarise(ablation_results()))
    lines = table.splitlines()
    assert lines[0] == '| Exp | config | seeds | mIoU mean ± std | min–max | Δ vs first |'
    assert lines[2] == f'| EXP I baseline | `{EXP1}` | 3 | 12.0 ± 2.0 | 10.0–14.0 | — |'
    assert lines[3] == f'| EXP II set_voting | `{EXP2}` | 2 | 15.5 ± 0.7 | 15.0–16.0 | +3.5 |'
    assert lines[4] == '| EXP III a | `x/exp3_a.py` | 1 | 9.0 | 9.0–9.0 | -3.0 |'


def test_row_label():
    assert row_label('configs/ablation/exp3_intra_scene.py') == 'EXP III intra_scene'
    assert row_label('configs/ablation/exp14_all.py') == 'EXP XIV all'
    assert row_label('configs/baseline_synthrooms.py') == 'baseline_synthrooms'


def test_plot_writes_png(tmp_path):
    curves = {'EXP I baseline': [{1: 5.0, 2: 7.0}, {1: 6.0, 2: 9.0}], 'EXP II set_voting': [{1: 8.0, 3: 10.0}]}
    path = tmp_path / 'plot.png'
    plot_miou_per_epoch(curves, str(path))
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and path.stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir()] == ['plot.png']  # no temporary file left behind


def test_run_command_failure_names_the_log(tmp_path):
    log = tmp_path / 'train.log'
    with pytest.raises(RuntimeError, match='train.log') as error:
        run_command([sys.executable, '-c', 'import sys; print("boom"); sys.exit(3)'], str(log))
    assert 'exit code 3' in str(error.value) and 'boom' in str(error.value)
    assert log.read_text() == 'boom\n'


def test_train_and_test_skips_finished_run(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(ablation, 'run_command', lambda cmd, log_path: calls.append(cmd))
    finished = dict(config=EXP1, seed=0, test_miou=12.5, val_curve=[[1, 10.0]])
    (tmp_path / 'result.json').write_text(json.dumps(finished))
    assert train_and_test(EXP1, 0, str(tmp_path)) == finished
    assert calls == []


def test_train_and_test_runs_and_records(tmp_path, monkeypatch):
    work_dir = tmp_path / 'exp1_baseline' / 'seed7'
    calls = []

    def fake_run_command(cmd, log_path):
        """Leave what tools/train.py and tools/test.py would leave in the work dir."""
        calls.append(cmd)
        if cmd[1].endswith('train.py'):
            write_train_launch(work_dir, '20260101_100000', {1: 0.1, 2: 0.2})
            (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))
        else:
            write_test_launch(work_dir, '20260101_110000', 0.25, 0.75)

    monkeypatch.setattr(ablation, 'run_command', fake_run_command)
    out = train_and_test(EXP1, 7, str(work_dir), python='py', tools_dir='tools')
    assert calls == [
        ['py', 'tools/train.py', EXP1, '--work-dir', str(work_dir), '--cfg-options', 'randomness.seed=7'],
        ['py', 'tools/test.py', EXP1, str(work_dir / 'epoch_2.pth'), '--work-dir', str(work_dir)]]
    assert out['test_miou'] == pytest.approx(25.0) and out['test_acc'] == pytest.approx(75.0)
    assert out['val_curve'] == [[1, pytest.approx(10.0)], [2, pytest.approx(20.0)]]
    assert json.loads((work_dir / 'result.json').read_text()) == out


def test_only_a_work_dir_with_a_checkpoint_is_resumed(tmp_path):
    """tools/train.py refuses --resume in a work dir without checkpoints, so a fresh run must not ask for it."""
    from hicl.experiments.ablation import train_command
    fresh = train_command(EXP1, 0, str(tmp_path), python='py')
    assert '--resume' not in fresh
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    assert train_command(EXP1, 0, str(tmp_path), python='py')[5] == '--resume'


def test_val_split_run_skips_the_test_and_is_scored_by_its_last_validation(tmp_path, monkeypatch):
    work_dir = tmp_path / 'exp5' / 'seed0'
    calls = []

    def fake_run_command(cmd, log_path):
        calls.append(cmd)
        write_train_launch(work_dir, '20260101_100000', {1: 0.1, 2: 0.3, 3: 0.25})
        (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_3.pth'))

    monkeypatch.setattr(ablation, 'run_command', fake_run_command)
    out = train_and_test(EXP1, 0, str(work_dir), python='py', split='val')
    assert [cmd[1] for cmd in calls] == ['tools/train.py']
    assert out['split'] == 'val' and out['test_miou'] is None
    assert ablation.run_miou(out) == pytest.approx(25.0)  # the last epoch, not the best
    assert summarise([out])[0]['mean'] == pytest.approx(25.0)


def test_val_split_without_validation_names_the_run(tmp_path):
    with pytest.raises(ValueError, match='runs/seed1 logged no validation'):
        ablation.run_miou(dict(split='val', work_dir='runs/seed1', val_curve=[]))


def test_planned_commands_of_a_val_study_have_no_test_line(tmp_path):
    lines = ablation.planned_commands([EXP1], [0, 1], str(tmp_path), python='py', split='val')
    assert len(lines) == 2 and all('tools/train.py' in line for line in lines)
    assert len(ablation.planned_commands([EXP1], [0], str(tmp_path), python='py')) == 2  # train + test
