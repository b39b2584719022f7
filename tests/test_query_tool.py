"""tools/query.py refuses bad options before it loads a model (texts whose output files would collide, --top
outside (0, 1], empty texts, an --out it cannot write, a --vocabulary without --score softmax), states its scores in
--help, and long texts get short, distinct file names."""
import runpy
import sys

import pytest

import hicl.inference
from hicl.text_queries import query_slug
from tests.conftest import REPO
from tests.test_training import CONFIG

TOOL = REPO / 'tools' / 'query.py'


class ModelLoaded(Exception):
    """Raised in place of loading the model: the tool got past its checks."""


@pytest.fixture
def query_tool(monkeypatch, tmp_path):
    """run(*options): tools/query.py CONFIG CKPT --scene scene0000_00 --out <tmp>/out *options, with the model
    loading replaced by raising ModelLoaded."""
    def load_inference_model(*args, **kwargs):
        raise ModelLoaded()
    monkeypatch.setattr(hicl.inference, 'load_inference_model', load_inference_model)

    def run(*options):
        monkeypatch.setattr(sys, 'argv', [str(TOOL), CONFIG, str(tmp_path / 'model.pth'), '--scene', 'scene0000_00',
                                          '--out', str(tmp_path / 'out'), *options])
        runpy.run_path(str(TOOL), run_name='__main__')
    return run


def usage_error(run, capsys, *options):
    """The stderr of ``run(*options)``, which must stop with a usage error (exit 2) before loading the model."""
    with pytest.raises(SystemExit) as stop:
        run(*options)
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_texts_with_the_same_output_files_are_refused_naming_both(query_tool, capsys, tmp_path):
    err = usage_error(query_tool, capsys, '--text', 'chair', '--text', 'A chair', '--text', 'a chair!')
    assert ("--text: the texts 'A chair' and 'a chair!' would both be written to the files <scene>.a_chair.ply/.png"
            in err), err
    assert 'drop one, or make them differ in letters or digits' in err
    assert not (tmp_path / 'out').exists()  # refused before anything was written


@pytest.mark.parametrize('top', ['5', '0', '-0.5', 'nan', 'most'])
def test_top_outside_zero_to_one_is_refused(query_tool, capsys, top):
    err = usage_error(query_tool, capsys, '--text', 'chair', '--top', top)
    assert f'argument --top: {top} is not a share in (0, 1]: e.g. 0.01 for the top 1%' in err, err


@pytest.mark.parametrize('text', ['', '  \t'])
def test_empty_texts_are_refused(query_tool, capsys, text):
    err = usage_error(query_tool, capsys, '--text', 'chair', '--text', text)
    assert f'argument --text: {text!r} is empty: a query needs words' in err, err


def test_an_out_that_is_a_file_is_refused(query_tool, capsys, tmp_path):
    (tmp_path / 'taken').write_text('a file')
    err = usage_error(query_tool, capsys, '--text', 'chair', '--out', str(tmp_path / 'taken'))
    assert (f'--out: cannot write into the folder {tmp_path / "taken"}: it is a file, not a folder; pass a folder '
            'that can be created and written to') in err, err


@pytest.mark.parametrize('options, message', [
    (['--vocabulary', 'scannet20'], '--vocabulary scannet20 only applies to --score softmax'),
    (['--score', 'cosine', '--vocabulary', 'scannet20'], '--vocabulary scannet20 only applies to --score softmax'),
    (['--score', 'probability'], "argument --score: invalid choice: 'probability' (choose from 'cosine', 'softmax')"),
])
def test_score_options_are_checked(query_tool, capsys, options, message):
    err = usage_error(query_tool, capsys, '--text', 'chair', *options)
    assert message in err, err


def test_help_states_both_scores_and_their_colour_ranges(query_tool, capsys):
    with pytest.raises(SystemExit):
        query_tool('--help')
    text = ' '.join(capsys.readouterr().out.split())
    for statement in ('"cosine" (default), the cosine similarity of the point\'s feature and the text embedding, both '
                      'L2-normalised, raw in [-1, 1], coloured min-max over the scene',
                      '"softmax", the probability of the text when it competes with the model\'s classes (or '
                      '--vocabulary), in [0, 1], coloured from 0 to 1; class anchors with a cosine >= 0.99 to the text '
                      'are left out of its competitors'):
        assert statement in text, text


def test_valid_options_get_to_the_model(query_tool, tmp_path):
    with pytest.raises(ModelLoaded):
        query_tool('--text', 'chair', '--text', 'x' * 10_000, '--top', '1', '--score', 'softmax', '--vocabulary',
                   'scannet20')
    assert (tmp_path / 'out').is_dir() and not list((tmp_path / 'out').iterdir())  # created, probe removed


def test_long_texts_get_short_distinct_file_names(tmp_path):
    long_text, other = 'a chair ' * 1250, 'a chair ' * 1249 + 'a sofa'  # 10,000 characters, same first 60
    for text in (long_text, other, '椅子' * 5000):
        slug = query_slug(text)
        assert len(slug.encode()) <= 69, slug  # cut to 60 bytes, then '-' and 8 hex digits of a hash
        (tmp_path / f'scene0000_00.{slug}.ply').write_bytes(b'')  # within the file system's name limit
    assert query_slug(long_text) != query_slug(other)
    assert query_slug(long_text).startswith('a_chair_a_chair_')
    assert query_slug('A place to sit!') == 'a_place_to_sit'  # short texts keep their plain slug
    assert query_slug('?') == 'query'  # no letter or digit
