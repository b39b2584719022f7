"""One training per work dir: the second run is refused naming the first; a lock or temporary files left by a
killed run are detected and cleaned up."""
import os
import signal
import subprocess
import sys

import pytest

from hicl.engine import WorkDirLockedError, work_dir_lock
from tests.conftest import REPO

CONFIG = str(REPO / 'configs' / 'baseline_synthrooms.py')
KILLED_HOLDER = '''
import os, signal, sys
from hicl.engine.work_dir import work_dir_lock
with work_dir_lock(sys.argv[1]):
    open(os.path.join(sys.argv[1], f'epoch_3.pth.tmp{os.getpid()}'), 'wb').close()  # a save in progress
    os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_second_run_in_a_locked_work_dir_is_refused_naming_the_first(tmp_path):
    with work_dir_lock(str(tmp_path)):
        with pytest.raises(WorkDirLockedError, match=rf'work dir {tmp_path} is in use by another training \(pid '
                                                     rf'{os.getpid()} on .*use another --work-dir'):
            with work_dir_lock(str(tmp_path)):
                pass
    with work_dir_lock(str(tmp_path)):  # released at the end of the first
        pass


def test_train_cli_refuses_a_work_dir_in_use_before_writing_anything(tmp_path):
    with work_dir_lock(str(tmp_path)):
        out = subprocess.run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path)],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert f'error: work dir {tmp_path} is in use by another training (pid {os.getpid()}' in out.stderr
    assert 'Traceback' not in out.stderr
    assert os.listdir(tmp_path) == ['.hicl_run.lock']  # no log folder, no checkpoint of the second run


def test_the_lock_of_a_killed_run_is_taken_over_and_its_temporary_files_removed(tmp_path):
    out = subprocess.run([sys.executable, '-c', KILLED_HOLDER, str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == -signal.SIGKILL
    stale = [name for name in os.listdir(tmp_path) if '.tmp' in name]
    assert len(stale) == 1
    live = tmp_path / f'epoch_4.pth.tmp{os.getpid()}'  # a writer that still runs keeps its file
    live.touch()
    logged = []
    with work_dir_lock(str(tmp_path), log=logged.append):
        assert sorted(os.listdir(tmp_path)) == ['.hicl_run.lock', live.name]
    assert 'did not end cleanly; its lock is free and taken over' in logged[0]
    assert logged[1] == f'{tmp_path}: removed 1 temporary file(s) of an interrupted save: {stale[0]}'
