#!/bin/sh
# Step cost of the model-in-the-loop methods against mixup, in one run: cifar-5k's CNN and recipe on the
# first 512 CIFAR-10 training images, one epoch, one thread, ROUNDS interleaved rounds (each round runs every
# method once, so drifts in machine load spread over all of them). Prints each method's median training
# samples/s (the `samples_per_s` of its result.json) and its cost per step relative to mixup.
#
#   MIXLAB_DATA=../shared/data sh bench/step_cost.sh [ROUNDS] [METHOD...]
#
# Needs a release build (`cargo build --release`) and CIFAR-10 under $MIXLAB_DATA. Run it on an idle machine.
set -eu
ROUNDS=${1:-5}
[ $# -gt 0 ] && shift
METHODS=${*:-mixup automix samix adautomix adamixup}
BIN=${MIXLAB:-target/release/mixlab}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export RAYON_NUM_THREADS=1
r=0
while [ "$r" -lt "$ROUNDS" ]; do
  for m in $METHODS; do
    "$BIN" train --dataset cifar10 --limit 512 --model cnn --model-param 'channels=[32,64,128]' \
      --model-param hidden=256 --epochs 1 --batch-size 128 --lr 0.05 --optimizer sgd --augment \
      --method "$m" --quiet --out "$OUT/$m-$r" >/dev/null
  done
  r=$((r + 1))
done
python3 - "$OUT" $METHODS <<'EOF'
import json, statistics, sys
out, methods = sys.argv[1], sys.argv[2:]
import glob
med = {m: statistics.median(json.load(open(f))["samples_per_s"]
                            for f in glob.glob(f"{out}/{m}-*/result.json")) for m in methods}
base = med.get("mixup")
print("| method | training samples/s (median) | step cost vs mixup |")
print("|---|---|---|")
for m in methods:
    ratio = f"{base / med[m]:.2f}×" if base else "–"
    print(f"| {m} | {med[m]:.1f} | {ratio} |")
EOF
