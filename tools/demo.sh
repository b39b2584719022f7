#!/usr/bin/env bash
# Set everything up and run the main job on the embedded SynthRooms dataset:
# install the stack -> generate + convert SynthRooms -> simulated pseudo-labels -> train HICL (paper EXP V:
# set voting, intra- and inter-scene correlation, feedback KL) -> test (per-class IoU table and mIoU on the
# val split). Another config as the first argument runs that one instead, e.g. configs/baseline_synthrooms.py,
# or the outdoor path on the embedded SynthStreet set: configs/hicl_synthstreet.py.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
config=${1:-configs/hicl_synthrooms.py}
work_dir=work_dirs/$(basename "$config" .py)
start=$(date +%s)

bash tools/setup.sh
py=.venv/bin/python
case "$config" in
  *synthstreet*) $py tools/create_data.py synthstreet --out data/synthstreet ;;
  *) $py tools/create_data.py synthrooms --out data/synthrooms ;;
esac
$py tools/make_pseudo_labels.py "$config"
$py tools/train.py "$config" --work-dir "$work_dir"
$py tools/test.py "$config" "$(cat "$work_dir/last_checkpoint")" --work-dir "$work_dir"
echo "[demo] finished in $(( $(date +%s) - start )) s; logs and checkpoints in $work_dir"
