"""The mutation runner: each catalogue entry applied alone to a copy of the repository, its tests run there.

The repository's files (``git ls-files``: the tracked ones, plus the untracked ones git does not ignore, since
tracked work in progress may import them) are copied ONCE, as they are in the working tree, to a temporary folder;
the real working tree is never written. The tests run first on the unmutated copy (the baseline: a test that
already fails there cannot judge a mutation). Then, for each mutation: its original text must occur exactly once in
its file (else the entry is stale: the code moved), the mutated file is written in the copy, the mutation's tests
run there with ``PYTHONPATH=<copy>/projects/hicl`` (which shadows the editable install; the ``tests.mutation.guard``
plugin checks that ``hicl`` comes from the copy), and the file is restored. A mutation is killed when a test fails,
survived when all pass, error otherwise (a crash of pytest, a timeout, an import from elsewhere).
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from shutil import copy2, rmtree

from .catalogue import MUTATIONS, PACKAGE, Mutation
from .guard import COPY_ENV, RECORD_ENV

REPO = Path(__file__).resolve().parents[2]
KILLED, SURVIVED, EQUIVALENT, ERROR, STALE = 'killed', 'survived', 'equivalent', 'error', 'stale'
GATE_FAILURES = (SURVIVED, ERROR, STALE)  # any of these makes the check exit non-zero
PYTEST_OPTIONS = ('-q', '-p', 'no:cacheprovider', '-p', 'tests.mutation.guard', '-rfE')
DEFAULT_TIMEOUT = 900  # seconds per pytest run


@dataclass
class Outcome:
    """What one mutation did: ``location`` file:line (empty when stale), ``status`` one of KILLED ... STALE,
    ``detail`` the killing test or the reason, ``seconds`` the test run's wall time."""
    mutation: Mutation
    location: str
    status: str
    detail: str
    seconds: float = 0.0


def locate(text, original):
    """1-based line of the only occurrence of ``original`` in ``text``; None unless it occurs exactly once."""
    if text.count(original) != 1:
        return None
    return text[:text.index(original)].count('\n') + 1


def location_of(mutation, root=REPO):
    """'file:line' of the mutation's original text under ``root``, or None when the entry is stale."""
    relative = f'{PACKAGE}/{mutation.path}'
    path = root / relative
    line = locate(path.read_text(encoding='utf-8'), mutation.original) if path.is_file() else None
    return None if line is None else f'{relative}:{line}'


def repository_files(repo=REPO):
    """Relative paths of the files to copy: tracked, or untracked and not ignored, and present in the work tree."""
    listing = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=repo,
                             capture_output=True, check=True).stdout.decode()
    return [name for name in sorted(set(listing.split('\0'))) if name and os.path.lexists(repo / name)]


def copy_repository(destination, repo=REPO):
    """Copy the repository's files to ``destination``; link ``<destination>/../shared`` to the real one (the tests
    find the workspace's sample data next to the repository)."""
    for name in repository_files(repo):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        copy2(repo / name, target, follow_symlinks=False)
    shared = repo.parent / 'shared'
    if shared.is_dir():
        (destination.parent / 'shared').symlink_to(shared)


def covers(spec, node_id):
    """Whether a test spec (a file or a node id) includes the test ``node_id``."""
    return node_id == spec or node_id.startswith((spec + '::', spec + '['))


def distinct_specs(specs):
    """The specs without repeats and without node ids that a file among them already includes."""
    unique = list(dict.fromkeys(specs))
    return [spec for spec in unique if not any(other != spec and covers(other, spec) for other in unique)]


def failed_tests(output):
    """Node ids of the failed and erroring tests in pytest's short summary (``-rfE``: 'FAILED <node id> - <message>';
    a parametrised id may hold spaces), in order."""
    return [line.split(' ', 1)[1].split(' - ', 1)[0] for line in output.splitlines()
            if line.startswith(('FAILED ', 'ERROR '))]


def run_pytest(copy, specs, timeout, stop_at_first=True):
    """Run pytest on ``specs`` in the copy. Returns (exit code or None on timeout, output, seconds, the path
    ``hicl`` was imported from ('' when not recorded))."""
    record = copy.parent / 'hicl_import_record.txt'
    record.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(copy / 'projects' / 'hicl'), OMP_NUM_THREADS='1',
               PYTHONDONTWRITEBYTECODE='1', **{COPY_ENV: str(copy), RECORD_ENV: str(record)})
    command = [sys.executable, '-m', 'pytest', *distinct_specs(specs), *PYTEST_OPTIONS]
    command += ['-x'] if stop_at_first else []
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the session holds pytest and any process it spawned
        output, _ = process.communicate()
        code = None
    imported = record.read_text() if record.exists() else ''
    return code, output, time.monotonic() - start, imported


def judge(mutation, code, output, imported, copy, timeout):
    """(status, detail) of one mutated test run."""
    if code is None:
        return ERROR, f'timed out after {timeout} s'
    if not imported.startswith(str(copy) + os.sep):
        return ERROR, f'hicl was imported from {imported or "an unknown place"}, not from the copy'
    if code == 0:
        if mutation.equivalent:
            return EQUIVALENT, 'equivalent (see its catalogue comment): its tests pass'
        return SURVIVED, 'all its tests pass'
    if code == 1:
        failed = failed_tests(output)
        return KILLED, failed[0] if failed else 'a test failed'
    last = [line for line in output.splitlines() if line.strip()][-1:] or ['no output']
    return ERROR, f'pytest exit code {code}: {last[0]}'


