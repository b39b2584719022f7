#!/usr/bin/env bash
# Install the pinned HICL-3D stack into ./.venv (idempotent; re-running only redoes what changed).
#
#   bash tools/setup.sh                   # the CUDA profile when nvidia-smi lists a GPU, else the CPU profile
#   HICL_DEVICE=cpu bash tools/setup.sh   # force a profile: cpu, cuda, or auto (the default)
#   bash tools/setup.sh --print-profile   # say which profile would be installed, and why; install nothing
#
# Profiles (requirements/profile-{cpu,cuda}.txt; docs/stack.md says why each pin): the CPU profile is verified end
# to end on a 2-core machine without GPU; the CUDA profile swaps torch and the sparse-convolution wheels for builds
# with CUDA kernels. mmcv 2.1.0 has no wheel for these torch releases: it is built from its sdist WITH its CPU ops
# (about 17 minutes on 2 cores; the configs call no compiled mmcv op on the GPU, see docs/stack.md). The built
# wheel is kept per torch release in $HICL_CACHE (default ~/.cache/hicl3d) and reused by every later setup.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
python=${PYTHON:-python3.11}
cache=${HICL_CACHE:-$HOME/.cache/hicl3d}
venv="$repo/.venv"
stamp="$venv/.hicl-setup-stamp"

log() { printf '[setup] %s\n' "$*"; }

case "${HICL_DEVICE:-auto}" in
  cpu) profile=cpu; reason="HICL_DEVICE=cpu" ;;
  cuda) profile=cuda; reason="HICL_DEVICE=cuda" ;;
  auto)
    if gpus=$(nvidia-smi -L 2>/dev/null) && grep -q '^GPU' <<<"$gpus"; then
      profile=cuda; reason="nvidia-smi -L lists $(grep -c '^GPU' <<<"$gpus") GPU(s)"
    else
      profile=cpu; reason="no GPU listed by nvidia-smi -L"
    fi ;;
  *) echo "[setup] HICL_DEVICE=${HICL_DEVICE}: choose cpu, cuda or auto (the default: cuda when nvidia-smi -L lists a GPU)" >&2
     exit 2 ;;
esac
constraints="$repo/requirements/profile-$profile.txt"
if [ "$profile" = cuda ]; then
  sparse=(spconv-cu126 cumm-cu126); other_sparse=(spconv cumm); device=cuda
else
  sparse=(spconv cumm); other_sparse=(spconv-cu126 cumm-cu126); device=cpu
fi
if [ "${1:-}" = --print-profile ]; then
  echo "profile: $profile ($reason)"
  echo "constraints: requirements/profile-$profile.txt"
  exit 0
fi
log "profile $profile ($reason): requirements/profile-$profile.txt"

want=$( (cat requirements/*.txt projects/hicl/pyproject.toml tools/setup.sh; echo "$profile") | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import mmcv._ext, hicl' 2>/dev/null; then
  log "stack up to date in $venv"
  exit 0
fi

command -v "$python" >/dev/null || { echo "[setup] $python not found: install Python 3.11 or set PYTHON=" >&2; exit 1; }
[ -x "$venv/bin/python" ] || { log "creating $venv"; "$python" -m venv "$venv"; }
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -c "$constraints")

log "build tools (setuptools<81: mmcv's setup.py imports pkg_resources)"
"${pip[@]}" "setuptools<81" wheel ninja
log "torch + torchvision (the profile's matching pair)"
"${pip[@]}" torch torchvision numpy
torch_version=$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')

# The CPU profile's wheel stays where earlier setups cached it; other torch releases get a folder each (an mmcv
# built against one torch release does not load beside another).
wheels="$cache/wheels"
[ "$profile" = cpu ] || wheels="$cache/wheels/torch-$torch_version"
mmcv_wheel=$(ls "$wheels"/mmcv-2.1.0-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$mmcv_wheel" ]; then
  log "building mmcv 2.1.0 with CPU ops against torch $torch_version (about 17 min on 2 cores); cached in $wheels"
  build=$(mktemp -d)
  trap 'rm -rf "$build"' EXIT
  "$venv/bin/python" -m pip download --no-deps --no-binary :all: --no-build-isolation mmcv==2.1.0 -d "$build"
  tar -xzf "$build"/mmcv-2.1.0.tar.gz -C "$build"
  # torch >= 2.14 headers need C++20; mmcv 2.1.0 asks for C++17.
  sed -i 's/c++17/c++20/g' "$build"/mmcv-2.1.0/setup.py
  mkdir -p "$wheels"
  # CPU ops only, on purpose: mmcv's setup.py builds CUDA ops whenever torch sees a GPU, and no config calls one.
  (cd "$build/mmcv-2.1.0" && MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES= MAX_JOBS=${MAX_JOBS:-2} \
    "$venv/bin/python" -m pip wheel --no-build-isolation --no-deps . -w "$build/dist")
  built=$(ls "$build"/dist/mmcv-2.1.0-*.whl)
  cp "$built" "$wheels/$(basename "$built").part"
  mv "$wheels/$(basename "$built").part" "$wheels/$(basename "$built")"
  mmcv_wheel="$wheels/$(basename "$built")"
fi
log "installing $mmcv_wheel"
"${pip[@]}" --force-reinstall --no-deps "$mmcv_wheel"  # the same version may be there, built for another torch
"${pip[@]}" "$mmcv_wheel"  # and its dependencies (opencv, ...)
"$venv/bin/python" -c 'import mmcv._ext' || {
  echo "[setup] mmcv was installed without its compiled ops (mmcv._ext); delete $wheels/mmcv-* and re-run" >&2
  exit 1
}

log "sparse convolutions: ${sparse[*]}"
"$venv/bin/python" -m pip uninstall -y -q "${other_sparse[@]}" 2>/dev/null || true  # the same module, spconv
"${pip[@]}" "${sparse[@]}"
log "runtime and test requirements"
"${pip[@]}" -r requirements/runtime.txt -r requirements/tests.txt
log "the hicl plugin (editable)"
"${pip[@]}" --no-build-isolation --no-deps -e projects/hicl
log "$profile profile installed; the device self-test:"
"$venv/bin/python" -m hicl.engine.device_selftest --stack --device "$device" | sed 's/^/[setup] /'
echo "$want" > "$stamp"
