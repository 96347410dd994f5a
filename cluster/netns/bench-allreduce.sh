#!/usr/bin/env bash
# All-reduce across namespace hosts, links limited to 1 GbE, against the ring alpha-beta model.
#   cluster/netns/bench-allreduce.sh [OUT_DIR]     (root; about 2 minutes on 2 cores)
# For n = 2 and 3 hosts: `ifer bench allreduce --json` unshaped and with tbf 1gbit on every
# link; then model.py prints the markdown table of docs/benchmarks.md ("Across hosts").
set -euo pipefail
cd "$(dirname "$0")/../.."
here=cluster/netns
out=${1:-runs/netns-bench}
mkdir -p "$out"
ifer=$PWD/.build/release/ifer
only=${BENCH_ONLY:-4KB,64KB,1MB,4MB,16MB,micro,tiny}
for n in 2 3; do
  for shape in none 1g; do
    echo "bench: $n hosts, links $shape" >&2
    OPENBLAS_NUM_THREADS=1 "$here/run.sh" "$n" --shape "$shape" -- -x OPENBLAS_NUM_THREADS \
      "$ifer" bench allreduce --json --only "$only" ${BENCH_REPS:+--reps $BENCH_REPS} > "$out/ar-n$n-$shape.jsonl"
  done
done
uptime >&2
python3 "$here/model.py" "$out"
