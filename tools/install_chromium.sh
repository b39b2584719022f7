#!/usr/bin/env bash
# Install Debian's Chromium for the headless-browser test of the scene viewer (tests/test_viewer.py), idempotent:
# nothing to do when /usr/bin/chromium exists. Without root or apt-get it says why and exits 0: the browser test
# then skips with that reason.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "[install_chromium] /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get):" \
         "the browser test of the viewer will skip; install Debian's chromium package to run it"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium; then
    apt-get update
    apt-get install -y --no-install-recommends chromium || \
        echo "[install_chromium] apt-get could not install chromium: the browser test of the viewer will skip"
fi
