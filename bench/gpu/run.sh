#!/usr/bin/env bash
# One timed GPU session, under 10 minutes, after bench/gpu/prepare.sh (which made target/gpu-carry/bundle.tar.xz):
#   1. unpacks the stripped vulkan build and the Vulkan loader; registers NVIDIA's Vulkan driver when the machine
#      has its library but no ICD file; uses $MIXLAB_DATA/cifar10 when the machine has it, else writes random
#      CIFAR-format images (10 000 training, 1 000 test: throughput does not depend on pixel values);
#   2. `mixlab device-check --device vulkan`: every host method's device apply, the loss and every model against
#      the CPU (stops here if the device does not start or a check fails);
#   3. training throughput, small CNN and CIFAR ResNet-18 at batch 128 with mixup: PyTorch + timm on CUDA
#      (bench/gpu/torch_steps.py) and mixlab on Vulkan (second epoch of a 2-epoch `mixlab train`, so shader
#      compilation stays out), on the same GPU;
#   4. the gpu suite's `cifar10-resnet18-short` cells (3 methods, 3 epochs on 10 000 images);
# and writes everything as JSON under $OUT (default target/gpu-out), summary.json last.
#     OUT=$OUT bash bench/gpu/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-target/gpu-out}
WORK=${WORK:-/tmp/mixlab-gpu}
mkdir -p "$OUT" "$WORK"
start=$(date +%s)
say() { echo "[$(( $(date +%s) - start ))s] $*"; }

say "unpacking"
tar -C "$WORK" -xJf target/gpu-carry/bundle.tar.xz
BIN="$WORK/bin/mixlab"
export LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -f "${MIXLAB_DATA:-/nonexistent}/cifar10/data_batch_1.bin" ]; then
  echo real > "$OUT/data.txt"
else
  export MIXLAB_DATA="$WORK/data"
  mkdir -p "$MIXLAB_DATA/cifar10"
  python3 - "$MIXLAB_DATA/cifar10" <<'PY'
import numpy as np, sys
rng = np.random.default_rng(0)
for name, n in (("data_batch_1.bin", 10000), ("test_batch_first1000.bin", 1000)):
    rows = np.empty((n, 3073), dtype=np.uint8)
    rows[:, 0] = rng.integers(0, 10, n)
    rows[:, 1:] = rng.integers(0, 256, (n, 3072))
    rows.tofile(f"{sys.argv[1]}/{name}")
PY
  echo "random (no CIFAR-10 on this machine)" > "$OUT/data.txt"
fi
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  glx=$(ldconfig -p | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
  if [ -n "$glx" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3"}}\n' "$glx" > "$WORK/nvidia_icd.json"
    export VK_ICD_FILENAMES="$WORK/nvidia_icd.json"
    say "registered NVIDIA's Vulkan driver from $glx"
  else
    say "no NVIDIA Vulkan driver library found (libGLX_nvidia.so.0); Vulkan may fall back to another adapter"
  fi
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$OUT/gpu.txt" 2>&1 || true

say "agreement check"
timeout 240 "$BIN" device-check --device vulkan --json "$OUT/agreement.json" | tee "$OUT/agreement.txt"

say "PyTorch + timm training steps (CUDA)"
timeout 120 python3 bench/gpu/torch_steps.py --steps 200 --json-out "$OUT/torch_steps.json" || say "PyTorch side failed"

for model in cnn resnet18; do
  say "mixlab training epoch ($model, Vulkan)"
  rm -rf "$WORK/train-$model"
  timeout 150 "$BIN" train --device vulkan --dataset cifar10 --train-limit 6400 --model "$model" --method mixup \
    --param alpha=1.0 --epochs 2 --batch-size 128 --optimizer sgd --lr 0.1 --quiet --out "$WORK/train-$model" \
    || say "mixlab $model run failed"
  cp "$WORK/train-$model/result.json" "$OUT/mixlab_train_$model.json" 2>/dev/null || true
done

say "gpu suite: cifar10-resnet18-short"
timeout 240 "$BIN" bench --suite suites/gpu.toml --experiment cifar10-resnet18-short --quiet --out "$WORK/suite" \
  || say "suite cells did not all finish"
mkdir -p "$OUT/suite" && cp -r "$WORK/suite/results."* "$WORK/suite/cells" "$OUT/suite/" 2>/dev/null || true
find "$OUT/suite/cells" -name checkpoint -prune -exec rm -rf {} + 2>/dev/null || true

python3 - "$OUT" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def load(name):
    p = out / name
    return json.loads(p.read_text()) if p.exists() else None
torch_ = load("torch_steps.json") or {}
summary = {"gpu": (out / "gpu.txt").read_text().strip() if (out / "gpu.txt").exists() else None,
           "data": (out / "data.txt").read_text().strip() if (out / "data.txt").exists() else None,
           "agreement": load("agreement.json"), "torch": torch_, "ratios": {}}
for model in ("cnn", "resnet18"):
    r = load(f"mixlab_train_{model}.json")
    if r and r.get("curve") and torch_.get(f"{model}_samples_per_s"):
        ours = r["curve"][-1].get("train_samples_per_s")
        theirs = torch_[f"{model}_samples_per_s"]
        summary["ratios"][model] = {"mixlab_samples_per_s": ours, "torch_samples_per_s": theirs,
                                     "mixlab_over_torch": ours / theirs if ours else None}
(out / "summary.json").write_text(json.dumps(summary, indent=1))
print(json.dumps(summary["ratios"], indent=1))
PY
say "done"
