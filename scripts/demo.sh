#!/usr/bin/env bash
# The method end to end on the embedded synthetic data, on 2 ranks:
#   set up -> render RAF-DB-layout faces (ifer synth) -> shard them (mpirun -np 2 ifer shard)
#   -> generator: StyleGAN2 from scratch on the training faces
#   -> asit:      the inversion encoder against that frozen generator
#   -> ifer:      the expression classifier, its encoder initialised from the asit encoder
#   -> ifer from a random encoder with the same steps (does inversion pre-training help?)
#   -> evaluate each, print one table, write runs/demo/summary.json.
# Data under runs/demo/data/, runs under runs/demo/{generator,asit,ifer,ifer-scratch}/.
# Each rerun starts the runs afresh; DEMO_RESUME=auto continues the previous ones instead.
# DEMO_GEN_STEPS, DEMO_ASIT_STEPS, DEMO_IFER_STEPS, DEMO_COUNT and DEMO_RANKS change the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

ifer=.build/release/ifer
ranks=${DEMO_RANKS:-2}
count=${DEMO_COUNT:-2800}
gen_steps=${DEMO_GEN_STEPS:-1500}
asit_steps=${DEMO_ASIT_STEPS:-600}
ifer_steps=${DEMO_IFER_STEPS:-3000}
resume=${DEMO_RESUME:-none}
demo=runs/demo
data=$demo/data
start=$(date +%s)
mkdir -p "$demo"

echo "demo: rendering $count synthetic faces in the RAF-DB layout (32 px)"
$ifer synth --layout rafdb --out "$data/rafdb" --count "$count" --resolution 32 --seed 0

echo "demo: sharding with mpirun -np $ranks"
mpirun -np "$ranks" $ifer shard --dataset rafdb --root "$data/rafdb" --out "$data/shards" --resolution 32

# One stage: NAME CONFIG STEPS [--set ...]; its output also goes to runs/demo/NAME.log.
train() {
  local name=$1 config=$2 steps=$3; shift 3
  local run=$demo/$name
  if [ "$resume" != "auto" ] && [ -d "$run" ]; then echo "demo: removing the previous $run (DEMO_RESUME=auto keeps it)"; rm -rf "$run"; fi
  echo "demo: training the $name stage ($config, $steps steps) with mpirun -np $ranks"
  mpirun -np "$ranks" $ifer train --config "$config" --run-dir "$run" --resume "$resume" \
    --set data.shards="$data/shards" --set train.steps="$steps" --set log.bar=off "$@" | tee "$run.log"
}
latest() { echo "$demo/$1/checkpoints/$(cat "$demo/$1/checkpoints/latest")"; }

train generator configs/micro/generator.yaml "$gen_steps"
train asit configs/micro/asit.yaml "$asit_steps" --set train.generator="$(latest generator)"
train ifer configs/micro/ifer.yaml "$ifer_steps" --set train.init_encoder="$(latest asit)"
train ifer-scratch configs/micro/ifer.yaml "$ifer_steps"

echo "demo: evaluating"
mpirun -np "$ranks" $ifer eval --checkpoint "$demo/asit" --json > "$demo/asit-eval.json"
mpirun -np "$ranks" $ifer eval --checkpoint "$demo/ifer" --json > "$demo/ifer-eval.json"
mpirun -np "$ranks" $ifer eval --checkpoint "$demo/ifer-scratch" --json > "$demo/ifer-scratch-eval.json"

python3 - "$demo" "$(( $(date +%s) - start ))" <<'PY'
import json, sys
demo, wall = sys.argv[1], int(sys.argv[2])
def last_json(path):
    lines = [l for l in open(path) if l.strip().startswith("{")]
    return json.loads(lines[-1])
def last_eval(run):
    evals = [json.loads(l) for l in open(f"{demo}/{run}/metrics.jsonl") if '"eval"' in l]
    return evals[-1] if evals else {}
gen = {k: v for k, v in last_eval("generator").items() if k != "kind"}
asit = last_json(f"{demo}/asit-eval.json")
ifer, scratch = last_json(f"{demo}/ifer-eval.json"), last_json(f"{demo}/ifer-scratch-eval.json")
summary = {
    "generator": gen,
    "asit": {k: asit[k] for k in ["mse", "psnr", "ssim", "psnr_untrained", "psnr_mean_face"] if k in asit},
    "ifer": {"accuracy": ifer["accuracy"], "per_class": ifer["per_class_accuracy"], "accuracy_from_scratch": scratch["accuracy"]},
    "wall_seconds": wall,
}
json.dump(summary, open(f"{demo}/summary.json", "w"), indent=2, sort_keys=True)
a = summary["asit"]
print()
print("demo summary (runs/demo/summary.json)")
print(f"  generator  step {gen.get('step', '?')}: " + ", ".join(f"{k} {v:.4g}" for k, v in gen.items() if isinstance(v, float)))
print(f"  asit       PSNR {a.get('psnr', float('nan')):.2f} dB, SSIM {a.get('ssim', float('nan')):.4f}, MSE {a.get('mse', float('nan')):.5f}"
      f"  (untrained encoder {a.get('psnr_untrained', float('nan')):.2f} dB, mean face {a.get('psnr_mean_face', float('nan')):.2f} dB)")
print(f"  ifer       top-1 {summary['ifer']['accuracy'] * 100:.2f}% with the asit encoder, "
      f"{summary['ifer']['accuracy_from_scratch'] * 100:.2f}% from a random encoder (same steps)")
for name, acc in sorted(summary["ifer"]["per_class"].items()):
    print(f"    {name:<10} {acc * 100:6.2f}%")
print(f"  wall time  {wall // 60} min {wall % 60} s")
PY
