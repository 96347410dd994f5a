#!/usr/bin/env bash
# The main job, end to end on the embedded synthetic data:
#   set up -> render RAF-DB-layout faces -> shard them with mpirun -np 2 -> train the `ifer`
#   stage (micro config) on 2 ranks -> evaluate on the test split -> print the accuracy.
# Data goes under runs/demo/data/, the run under runs/demo/ifer/. Re-running resumes nothing:
# each run starts fresh (pass DEMO_RESUME=auto to continue a previous run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

ifer=.build/release/ifer
ranks=${DEMO_RANKS:-2}
count=${DEMO_COUNT:-2800}
steps=${DEMO_STEPS:-600}
data=runs/demo/data
run=runs/demo/ifer

echo "demo: rendering $count synthetic faces in the RAF-DB layout (32 px)"
$ifer synth --layout rafdb --out "$data/rafdb" --count "$count" --resolution 32 --seed 0

echo "demo: sharding with mpirun -np $ranks"
mpirun -np "$ranks" $ifer shard --dataset rafdb --root "$data/rafdb" --out "$data/shards" --resolution 32

echo "demo: training the ifer stage (configs/micro/ifer.yaml, $steps steps) with mpirun -np $ranks"
[ "${DEMO_RESUME:-none}" = "auto" ] || rm -rf "$run"
mpirun -np "$ranks" $ifer train --config configs/micro/ifer.yaml --run-dir "$run" \
  --resume "${DEMO_RESUME:-none}" --set data.shards="$data/shards" --set train.steps="$steps" | tee "$run.log"

echo "demo: run folder $run (metrics.jsonl, confusion.csv, checkpoints/)"
