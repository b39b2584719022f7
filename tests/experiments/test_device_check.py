"""tools/device_check.sh's pieces that do not need a GPU: the table (a cell holding '|' stays one cell), the summary
of a training log, the GPU-vs-CPU agreement of two prediction folders, the projection to the paper's schedule, and
the rows it reports as not run without a GPU."""
import json
import math

import numpy as np
import pytest

from hicl.experiments.device_check import (Row, format_table, not_run, prediction_agreement, projected_paper_hours,
                                           scalars, training_summary)


def test_a_cell_with_a_bar_stays_one_cell():
    table = format_table([Row('self-test', 'cpu', 'max |sparse - dense| = 3e-06', True), not_run('amp')])
    lines = table.splitlines()
    assert lines[2] == '| self-test | cpu | ok | max \\|sparse - dense\\| = 3e-06 |'
    assert lines[3] == '| amp | cuda | not run | no GPU: torch.cuda.is_available() is False |'
    assert all(line.replace('\\|', '').count('|') == 5 for line in lines)


def test_the_training_summary_reads_the_runners_scalars(tmp_path):
    log = tmp_path / '20261205_000000' / 'vis_data'
    log.mkdir(parents=True)
    records = [dict(loss=2.0, loss_ce=2.0, time=3.0, memory=900, iter=5),  # the first interval: warm-up
               dict(lr=0.1, iter=5),  # a record without a loss (e.g. validation) is not a training record
               dict(loss=1.5, loss_ce=1.0, loss_kl=0.5, time=0.5, memory=1200, iter=10),
               dict(loss=1.2, loss_ce=0.9, loss_kl=0.3, time=0.7, memory=1100, iter=15)]
    (log / 'scalars.json').write_text('\n'.join(json.dumps(record) for record in records))
    read = scalars(str(tmp_path))
    assert len(read) == 3
    assert training_summary(read) == (pytest.approx(0.6), 1200, True)
    read[-1]['loss_kl'] = math.nan
    assert training_summary(read)[2] is False


def test_agreement_counts_equal_points_over_every_scene(tmp_path):
    cpu, cuda = tmp_path / 'cpu', tmp_path / 'cuda'
    cpu.mkdir()
    cuda.mkdir()
    np.save(cpu / 'a.npy', np.array([1, 2, 3, 4]))
    np.save(cuda / 'a.npy', np.array([1, 2, 0, 4]))
    np.save(cpu / 'b.npy', np.array([5, 5, 5, 5, 5, 5]))
    np.save(cuda / 'b.npy', np.array([5, 5, 5, 5, 5, 5]))
    assert prediction_agreement(str(cpu), str(cuda)) == (0.9, 10, 2)
    np.save(cuda / 'b.npy', np.array([5, 5]))
    with pytest.raises(ValueError, match=r'b.npy: \(6,\) predictions in .*, \(2,\) in'):
        prediction_agreement(str(cpu), str(cuda))
    (cuda / 'b.npy').unlink()
    with pytest.raises(ValueError, match='hold different scenes'):
        prediction_agreement(str(cpu), str(cuda))


def test_the_paper_schedule_is_120_epochs_of_151_batches():
    assert projected_paper_hours(1.0) == pytest.approx(151 * 120 / 3600)
