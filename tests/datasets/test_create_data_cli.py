"""tools/create_data.py refuses counts that cannot make a dataset when it parses its arguments, naming the option,
before any scene is generated or converted."""
import runpy
import sys

import pytest

from tests.conftest import REPO

TOOL = str(REPO / 'tools' / 'create_data.py')


def run_tool(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', [TOOL, *args])
    runpy.run_path(TOOL, run_name='__main__')


@pytest.mark.parametrize('args, message', [
    (['synthrooms', '--frames-per-scene', '0'], 'argument --frames-per-scene: must be >= 1, got 0'),
    (['synthrooms', '--workers', '0'], 'argument --workers: must be >= 1, got 0'),
    (['synthrooms', '--num-train', '-1'], 'argument --num-train: must be >= 0, got -1'),
    (['synthrooms', '--num-train', '0', '--num-val', '0', '--num-test', '0'],
     '--num-train, --num-val and --num-test are all 0: no scene to generate'),
    (['synthstreet', '--samples-per-scene', '0'], 'argument --samples-per-scene: must be >= 1, got 0'),
    (['synthstreet', '--sweeps-per-sample', '-2'], 'argument --sweeps-per-sample: must be >= 0, got -2'),
    (['scannet', '--root', 'raw', '--frame-step', '0'], 'argument --frame-step: must be >= 1, got 0'),
    (['scannet', '--root', 'raw', '--max-frames', '0'], 'argument --max-frames: must be >= 1, got 0'),
], ids=['frames-per-scene-0', 'workers-0', 'num-train-negative', 'every-split-0', 'samples-per-scene-0',
        'sweeps-per-sample-negative', 'frame-step-0', 'max-frames-0'])
def test_counts_that_cannot_make_a_dataset_are_refused_at_parsing(monkeypatch, capsys, tmp_path, args, message):
    out = tmp_path / 'out'
    small = ['--num-train', '1', '--num-val', '0', '--num-test', '0'] if args[0] == 'synthrooms' else []
    with pytest.raises(SystemExit) as exit_info:  # the options given last win: the small set when parsing passes
        run_tool(monkeypatch, args[0], '--out', str(out), *small, *args[1:])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_split_of_zero_scenes_is_left_out(monkeypatch, capsys, tmp_path):
    """--num-val 0 and --num-test 0 are legitimate: only the train split is generated and converted."""
    run_tool(monkeypatch, 'synthrooms', '--out', str(tmp_path / 'out'), '--num-train', '1', '--num-val', '0',
             '--num-test', '0', '--frames-per-scene', '1', '--workers', '1')
    assert sorted(path.name for path in (tmp_path / 'out').glob('hicl_infos_*.pkl')) == ['hicl_infos_train.pkl']
    assert '1 scenes converted' in capsys.readouterr().out
