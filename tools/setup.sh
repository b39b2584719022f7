#!/usr/bin/env bash
# Install the pinned HICL-3D stack into ./.venv (idempotent; re-running only redoes what changed).
#
#   bash tools/setup.sh            # CPU stack, as verified on a 2-core machine without GPU
#
# mmcv 2.1.0 has no wheel for torch 2.14: it is built from its sdist WITH ops (about 17 minutes on 2 cores).
# The built wheel is kept in $HICL_CACHE (default ~/.cache/hicl3d) and reused by every later setup.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
python=${PYTHON:-python3.11}
cache=${HICL_CACHE:-$HOME/.cache/hicl3d}
constraints="$repo/requirements/constraints.txt"
venv="$repo/.venv"
stamp="$venv/.hicl-setup-stamp"

log() { printf '[setup] %s\n' "$*"; }

want=$(cat requirements/*.txt projects/hicl/pyproject.toml tools/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import mmcv._ext, hicl' 2>/dev/null; then
  log "stack up to date in $venv"
  exit 0
fi

command -v "$python" >/dev/null || { echo "[setup] $python not found: install Python 3.11 or set PYTHON=" >&2; exit 1; }
[ -x "$venv/bin/python" ] || { log "creating $venv"; "$python" -m venv "$venv"; }
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -c "$constraints")

log "build tools (setuptools<81: mmcv's setup.py imports pkg_resources)"
"${pip[@]}" "setuptools<81" wheel ninja
log "torch + torchvision (the matching CUDA-build pair; runs on CPU)"
"${pip[@]}" torch torchvision numpy

mmcv_wheel=$(ls "$cache"/wheels/mmcv-2.1.0-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$mmcv_wheel" ]; then
  log "building mmcv 2.1.0 with ops from source (about 17 min on 2 cores); cached in $cache/wheels"
  build=$(mktemp -d)
  trap 'rm -rf "$build"' EXIT
  "$venv/bin/python" -m pip download --no-deps --no-binary :all: --no-build-isolation mmcv==2.1.0 -d "$build"
  tar -xzf "$build"/mmcv-2.1.0.tar.gz -C "$build"
  # torch >= 2.14 headers need C++20; mmcv 2.1.0 asks for C++17.
  sed -i 's/c++17/c++20/g' "$build"/mmcv-2.1.0/setup.py
  mkdir -p "$cache/wheels"
  (cd "$build/mmcv-2.1.0" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} \
    "$venv/bin/python" -m pip wheel --no-build-isolation --no-deps . -w "$build/dist")
  built=$(ls "$build"/dist/mmcv-2.1.0-*.whl)
  cp "$built" "$cache/wheels/$(basename "$built").part"
  mv "$cache/wheels/$(basename "$built").part" "$cache/wheels/$(basename "$built")"
  mmcv_wheel="$cache/wheels/$(basename "$built")"
fi
log "installing $mmcv_wheel"
"${pip[@]}" "$mmcv_wheel"
"$venv/bin/python" -c 'import mmcv._ext' || {
  echo "[setup] mmcv was installed without its compiled ops (mmcv._ext); delete $cache/wheels/mmcv-* and re-run" >&2
  exit 1
}

log "runtime and test requirements"
"${pip[@]}" -r requirements/runtime.txt -r requirements/tests.txt
log "the hicl plugin (editable)"
"${pip[@]}" --no-build-isolation --no-deps -e projects/hicl
"$venv/bin/python" -c 'import hicl, mmdet3d, spconv, open_clip; print("[setup] ok: hicl", hicl.__version__)'
echo "$want" > "$stamp"
