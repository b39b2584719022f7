#!/usr/bin/env bash
# Install the stack (idempotent) and run the test suite. Extra arguments go to pytest.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash tools/setup.sh
bash tools/install_chromium.sh  # the browser test of the viewer (skips without it)
exec .venv/bin/python -m pytest tests "$@"