def baseline_failures(copy, mutations, timeout):
    """Node ids of the mutations' tests that fail on the unmutated copy (all of them, no -x). RuntimeError when
    pytest itself fails there (collection error, import from elsewhere, timeout)."""
    code, output, _, imported = run_pytest(copy, [spec for m in mutations for spec in m.tests], timeout,
                                           stop_at_first=False)
    if code not in (0, 1) or not imported.startswith(str(copy) + os.sep):
        raise RuntimeError(f'the unmutated tests do not run in the copy (exit code {code}, hicl from '
                           f'{imported or "nowhere"}):\n' + '\n'.join(output.splitlines()[-30:]))
    return failed_tests(output)


def mutate_and_test(copy, mutation, index, timeout):
    """Apply ``mutation`` in the copy, run its tests, restore the file; returns its Outcome."""
    relative = f'{PACKAGE}/{mutation.path}'
    path = (copy / relative).resolve()
    if not path.is_relative_to(copy):
        raise ValueError(f'{mutation.name}: {relative} lies outside the copy')
    data = path.read_bytes() if path.is_file() else b''
    line = locate(data.decode('utf-8'), mutation.original)
    if line is None:
        return Outcome(mutation, '', STALE, f'the original text does not occur exactly once in {relative}')
    stat = path.stat()
    try:
        path.write_bytes(data.decode('utf-8').replace(mutation.original, mutation.replacement).encode('utf-8'))
        # a fresh modification time, so that no cache keyed on (mtime, size) (numba's) serves the unmutated code
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + (index + 1) * 10**9))
        code, output, seconds, imported = run_pytest(copy, mutation.tests, timeout)
    finally:
        path.write_bytes(data)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    status, detail = judge(mutation, code, output, imported, copy, timeout)
    return Outcome(mutation, f'{relative}:{line}', status, detail, seconds)


def select(names=None):
    """The catalogue entries named (all when ``names`` is empty); KeyError naming unknown names."""
    if not names:
        return list(MUTATIONS)
    by_name = {mutation.name: mutation for mutation in MUTATIONS}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise KeyError(f'unknown mutations {unknown}; --list shows the catalogue')
    return [by_name[name] for name in names]


def run_mutations(mutations, timeout=DEFAULT_TIMEOUT, report=print):
    """Run ``mutations`` on a fresh copy of the repository; returns their Outcomes. ``report`` gets one progress
    line per mutation."""
    workspace = Path(tempfile.mkdtemp(prefix='hicl_mutation_')).resolve()
    try:
        copy = workspace / 'repo'
        copy_repository(copy)
        report(f'copied the repository to {copy}; baseline: the tests of {len(mutations)} mutations, unmutated')
        broken = baseline_failures(copy, mutations, timeout)
        outcomes = []
        for index, mutation in enumerate(mutations):
            failing = [node for node in broken if any(covers(spec, node) for spec in mutation.tests)]
            if failing:
                outcome = Outcome(mutation, location_of(mutation, copy) or '', ERROR,
                                  f'fails without the mutation: {failing[0]}')
            else:
                outcome = mutate_and_test(copy, mutation, index, timeout)
            outcomes.append(outcome)
            report(f'[{index + 1}/{len(mutations)}] {mutation.name}: {outcome.status} ({outcome.detail}) '
                   f'{outcome.seconds:.0f} s')
        return outcomes
    finally:
        rmtree(workspace, ignore_errors=True)


def markdown_table(outcomes):
    """The outcomes as a markdown table: mutation, what it breaks, where, result, which test killed it or why."""
    rows = ['| mutation | what it breaks | file:line | result | killed by / note |', '|---|---|---|---|---|']
    for outcome in outcomes:
        description = outcome.mutation.description.replace('|', '\\|')
        detail = outcome.detail.replace('|', '\\|')
        rows.append(f'| {outcome.mutation.name} | {description} | {outcome.location} | {outcome.status} | '
                    f'{detail} |')
    return '\n'.join(rows) + '\n'


def text_table(outcomes):
    """The outcomes as aligned plain-text columns: mutation, file:line, result, killed by / note."""
    rows = [('mutation', 'file:line', 'result', 'killed by / note')]
    rows += [(o.mutation.name, o.location, o.status, o.detail) for o in outcomes]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return '\n'.join('  '.join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + '  ' + row[3]
                     for row in rows)


def summary(outcomes):
    """One line: how many mutations ended in each status."""
    counts = {status: sum(o.status == status for o in outcomes)
              for status in (KILLED, EQUIVALENT, SURVIVED, ERROR, STALE)}
    return ', '.join(f'{count} {status}' for status, count in counts.items() if count) or 'no mutations'


def gate_passes(outcomes):
    """True when no mutation survived, errored or went stale."""
    return not any(outcome.status in GATE_FAILURES for outcome in outcomes)
