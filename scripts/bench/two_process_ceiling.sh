#!/usr/bin/env bash
# The most 2 ranks can scale on this machine: the peer step (`ifer bench step --model peer`,
# 1 BLAS thread) alone, then two independent copies at once (no MPI, no all-reduce), each
# pinned to its own core. ceiling = (images/s of the two together) / (2 x images/s alone): what
# the cores, caches and memory bandwidth allow before any communication. Compare it with
# `mpirun -np 2 ifer bench step --model peer`'s scaling_efficiency, measured right after.
#
#   scripts/bench/two_process_ceiling.sh [REPS]      (default 40 timed steps per process)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
IFER=$PWD/.build/release/ifer
REPS=${1:-40}
run() { "$IFER" bench step --model peer --threads 1 --reps "$REPS" --min-time 0 --warmup 3 | grep '"asit_step_b8"'; }
ips() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["images_per_s"])'; }
# Alone before and after the pair (the mean of the two), so drift in the machine's speed
# during the run does not pass for scaling.
before=$(taskset -c 0 bash -c "$(declare -f run); IFER=$IFER REPS=$REPS run" | ips)
tmp=$(mktemp -d)
taskset -c 0 bash -c "$(declare -f run); IFER=$IFER REPS=$REPS run" > "$tmp/a" &
taskset -c 1 bash -c "$(declare -f run); IFER=$IFER REPS=$REPS run" > "$tmp/b" &
wait
a=$(ips < "$tmp/a"); b=$(ips < "$tmp/b")
rm -rf "$tmp"
after=$(taskset -c 1 bash -c "$(declare -f run); IFER=$IFER REPS=$REPS run" | ips)
alone=$(python3 -c "print(($before + $after) / 2)")
python3 -c "print('{\"bench\": \"two_process_ceiling\", \"alone_before\": %.3f, \"alone_after\": %.3f, \"together_images_per_s\": %.3f, \"ceiling\": %.4f}' % ($before, $after, $a + $b, ($a + $b) / (2 * $alone)))"
