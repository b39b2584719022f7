"""A test whose real sample data or browser is missing skips on a user's machine and fails in CI (CI=true)."""
import os
import subprocess
import sys

import pytest

from tests import conftest

NEEDS_MISSING_SAMPLE = '''
from tests.conftest import shared_path

def test_needs_a_missing_sample():
    shared_path('no_such_sample_folder')
'''


@pytest.mark.parametrize('ci, outcome', [('', '1 skipped'), ('true', '1 failed')])
def test_a_missing_sample_skips_outside_ci_and_fails_in_ci(tmp_path, ci, outcome):
    test_file = tmp_path / 'test_needs_sample.py'
    test_file.write_text(NEEDS_MISSING_SAMPLE)
    env = dict(os.environ, CI=ci)
    result = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-rsf', '-p', 'no:cacheprovider', str(test_file),
                             '--rootdir', str(conftest.REPO)], cwd=conftest.REPO, env=env, capture_output=True,
                            text=True)
    assert outcome in result.stdout, result.stdout
    assert str(conftest.SHARED_DATA / 'no_such_sample_folder') in result.stdout
    assert ('CI=true: a test whose data or browser is missing fails' in result.stdout) == (ci == 'true')
    assert result.returncode == (1 if ci else 0)
