#!/usr/bin/env bash
# Distributed testing through torchrun and the mmengine launcher: tools/dist_test.sh CONFIG CKPT NPROC [ARGS...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT. CPU-only machines use the gloo backend automatically.
set -euo pipefail
CONFIG=$1
CKPT=$2
NPROC=$3
shift 3
"${PYTHON:-python}" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" --nproc_per_node="$NPROC" \
  "$(dirname "$0")/test.py" "$CONFIG" "$CKPT" --launcher pytorch "$@"
