"""The correlation-instrument summaries on logs fabricated in mmengine's scalars.json format."""
import json

import pytest

from hicl.experiments.correlation_report import (derived, instruments_table_markdown, last_epoch_means, last_validation,
                                                 run_dirs, run_summary, setting_row)


def write_scalars(work_dir, records, timestamp='20260101_100000'):
    vis_data = work_dir / timestamp / 'vis_data'
    vis_data.mkdir(parents=True)
    (vis_data / 'scalars.json').write_text(''.join(json.dumps(record) + '\n' for record in records))


def train_record(epoch, it, **scalars):
    return dict(epoch=epoch, iter=it, step=it, loss=1.0, **scalars)


RECORDS = [
    train_record(1, 5, acc_net=0.1),
    dict(miou=0.10, compactness=0.9, step=1),
    train_record(2, 10, acc_net=0.5, intra_change=0.2, intra_entropy_l0=0.9, intra_entropy_l1=0.7,
                 intra_same_set_l0=0.3, intra_same_set_l1=0.5, intra_chance_set=0.2),
    train_record(2, 15, acc_net=0.7, intra_change=0.4, intra_entropy_l0=0.9, intra_entropy_l1=0.7,
                 intra_same_set_l0=0.3, intra_same_set_l1=0.5, intra_chance_set=0.2),
    dict(miou=0.30, compactness=0.6, intra_same_class_l0=0.4, intra_chance_class=0.1, step=2),
]


def test_last_epoch_means_average_the_windows_of_the_last_epoch_only():
    means = last_epoch_means(RECORDS)
    assert means['acc_net'] == pytest.approx(0.6)  # (0.5 + 0.7) / 2; epoch 1's 0.1 left out
    assert means['intra_change'] == pytest.approx(0.3)
    assert last_epoch_means([dict(miou=0.1, step=1)]) == {}


def test_last_validation_is_the_last_record_with_miou():
    assert last_validation(RECORDS)['compactness'] == 0.6
    assert last_validation(RECORDS[:1]) == {}


def test_derived_entropy_and_lifts_by_hand():
    out = derived(last_epoch_means(RECORDS))
    assert out['intra_entropy'] == pytest.approx(0.8)  # mean(0.9, 0.7)
    assert out['intra_set_lift'] == pytest.approx(2.0)  # mean(0.3, 0.5) / 0.2
    assert 'inter_set_lift' not in out
    assert derived(last_validation(RECORDS))['intra_class_lift'] == pytest.approx(4.0)  # 0.4 / 0.1


def test_setting_row_averages_seeds_and_the_table_prints_them(tmp_path):
    write_scalars(tmp_path / 'exp5' / 'seed0', RECORDS)
    later = [dict(record) for record in RECORDS]
    later[-1].update(miou=0.40, compactness=0.4)
    write_scalars(tmp_path / 'exp5' / 'seed1', later)
    runs = run_dirs(str(tmp_path / 'exp5'))
    assert [run.rsplit('/', 1)[1] for run in runs] == ['seed0', 'seed1']
    row = setting_row('EXP V', [run_summary(run) for run in runs])
    assert row['miou'] == pytest.approx([30.0, 40.0])
    assert row['values']['compactness (val)'] == pytest.approx(0.5)
    assert row['values']['set lift intra'] == pytest.approx(2.0)
    assert row['values']['acc inter'] is None
    line = instruments_table_markdown([row]).splitlines()[2]
    assert line.startswith('| EXP V | 2 | 35.0 ± 7.1 (30.0 / 40.0) | 0.600 | — |')


def test_run_dirs_without_logs_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        run_dirs(str(tmp_path))
