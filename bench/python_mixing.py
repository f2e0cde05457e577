#!/usr/bin/env python3
"""The `mixlab` Python package against timm and torchvision, in one run, on the same tensors.

Each pair does the same work through the public call a user makes: `x, y = mixup_fn(x, y)` (timm `Mixup`,
torchvision v2 `MixUp`/`CutMix`, and mixlab.torch's same-named classes) on a fresh copy of the batch (the copy
is timed on both sides), or `collate(batch)` on a list of uint8 images (timm `FastCollateMixup` and mixlab's). Every figure is the median of many repetitions after
a warm-up; the pairs are timed interleaved, `--rounds` times, and the ratio is the median over rounds of
peer time / mixlab time (> 1: mixlab is faster). Torch and mixlab's rayon pool both get `--threads`.

    python3 bench/python_mixing.py --threads 1 --json-out runs/python-mixing-t1.json
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

THREADS_ARG = next((a.split("=")[1] for a in sys.argv if a.startswith("--threads=")), None)
if THREADS_ARG is None and "--threads" in sys.argv:
    THREADS_ARG = sys.argv[sys.argv.index("--threads") + 1]
os.environ["RAYON_NUM_THREADS"] = THREADS_ARG or "1"  # before mixlab starts its pool

import numpy as np  # noqa: E402
import torch  # noqa: E402
from timm.data import FastCollateMixup, Mixup  # noqa: E402
from torchvision.transforms import v2  # noqa: E402

import mixlab.torch as mt  # noqa: E402


def timed(fn, budget_s=0.4, min_reps=7):
    for _ in range(3):
        fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    reps = max(min_reps, int(budget_s / max(one, 1e-6)))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def cases(b, c, h, w):
    k = 100 if w <= 64 else 1000
    rng = np.random.default_rng(0)
    x_u8 = rng.integers(0, 256, size=(b, c, h, w), dtype=np.uint8)
    x = torch.from_numpy(x_u8.astype(np.float32) / 255)
    y = torch.from_numpy(rng.integers(0, k, size=b))
    items = [(x_u8[i].copy(), int(y[i])) for i in range(b)]

    def call(m):
        # Each call gets a fresh copy of the batch, as a loader hands one over: timm's Mixup and mixlab's mix
        # in place, and re-mixing one buffer would let an in-place pass run from a large last-level cache.
        # The copy's cost is in both sides' times.
        return lambda: m(x.clone(), y)

    out = []
    for mode in ("batch", "elem"):
        for label, mix, cut in (("mixup", 1.0, 0.0), ("cutmix", 0.0, 1.0)):
            kw = dict(mixup_alpha=mix, cutmix_alpha=cut, mode=mode, label_smoothing=0.1, num_classes=k)
            out.append((f"Mixup {mode} {label}", call(Mixup(**kw)), call(mt.Mixup(**kw))))
            out.append((f"FastCollateMixup {mode} {label}", lambda m=FastCollateMixup(**kw): m(items),
                        lambda m=mt.FastCollateMixup(**kw): m(items)))
    out.append(("torchvision MixUp", call(v2.MixUp(alpha=1.0, num_classes=k)), call(mt.MixUp(alpha=1.0, num_classes=k))))
    out.append(("torchvision CutMix", call(v2.CutMix(alpha=1.0, num_classes=k)), call(mt.CutMix(alpha=1.0, num_classes=k))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shapes", default="128x3x32x32,64x3x224x224")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for s in args.shapes.split(","):
        shape = tuple(int(v) for v in s.split("x"))
        for name, peer, ours in cases(*shape):
            p, m = [], []
            for _ in range(args.rounds):
                p.append(timed(peer))
                m.append(timed(ours))
            ratios = [a / b for a, b in zip(p, m)]
            rows.append({"shape": s, "case": name, "peer_ms": statistics.median(p), "mixlab_ms": statistics.median(m),
                         "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)})
            r = rows[-1]
            print(f"{s:>14}  {name:<32} peer {r['peer_ms']:8.3f} ms  mixlab {r['mixlab_ms']:8.3f} ms  "
                  f"ratio {r['ratio']:5.2f} [{r['ratio_min']:.2f}, {r['ratio_max']:.2f}]", flush=True)
    meta = {"threads": args.threads, "rounds": args.rounds, "loadavg": os.getloadavg(), "cpu": platform.processor(),
            "torch": torch.__version__, "timm": __import__("timm").__version__, "python": platform.python_version()}
    if args.json_out:
        with open(args.json_out + ".tmp", "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
        os.replace(args.json_out + ".tmp", args.json_out)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
