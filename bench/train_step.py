#!/usr/bin/env python3
"""Training step: the small-CNN recipe in PyTorch + timm and in mixlab (Burn flex), in one run.

Recipe (both sides): 1x28x28 input, batch 128, 10 classes; conv3x3 1->32 pad 1, ReLU, maxpool 2,
conv3x3 32->64 pad 1, ReLU, maxpool 2, fc 3136->128, ReLU, fc 128->10; SGD lr 0.05 momentum 0.9
weight decay 5e-4; soft-target cross-entropy; mixing: none, MixUp (alpha 0.2), CutMix (alpha 1.0).

Per round it
  1. times N steps (after a warm-up) in PyTorch at torch.set_num_threads(--threads): shuffled gather from
     a pool, timm `Mixup` (batch mode, label smoothing 0; one-hot targets for `none`),
     `SoftTargetCrossEntropy`, forward/backward/step, loss and arg-max read-back (mixlab's trainer
     reads both every step too);
  2. runs target/release/examples/step_bench (crates/mixlab-burn/examples/step_bench.rs) for the same
     recipe, which also splits mixlab's step into its phases and prints mixlab's own share;
  3. unless --no-single-thread: the same steps with both sides on one thread (torch.set_num_threads(1),
     RAYON_NUM_THREADS=1 for Burn flex), since on a shared 2-core machine 2 threads often wait for a core;
  4. unless --epoch-limit 0: one epoch of real Fashion-MNIST (the first --epoch-limit training images)
     in PyTorch, and `mixlab train --dataset fashion-mnist --limit N --epochs 1` for the same method,
     comparing training samples/s (mixlab's `train_samples_per_s`, evaluation excluded).
Then prints per-step ms for both sides, the ratio mixlab/PyTorch (median over rounds) and mixlab's
overhead share. Both step pools are random data of Fashion-MNIST's shape (60 000 x 784 f32).

    python3 bench/train_step.py                        # 3 rounds, builds the example first
    python3 bench/train_step.py --rounds 1 --steps 20 --epoch-limit 0 --skip-build
    python3 bench/train_step.py --json-out bench/runs/train_step.json
    python3 bench/train_step.py --fashion2k 3 --rounds 1 --skip-build   # fashion-2k end to end, 1 and 2 threads
"""

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.data import Mixup
from timm.loss import SoftTargetCrossEntropy

REPO = Path(__file__).resolve().parent.parent
METHODS = ("none", "mixup", "cutmix")
MIXUP_ALPHA, CUTMIX_ALPHA = 0.2, 1.0


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 64, 3, padding=1)
        self.f1 = nn.Linear(64 * 7 * 7, 128)
        self.f2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.f2(F.relu(self.f1(x.flatten(1))))


def mixer(method):
    if method == "none":
        return None
    mix, cut = (MIXUP_ALPHA, 0.0) if method == "mixup" else (0.0, CUTMIX_ALPHA)
    return Mixup(mixup_alpha=mix, cutmix_alpha=cut, mode="batch", label_smoothing=0.0, num_classes=10)


class TorchRun:
    """Model, optimiser and mixer of one method; `step` is one full training step."""

    def __init__(self, method, seed=0):
        torch.manual_seed(seed)
        self.model = SmallCnn()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        self.mix = mixer(method)
        self.crit = SoftTargetCrossEntropy()
        self.hits = 0

    def step(self, x, y):
        if self.mix is None:
            t = F.one_hot(y, 10).float()
        else:
            x, t = self.mix(x, y)
        out = self.model(x)
        self.hits += int((out.argmax(1) == y).sum().item())
        loss = self.crit(out, t)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.item()


