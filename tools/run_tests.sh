#!/usr/bin/env bash
# Install the stack (idempotent) and run the test suite. Extra arguments go to pytest.
# Outside CI a test whose real sample data (../shared/data) or browser is missing skips with the reason; with
# CI=true it fails, and a failed browser install stops here.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash tools/setup.sh
if ! bash tools/install_chromium.sh; then
    case "${CI:-}" in
        true | 1 | yes | TRUE | True)
            echo "[run_tests] CI=true: Chromium is needed for the viewer's browser tests" >&2
            exit 1 ;;
        *) echo "[run_tests] going on without Chromium: the viewer's browser tests will skip" >&2 ;;
    esac
fi
exec .venv/bin/python -m pytest tests "$@"
