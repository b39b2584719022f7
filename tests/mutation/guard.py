"""Pytest plugin the mutation runner loads (``-p tests.mutation.guard``) in the mutated copy: it records where
``hicl`` is imported from and stops the session unless that is the copy (``HICL_MUTATION_COPY``), so a mutation can
never be judged on the editable install of the real working tree."""
import os

import pytest

COPY_ENV, RECORD_ENV = 'HICL_MUTATION_COPY', 'HICL_MUTATION_IMPORT_RECORD'


def pytest_sessionstart(session):
    """Write ``hicl.__file__`` to the record file; UsageError (exit code 4) when it lies outside the copy."""
    copy = os.environ.get(COPY_ENV)
    if copy is None:
        return
    import hicl
    imported = os.path.realpath(hicl.__file__)
    with open(os.environ[RECORD_ENV], 'w') as record:
        record.write(imported)
    if not imported.startswith(os.path.realpath(copy) + os.sep):
        raise pytest.UsageError(f'hicl was imported from {imported}, not from the mutated copy {copy}')
