#!/usr/bin/env bash
# Check the style that setup.cfg writes down: flake8 (pycodestyle + pyflakes, 120 columns) and isort (import order,
# hicl and tests first-party). Installs the stack first (idempotent). Configs are not linted: {{_base_.x}} is
# mmengine syntax, not Python.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash tools/setup.sh
.venv/bin/flake8 projects tools tests
.venv/bin/isort --check-only --diff projects tools tests
echo "[lint] ok"
