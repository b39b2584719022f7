"""One training per work dir: a lock held while a run writes into it, and the temporary files of a killed save
removed when the next run takes the lock.

The lock is an ``flock`` on ``<work_dir>/.hicl_run.lock``: the kernel releases it when its process ends, however
it ends (``kill -9`` included), so a lock left by a killed run is never mistaken for a live one. The file holds
the holder's pid, host and start time for the message a second run gets; a released lock leaves it empty, so a
non-empty file found free was left by a run that did not end cleanly.
"""
import contextlib
import fcntl
import json
import os
import re
import socket
import sys
import time

LOCK_NAME = '.hicl_run.lock'
# atomic_write's temporary files: '<name>.tmp<pid>'
TEMPORARY_FILE = re.compile(r'.+\.tmp(\d+)$')


class WorkDirLockedError(RuntimeError):
    """Another live run holds the work dir; the message names it and the fix."""


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(work_dir):
    """Delete the files ``<name>.tmp<pid>`` directly in ``work_dir`` whose writing process (pid on this host) no
    longer runs: what a save interrupted by ``kill -9`` leaves. Returns their names."""
    removed = []
    for name in sorted(os.listdir(work_dir)):
        match = TEMPORARY_FILE.match(name)
        path = os.path.join(work_dir, name)
        if match and os.path.isfile(path) and not _pid_alive(int(match.group(1))):
            os.remove(path)
            removed.append(name)
    return removed


def _read_holder(file):
    file.seek(0)
    try:
        return json.loads(file.read() or 'null')
    except ValueError:
        return None


@contextlib.contextmanager
def work_dir_lock(work_dir, log=print):
    """Hold the lock of ``work_dir`` (created if needed) for the ``with`` block.

    Raises :class:`WorkDirLockedError` naming the holder when another live process holds it. Once taken: a lock
    left by a run that did not end cleanly is reported through ``log``, and that run's temporary files are
    removed (:func:`remove_stale_temporaries`). In a distributed run only global rank 0 takes it (the ranks share
    one work dir). Yields the lock file's path.
    """
    if int(os.environ.get('RANK', '0')) != 0:
        yield None
        return
    os.makedirs(work_dir, exist_ok=True)
    path = os.path.join(work_dir, LOCK_NAME)
    with open(path, 'a+') as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(file) or {}
            raise WorkDirLockedError(
                f'work dir {work_dir} is in use by another training (pid {holder.get("pid", "?")} on '
                f'{holder.get("host", "?")}, started {holder.get("started", "?")}: {holder.get("command", "?")}). '
                'Two runs in one work dir overwrite each other\'s logs and checkpoints: use another --work-dir, '
                'or wait until that run ends') from None
        previous = _read_holder(file)
        if previous:
            log(f'{work_dir}: the previous run (pid {previous.get("pid")}, started {previous.get("started")}) did '
                'not end cleanly; its lock is free and taken over')
        removed = remove_stale_temporaries(work_dir)
        if removed:
            log(f'{work_dir}: removed {len(removed)} temporary file(s) of an interrupted save: {", ".join(removed)}')
        file.seek(0)
        file.truncate()
        file.write(json.dumps(dict(pid=os.getpid(), host=socket.gethostname(),
                                   started=time.strftime('%Y-%m-%d %H:%M:%S'), command=' '.join(sys.argv))))
        file.flush()
        try:
            yield path
        finally:
            file.seek(0)
            file.truncate()
            file.flush()
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
