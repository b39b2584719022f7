#!/usr/bin/env bash
# Check the install on this machine's devices in minutes and write a table to paste into an issue:
#   bash tools/device_check.sh [--out FILE] [--iterations 50] [--paper-iterations 20]
# Rows: the stack, a SubMConv3d forward/backward per device, configs/hicl_synthrooms.py training with and without
# --amp, export and tools/test.py on the device, GPU vs CPU predictions of one checkpoint, the paper-size model,
# a one-process torchrun with NCCL (hicl/experiments/device_check.py). Without a GPU: the CPU rows, and it says so.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash tools/setup.sh
py=.venv/bin/python
[ -f data/synthrooms/hicl_infos_train.pkl ] || $py tools/create_data.py synthrooms --out data/synthrooms
$py tools/make_pseudo_labels.py configs/hicl_synthrooms.py
exec $py -m hicl.experiments.device_check "$@"