def torch_steps(method, pool_x, pool_y, steps, warmup, batch):
    """Median ms of a whole step, gather included."""
    run = TorchRun(method)
    perm = torch.randperm(len(pool_x), generator=torch.Generator().manual_seed(0))
    per_epoch = len(pool_x) // batch
    ts = []
    for s in range(warmup + steps):
        t0 = time.perf_counter()
        k = s % per_epoch
        idx = perm[k * batch:(k + 1) * batch]
        run.step(pool_x[idx], pool_y[idx])
        if s >= warmup:
            ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def read_idx_gz(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def torch_epoch(method, data_dir, limit, batch):
    """Training samples/s of one epoch over the first `limit` real Fashion-MNIST training images."""
    d = Path(data_dir) / "fashion-mnist"
    x = read_idx_gz(d / "train-images-idx3-ubyte.gz", 16)[: limit * 784].reshape(-1, 1, 28, 28)
    y = read_idx_gz(d / "train-labels-idx1-ubyte.gz", 8)[:limit]
    x = (torch.from_numpy(x.astype(np.float32)) / 255.0 - 0.2860) / 0.3530
    y = torch.from_numpy(y.astype(np.int64))
    run = TorchRun(method)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    # timm's Mixup needs an even batch, so the epoch is the full batches only.
    n = (len(x) // batch) * batch
    t0 = time.perf_counter()
    for k in range(0, n, batch):
        idx = perm[k:k + batch]
        run.step(x[idx], y[idx])
    return n / (time.perf_counter() - t0)


def mixlab_steps(exe, steps, warmup, batch, threads, methods="none,mixup,cutmix,fmix"):
    cmd = [str(exe), "--steps", str(steps), "--warmup", str(warmup), "--batch", str(batch),
           "--methods", methods, "--mixup-alpha", str(MIXUP_ALPHA),
           "--cutmix-alpha", str(CUTMIX_ALPHA), "--lr", "0.05", "--json"]
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {r["method"]: r for r in rows}


def mixlab_epoch(cli, method, data_dir, limit):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(cli), "train", "--dataset", "fashion-mnist", "--model", "cnn", "--limit", str(limit),
               "--epochs", "1", "--method", method, "--lr", "0.05", "--batch-size", "128",
               "--schedule", "constant", "--weight-decay", "5e-4", "--data-dir", str(data_dir),
               "--out", str(Path(tmp) / "run"), "--quiet"]
        if method != "none":
            cmd += ["--alpha", str(MIXUP_ALPHA if method == "mixup" else CUTMIX_ALPHA)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        r = json.loads((Path(tmp) / "run" / "result.json").read_text())
    return r["curve"][0]["train_samples_per_s"], r["wall_s"]


def load_fashion(data_dir, train_limit):
    d = Path(data_dir) / "fashion-mnist"
    def images(name, n=None):
        x = read_idx_gz(d / name, 16)
        x = x[: n * 784] if n else x
        return torch.from_numpy(x.reshape(-1, 1, 28, 28).astype(np.float32)) / 255.0
    def labels(name, n=None):
        y = read_idx_gz(d / name, 8)
        return torch.from_numpy((y[:n] if n else y).astype(np.int64))
    return (images("train-images-idx3-ubyte.gz", train_limit), labels("train-labels-idx1-ubyte.gz", train_limit),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def torch_fashion2k(method, data_dir, epochs, threads, batch=128, eval_batch=512):
    """The converged suite's fashion-2k cell end to end in PyTorch + timm, as mixlab runs it: the first 2000
    training images, 200 held out for validation, standardised on the training part; SGD 0.05 momentum 0.9
    wd 5e-4, cosine to 0 over all steps (stepped per iteration); validation every epoch, the 10 000-image
    test split in the last min(10, epochs) epochs, then a final validation + test + training pass (mixlab's
    temperature scaling and neural-collapse passes). Returns (wall s, training samples/s)."""
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    x, y, tx, ty = load_fashion(data_dir, 2000)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    vi, ti = perm[:200], perm[200:]
    vx, vy, x, y = x[vi], y[vi], x[ti], y[ti]
    mean, std = x.mean(), x.std()
    x, vx, tx = (x - mean) / std, (vx - mean) / std, (tx - mean) / std
    run = TorchRun(method)
    if method == "mixup":
        run.mix = Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, mode="batch", label_smoothing=0.0, num_classes=10)
    steps = epochs * -(-len(x) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(run.opt, T_max=steps)
    g = torch.Generator().manual_seed(1)

    def evaluate(ex, ey):
        run.model.eval()
        with torch.no_grad():
            hits = sum(int((run.model(ex[k:k + eval_batch]).argmax(1) == ey[k:k + eval_batch]).sum())
                       for k in range(0, len(ex), eval_batch))
        run.model.train()
        return hits / len(ex)

    train_s = 0.0
    for e in range(epochs):
        te = time.perf_counter()
        order = torch.randperm(len(x), generator=g)
        for k in range(0, len(x), batch):
            idx = order[k:k + batch]
            if len(idx) % 2 and run.mix is not None:
                idx = idx[:-1]  # timm's Mixup needs an even batch
            run.step(x[idx], y[idx])
            sched.step()
        train_s += time.perf_counter() - te
        evaluate(vx, vy)
        if e >= epochs - min(10, epochs):
            evaluate(tx, ty)
    for ex, ey in ((vx, vy), (tx, ty), (x, y)):
        evaluate(ex, ey)
    return time.perf_counter() - t0, epochs * len(x) / train_s


def mixlab_fashion2k(cli, method, data_dir, epochs, threads):
    """The same cell as `mixlab train` (what the converged suite runs). Returns (wall s, training samples/s)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(cli), "train", "--dataset", "fashion-mnist", "--model", "cnn", "--train-limit", "2000",
               "--epochs", str(epochs), "--method", method, "--lr", "0.05", "--batch-size", "128",
               "--optimizer", "sgd", "--weight-decay", "5e-4", "--data-dir", str(data_dir),
               "--out", str(Path(tmp) / "run"), "--quiet"]
        if method == "mixup":
            cmd += ["--alpha", "1.0"]
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        r = json.loads((Path(tmp) / "run" / "result.json").read_text())
    sps = statistics.mean(c["train_samples_per_s"] for c in r["curve"])
    return wall, sps


def fashion2k(cli, data_dir, epochs, rounds, json_out):
    load0 = os.getloadavg()
    rows = {}
    for _ in range(rounds):
        for threads in (1, 2):
            for m in ("none", "mixup"):
                for side, f in (("torch", torch_fashion2k), ("mixlab", lambda *a: mixlab_fashion2k(cli, *a))):
                    rows.setdefault((threads, m, side), []).append(f(m, data_dir, epochs, threads))
    load1 = os.getloadavg()
    med = statistics.median
    print(f"fashion-2k end to end, {epochs} epochs (test split in the last {min(10, epochs)}), {rounds} rounds; "
          f"torch {torch.__version__}; load average {load0[0]:.2f} -> {load1[0]:.2f}")
    print("| threads | method | PyTorch+timm wall s | mixlab wall s | mixlab throughput / PyTorch (whole run) "
          "| PyTorch train samples/s | mixlab train samples/s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    out = []
    for (threads, m, side), v in rows.items():
        if side != "torch":
            continue
        t, x = rows[(threads, m, "torch")], rows[(threads, m, "mixlab")]
        tw, xw = med([a for a, _ in t]), med([a for a, _ in x])
        ts, xs = med([b for _, b in t]), med([b for _, b in x])
        print(f"| {threads} | {m} | {tw:.1f} | {xw:.1f} | {tw / xw:.2f}× | {ts:.0f} | {xs:.0f} |")
        out.append({"threads": threads, "method": m, "torch_wall_s": tw, "mixlab_wall_s": xw,
                    "throughput_ratio": tw / xw, "torch_train_sps": ts, "mixlab_train_sps": xs})
    if json_out:
        Path(json_out).write_text(json.dumps({"epochs": epochs, "rounds": rounds, "load": [load0, load1],
                                              "rows": out, "raw": {str(k): v for k, v in rows.items()}}, indent=1))


def spread(v):
    return max(v) / min(v) - 1.0 if min(v) > 0 else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30, help="timed steps per method and side")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-single-thread", action="store_true",
                    help="skip the extra 1-thread comparison (torch 1 thread vs flex RAYON_NUM_THREADS=1)")
    ap.add_argument("--epoch-limit", type=int, default=2560, help="0 skips the whole-epoch comparison")
    ap.add_argument("--data-dir", default=os.environ.get("MIXLAB_DATA", "/work/shared/data"))
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--json-out")
    ap.add_argument("--fashion2k", type=int, default=0, metavar="EPOCHS",
                    help="only the converged suite's fashion-2k cell end to end (this many epochs), PyTorch "
                         "and mixlab at 1 and 2 threads")
    a = ap.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    if not a.skip_build:
        subprocess.run(["cargo", "build", "--release", "-p", "mixlab-burn", "--example", "step_bench", "-j2"],
                       cwd=REPO, check=True)
    exe = target / "release" / "examples" / "step_bench"
    cli = target / "release" / "mixlab"
    if a.fashion2k > 0:
        return fashion2k(cli, a.data_dir, a.fashion2k, a.rounds, a.json_out)
    do_epoch = a.epoch_limit > 0
    if do_epoch and not cli.exists():
        print(f"note: {cli} missing (cargo build --release -p mixlab-cli); skipping the epoch comparison")
        do_epoch = False

    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    pool_x = torch.rand(60_000, 1, 28, 28, generator=g) * 2 - 1
    pool_y = torch.randint(0, 10, (60_000,), generator=g)
    load0 = os.getloadavg()

    res = {"torch": {m: [] for m in METHODS}, "mixlab": {}, "epoch_torch": {m: [] for m in METHODS},
           "epoch_mixlab": {m: [] for m in METHODS},
           "torch_1t": {m: [] for m in METHODS}, "mixlab_1t": {m: [] for m in METHODS}}
    for r in range(a.rounds):
        for m in METHODS:
            res["torch"][m].append(torch_steps(m, pool_x, pool_y, a.steps, a.warmup, a.batch))
        for m, row in mixlab_steps(exe, a.steps, a.warmup, a.batch, a.threads).items():
            res["mixlab"].setdefault(m, []).append(row)
        if not a.no_single_thread:
            torch.set_num_threads(1)
            for m in METHODS:
                res["torch_1t"][m].append(torch_steps(m, pool_x, pool_y, a.steps, a.warmup, a.batch))
            torch.set_num_threads(a.threads)
            for m, row in mixlab_steps(exe, a.steps, a.warmup, a.batch, 1, ",".join(METHODS)).items():
                res["mixlab_1t"][m].append(row["step_ms"])
        if do_epoch:
            for m in METHODS:
                res["epoch_torch"][m].append(torch_epoch(m, a.data_dir, a.epoch_limit, a.batch))
                res["epoch_mixlab"][m].append(mixlab_epoch(cli, m, a.data_dir, a.epoch_limit)[0])
        print(f"round {r + 1}/{a.rounds} done, load average {os.getloadavg()[0]:.2f}", flush=True)
    load1 = os.getloadavg()

    med = statistics.median
    print()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus; torch {torch.__version__} "
          f"at {a.threads} threads, flex at RAYON_NUM_THREADS={a.threads}; "
          f"{a.rounds} rounds x {a.steps} steps (+{a.warmup} warm-up); load average "
          f"{load0[0]:.2f} -> {load1[0]:.2f}")
    print()
    print("| method | PyTorch+timm ms/step | mixlab ms/step | mixlab/PyTorch | mixlab own ms "
          "(batch+plan+apply+targets+metrics) | mixlab overhead share | spread torch / mixlab |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for m in ("none", "mixup", "cutmix", "fmix"):
        rows = res["mixlab"].get(m, [])
        if not rows:
            continue
        ml = [x["step_ms"] for x in rows]
        own = med([x["own_ms"] for x in rows])
        share = med([x["overhead_share"] for x in rows])
        pt = res["torch"].get(m)
        pts = f"{med(pt):.1f}" if pt else "—"
        ratio = f"{med(ml) / med(pt):.2f}×" if pt else "—"
        spr = f"{spread(pt):.0%} / {spread(ml):.0%}" if pt else f"— / {spread(ml):.0%}"
        print(f"| {m} | {pts} | {med(ml):.1f} | {ratio} | {own:.3f} | {share:.2%} | {spr} |")
        summary[m] = {"torch_ms": med(pt) if pt else None, "mixlab_ms": med(ml),
                      "ratio": med(ml) / med(pt) if pt else None, "own_ms": own, "overhead_share": share,
                      "phases_ms": {k: med([x[k] for x in rows]) for k in rows[0] if k.endswith("_ms")}}
    print()
    print("mixlab phases (median ms): " + "; ".join(
        f"{m}: " + ", ".join(f"{k[:-3]} {v:.3f}" for k, v in s["phases_ms"].items()
                             if k not in ("step_ms", "own_ms"))
        for m, s in summary.items()))
    if not a.no_single_thread:
        print()
        print("Both sides at 1 thread (torch.set_num_threads(1), RAYON_NUM_THREADS=1):")
        print("| method | PyTorch+timm ms/step | mixlab ms/step | mixlab/PyTorch |")
        print("|---|---:|---:|---:|")
        for m in METHODS:
            t, x = med(res["torch_1t"][m]), med(res["mixlab_1t"][m])
            print(f"| {m} | {t:.1f} | {x:.1f} | {x / t:.2f}× |")
            summary[m]["one_thread"] = {"torch_ms": t, "mixlab_ms": x, "ratio": x / t}
    if do_epoch:
        print()
        print(f"One epoch of real Fashion-MNIST (--limit {a.epoch_limit}), training samples/s "
              "(evaluation excluded):")
        print("| method | PyTorch+timm samples/s | mixlab samples/s | epoch time mixlab/PyTorch |")
        print("|---|---:|---:|---:|")
        for m in METHODS:
            t, x = med(res["epoch_torch"][m]), med(res["epoch_mixlab"][m])
            print(f"| {m} | {t:.0f} | {x:.0f} | {t / x:.2f}× |")
            summary[m]["epoch"] = {"torch_sps": t, "mixlab_sps": x, "ratio": t / x}
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"args": vars(a), "load": [load0, load1], "summary": summary,
                                                "raw": res}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
