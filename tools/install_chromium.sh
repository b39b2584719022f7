#!/usr/bin/env bash
# Install Debian's Chromium for the headless-browser tests of the scene viewer (tests/test_viewer.py), idempotent:
# nothing to do when /usr/bin/chromium exists. Exits non-zero, saying why, when it could not install it (no root,
# no apt-get, or apt-get failed); tools/run_tests.sh then goes on outside CI (the browser tests skip with the reason)
# and stops in CI (CI=true), where every test must run.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "[install_chromium] /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get):" \
         "install Debian's chromium package to run the viewer's browser tests" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium; then
    apt-get update || true  # an update that fails leaves the install below to say why
    if ! apt-get install -y --no-install-recommends chromium; then
        echo "[install_chromium] apt-get could not install chromium (see its output above)" >&2
        exit 1
    fi
fi
