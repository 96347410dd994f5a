#!/usr/bin/env bash
# Peak memory of the paper's asit step, one process per case (so ru_maxrss is that case's),
# each under `ulimit -v`: batch 2 without activation checkpointing, batch 8 with it (all).
# Prints one JSON line per case (`ifer bench memory`), or {"case": ..., "status": N} when a case
# fails (a case over the limit dies allocating). Needs a release build (.build/release/ifer).
#
#   scripts/bench/memory_paper.sh                       configs/paper/asit-ffhq.yaml, cases "2:none 8:all"
#   CONFIG=configs/tiny/asit.yaml scripts/bench/memory_paper.sh     the same at tiny size (a check)
#   CASES="2:none 2:all 8:all" LIMIT_GB=24 STEPS=1 scripts/bench/memory_paper.sh
#
# CASES: batch:checkpointing pairs (none | encoder_blocks | generator | all). LIMIT_GB: the
# address-space cap of each case (default 24). STEPS: timed steps after the warm-up (default 1).
# The issue's target: the batch-8 case with checkpointing within 20 GB peak RSS (rss_max_mb).
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
IFER=$PWD/.build/release/ifer
[ -x "$IFER" ] || { echo "memory_paper: $IFER missing; build with swift build -c release" >&2; exit 2; }
CONFIG=${CONFIG:-configs/paper/asit-ffhq.yaml}
CASES=${CASES:-"2:none 8:all"}
LIMIT_GB=${LIMIT_GB:-24}
STEPS=${STEPS:-1}
failed=0
for c in $CASES; do
  batch=${c%%:*}
  mode=${c#*:}
  # A subshell per case: the limit applies to that process only.
  (
    ulimit -v $((LIMIT_GB * 1024 * 1024))
    exec "$IFER" bench memory --config "$CONFIG" --batch "$batch" --checkpointing "$mode" --steps "$STEPS"
  )
  status=$?
  if [ $status -ne 0 ]; then
    echo "{\"bench\": \"memory\", \"config\": \"$CONFIG\", \"batch\": $batch, \"checkpointing\": \"$mode\", \"limit_gb\": $LIMIT_GB, \"status\": $status}"
    failed=1
  fi
done
exit $failed
