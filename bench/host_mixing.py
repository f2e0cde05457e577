#!/usr/bin/env python3
"""Host-side mixing: mixlab against timm and torchvision, in one run, on the same machine and shapes.

Times the Python peers (timm `Mixup` batch/elem on float tensors, timm `FastCollateMixup` on a list of
uint8 images, torchvision v2 `MixUp`/`CutMix`, and plain streaming passes in numpy and torch), then
builds and runs `crates/mixlab-core/examples/host_mix_bench.rs` and prints one table with the ratios.

    python3 bench/host_mixing.py                      # both shapes, 1 round
    python3 bench/host_mixing.py --rounds 3           # repeat peers + mixlab 3x, report medians
    python3 bench/host_mixing.py --shapes 128x3x32x32 --json-out runs/host.json

Every figure is the median of many repetitions after a warm-up (repetitions sized to --budget-ms per
measurement); with --rounds N the table shows the median over rounds and the spread (max/min - 1).
Peers run with torch.set_num_threads(--threads); mixlab runs with rayon pools of 1 and --threads threads.
The mixlab time compared with a peer includes what the peer does: plan sampling, the mixing pass and
the label side (soft targets), written into a preallocated output.
"""

import os

# OpenBLAS on some of these machines is pinned to an older core type for correctness; that slows numpy's
# element-wise kernels, so the numpy peer runs without the pin (this process only, nowhere else).
for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def timed(fn, budget_s, min_reps=7, max_reps=5000):
    """Median and minimum wall time of fn() in ms, after a warm-up, reps sized to the budget."""
    start = time.perf_counter()
    warm = 0
    while warm < 3 or (time.perf_counter() - start < 0.05 and warm < 1000):
        fn()
        warm += 1
    one = (time.perf_counter() - start) / warm
    reps = int(min(max(budget_s / max(one, 1e-7), min_reps), max_reps))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return ts[reps // 2], ts[0]


def classes_for(w):
    # Same rule as the Rust example: CIFAR-100-like for small images, ImageNet-like for 224².
    return 100 if w <= 64 else 1000


def peer_cases(b, c, h, w):
    """(peer name, mixlab case, dtype, make-callable) for one shape."""
    from timm.data import FastCollateMixup, Mixup
    from torchvision.transforms import v2

    k = classes_for(w)
    rng = np.random.default_rng(0)
    x_u8 = rng.integers(0, 256, size=(b, c, h, w), dtype=np.uint8)
    x_f = torch.from_numpy(x_u8.astype(np.float32) / 255.0)
    y = torch.from_numpy(rng.integers(0, k, size=b)).long()
    u8_list = [(x_u8[i].copy(), int(y[i])) for i in range(b)]

    def timm_mixup(mode, mix, cut):
        m = Mixup(mixup_alpha=mix, cutmix_alpha=cut, mode=mode, label_smoothing=0.0, num_classes=k)
        xs = x_f.clone()
        # timm mixes in place; repeated convex mixes keep the values in [0, 1], so no reset is needed.
        return lambda: m(xs, y)

    def timm_fast(mode, mix, cut):
        m = FastCollateMixup(
            mixup_alpha=mix, cutmix_alpha=cut, mode=mode, label_smoothing=0.0, num_classes=k
        )
        return lambda: m(u8_list)

    def tv(cls):
        t = cls(alpha=1.0, num_classes=k)
        return lambda: t(x_f, y)

    cases = []
    for mode in ("batch", "elem"):
        cases += [
            (f"timm Mixup {mode} mixup", f"mixup-{mode}", "f32", lambda mode=mode: timm_mixup(mode, 1.0, 0.0)),
            (f"timm Mixup {mode} cutmix", f"cutmix-{mode}", "f32", lambda mode=mode: timm_mixup(mode, 0.0, 1.0)),
            (f"timm FastCollateMixup {mode} mixup", f"mixup-{mode}", "u8", lambda mode=mode: timm_fast(mode, 1.0, 0.0)),
            (f"timm FastCollateMixup {mode} cutmix", f"cutmix-{mode}", "u8", lambda mode=mode: timm_fast(mode, 0.0, 1.0)),
        ]
    cases += [
        ("torchvision v2 MixUp", "mixup-roll", "f32", lambda: tv(v2.MixUp)),
        ("torchvision v2 CutMix", "cutmix-roll", "f32", lambda: tv(v2.CutMix)),
    ]
    return cases


def plain_cases(b, c, h, w):
    """Plain streaming passes `a*lam + b*(1-lam)` over two whole batches."""
    rng = np.random.default_rng(1)
    a = rng.random((b, c, h, w), dtype=np.float32)
    bb = rng.random((b, c, h, w), dtype=np.float32)
    au = rng.integers(0, 256, size=(b, c, h, w), dtype=np.uint8)
    bu = rng.integers(0, 256, size=(b, c, h, w), dtype=np.uint8)
    ta, tb = torch.from_numpy(a), torch.from_numpy(bb)
    lam = np.float32(0.3)
    out = torch.empty_like(ta)
    return [
        ("numpy a*lam + b*(1-lam)", "f32", lambda: a * lam + bb * (1 - lam)),
        ("torch a*lam + b*(1-lam)", "f32", lambda: ta * 0.3 + tb * 0.7),
        ("torch lerp (out=)", "f32", lambda: torch.lerp(tb, ta, 0.3, out=out)),
        (
            "numpy u8 rint(a*lam + b*(1-lam))",
            "u8",
            lambda: np.rint(au.astype(np.float32) * lam + bu.astype(np.float32) * (1 - lam)).astype(np.uint8),
        ),
    ]


def run_peers(shape, budget_s, thread_counts):
    """Each peer at every torch thread count; the comparison later takes the peer's fastest."""
    b, c, h, w = shape
    rows = []
    for t in thread_counts:
        torch.set_num_threads(t)
        for name, case, dtype, make in peer_cases(b, c, h, w):
            med, mn = timed(make(), budget_s)
            rows.append({"peer": name, "case": case, "dtype": dtype, "threads": t, "ms": med, "min_ms": mn})
        for name, dtype, fn in plain_cases(b, c, h, w):
            med, mn = timed(fn, budget_s)
            rows.append({"peer": name, "case": "plain", "dtype": dtype, "threads": t, "ms": med, "min_ms": mn})
    torch.set_num_threads(thread_counts[-1])
    return rows


def build_rust(skip):
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target / "release" / "examples" / "host_mix_bench"
    if not skip:
        subprocess.run(
            ["cargo", "build", "--release", "--example", "host_mix_bench", "-p", "mixlab-core"],
            cwd=REPO,
            check=True,
        )
    if not binary.exists():
        sys.exit(f"missing {binary}: build it or drop --skip-build")
    return binary


def run_rust(binary, shape_text, threads, budget_ms):
    cmd = [str(binary), "--shapes", shape_text, "--threads", f"1,{threads}", "--budget-ms", str(budget_ms)]
    proc = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def spread(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    return max(values) / min(values) - 1.0


def fmt(v, digits=3):
    return "—" if v is None else f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="128x3x32x32,64x3x224x224")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--budget-ms", type=float, default=400.0)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    if args.threads < 1 or args.rounds < 1 or args.budget_ms <= 0:
        sys.exit("--threads and --rounds must be >= 1 and --budget-ms > 0")
    torch.set_num_threads(args.threads)
    binary = build_rust(args.skip_build)

    try:
        from threadpoolctl import threadpool_info

        blas = [(p.get("internal_api"), p.get("architecture"), p.get("num_threads")) for p in threadpool_info()]
    except ImportError:
        blas = "threadpoolctl not installed"
    import timm
    import torchvision

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "threads": args.threads,
        "rounds": args.rounds,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "timm": timm.__version__,
        },
        "blas": blas,
        "load_before": os.getloadavg(),
    }
    print(json.dumps(meta), file=sys.stderr)

    raw = {"meta": meta, "rounds": []}
    for shape_text in args.shapes.split(","):
        shape = tuple(int(v) for v in shape_text.split("x"))
        if len(shape) != 4:
            sys.exit(f"shape {shape_text}: expected NxCxHxW")
        for r in range(args.rounds):
            print(f"[{shape_text}] round {r + 1}/{args.rounds}: peers", file=sys.stderr)
            peers = run_peers(shape, args.budget_ms / 1e3, sorted({1, args.threads}))
            print(f"[{shape_text}] round {r + 1}/{args.rounds}: mixlab", file=sys.stderr)
            rust = run_rust(binary, shape_text, args.threads, args.budget_ms)
            raw["rounds"].append({"shape": shape_text, "round": r, "peers": peers, "mixlab": rust})
    meta["load_after"] = os.getloadavg()
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json_out.with_suffix(".tmp")
        tmp.write_text(json.dumps(raw, indent=1))
        tmp.replace(args.json_out)
    print(report(raw, args.threads))


def report(raw, threads):
    """Markdown tables: per peer row, and the target check per (case, dtype)."""
    from collections import defaultdict

    peer_ms = defaultdict(list)  # (shape, peer, case, dtype) -> [fastest over thread counts, per round]
    peer_t = defaultdict(list)  # (shape, peer, threads) -> [ms per round]
    peer_min = defaultdict(lambda: float("inf"))  # (shape, peer, case, dtype) -> fastest single rep seen
    rust = defaultdict(list)  # (shape, case, dtype, threads, field) -> [ms per round]
    skipped = {}
    vs_plain_round = defaultdict(list)  # (shape, case, dtype, threads) -> [apply / plain of the same run]
    for rnd in raw["rounds"]:
        s = rnd["shape"]
        plain_here = {
            (m["dtype"], m["threads"]): m["apply_ms"] for m in rnd["mixlab"] if m["case"] == "plain"
        }
        for m in rnd["mixlab"]:
            base = plain_here.get((m["dtype"], m["threads"]))
            if m["case"] != "plain" and "apply_ms" in m and base:
                vs_plain_round[(s, m["case"], m["dtype"], m["threads"])].append(m["apply_ms"] / base)
        best = {}
        for p in rnd["peers"]:
            key = (s, p["peer"], p["case"], p["dtype"])
            best[key] = min(best.get(key, float("inf")), p["ms"])
            peer_t[(s, p["peer"], p["threads"])].append(p["ms"])
            peer_min[key] = min(peer_min[key], p["min_ms"])
        for key, v in best.items():
            peer_ms[key].append(v)
        for m in rnd["mixlab"]:
            if "skipped" in m or "error" in m:
                skipped[(s, m["case"])] = m.get("skipped") or m.get("error")
                continue
            for field in ("apply_ms", "apply_min_ms", "sample_ms", "targets_ms", "sample_apply_ms", "full_ms", "full_min_ms"):
                if field in m:
                    rust[(s, m["case"], m["dtype"], m["threads"], field)].append(m[field])

    def med(key, store):
        v = store.get(key)
        return statistics.median(v) if v else None

    lines = []
    shapes = list(dict.fromkeys(r["shape"] for r in raw["rounds"]))
    for s in shapes:
        plain_rust = {d: med((s, "plain", d, threads, "apply_ms"), rust) for d in ("f32", "u8")}
        plain_rust1 = {d: med((s, "plain", d, 1, "apply_ms"), rust) for d in ("f32", "u8")}
        lines += [
            f"\n### {s} ({threads} threads; mixlab full = sample + apply + soft targets)\n",
            "| peer | mixlab case | dtype | peer ms (1 / {t} threads) | mixlab full ms | ratio peer/mixlab "
            "| mixlab apply ms | apply/plain | mixlab full ms (1 thread) | spread peer / mixlab |".format(t=threads),
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for (shape, peer, case, dtype), vals in peer_ms.items():
            if shape != s or case == "plain":
                continue
            p = statistics.median(vals)
            full = med((s, case, dtype, threads, "full_ms"), rust)
            full1 = med((s, case, dtype, 1, "full_ms"), rust)
            app = med((s, case, dtype, threads, "apply_ms"), rust)
            plain = plain_rust[dtype]  # same implementation and thread count as the mixlab column
            sp = spread(vals)
            sm = spread(rust.get((s, case, dtype, threads, "full_ms"), []))
            p1 = med((s, peer, 1), peer_t)
            pt = med((s, peer, threads), peer_t)
            lines.append(
                f"| {peer} | {case} | {dtype} | {fmt(p1)} / {fmt(pt)} | {fmt(full)} | "
                f"{fmt(p / full if full else None, 1)}× | {fmt(app)} | "
                f"{fmt(app / plain if app and plain else None, 2)} | {fmt(full1)} | "
                f"{fmt(sp and sp * 100, 0)}% / {fmt(sm and sm * 100, 0)}% |"
            )
        lines += [
            "\nPlain passes (same bytes: read two batches, write one):\n",
            f"| pass | dtype | ms, 1 thread | ms, {threads} threads |",
            "|---|---|---:|---:|",
        ]
        for (shape, peer, case, dtype), vals in peer_ms.items():
            if shape == s and case == "plain":
                lines.append(
                    f"| {peer} | {dtype} | {fmt(med((s, peer, 1), peer_t))} | {fmt(med((s, peer, threads), peer_t))} |"
                )
        for d in ("f32", "u8"):
            lines.append(f"| mixlab plain_blend (Rust) | {d} | {fmt(plain_rust1[d])} | {fmt(plain_rust[d])} |")

        # The plain-pass yardstick is the fastest plain pass of any implementation and thread count.
        fastest_plain = {}
        for d in ("f32", "u8"):
            cands = [v for v in (plain_rust[d], plain_rust1[d]) if v is not None]
            cands += [
                statistics.median(v)
                for (shape, _, case, dd), v in peer_ms.items()
                if shape == s and case == "plain" and dd == d
            ]
            fastest_plain[d] = min(cands) if cands else None
        lines.append(
            f"\nFastest plain pass: f32 {fmt(fastest_plain['f32'])} ms, u8 {fmt(fastest_plain['u8'])} ms "
            "(the yardstick for the 1.5× target below)."
        )
        # Target check: ≥ 3× the fastest peer of the same method, mode and dtype; apply ≤ 1.5× plain.
        lines += [
            "\nTargets (≥ 3× the fastest peer at the same method/mode/dtype; apply within 1.5× of the plain pass):\n",
            "| method / mode | dtype | fastest peer | peer ms | mixlab full ms | speed-up | ≥3× "
            "| speed-up of best reps | apply/plain (same run) | ≤1.5× | apply/fastest plain | full/fastest plain |",
            "|---|---|---|---:|---:|---:|:-:|---:|---:|:-:|---:|---:|",
        ]
        groups = {
            ("mixup batch", "f32"): ["mixup-batch", "mixup-roll"],
            ("cutmix batch", "f32"): ["cutmix-batch", "cutmix-roll"],
            ("mixup elem", "f32"): ["mixup-elem"],
            ("cutmix elem", "f32"): ["cutmix-elem"],
            ("mixup batch", "u8"): ["mixup-batch"],
            ("cutmix batch", "u8"): ["cutmix-batch"],
            ("mixup elem", "u8"): ["mixup-elem"],
            ("cutmix elem", "u8"): ["cutmix-elem"],
        }
        for (label, dtype), cases in groups.items():
            cands = [
                (statistics.median(v), peer, case)
                for (shape, peer, case, d), v in peer_ms.items()
                if shape == s and d == dtype and case in cases
            ]
            if not cands:
                continue
            p, peer, case = min(cands)
            full = med((s, case, dtype, threads, "full_ms"), rust)
            app = med((s, case, dtype, threads, "apply_ms"), rust)
            plain = fastest_plain[dtype]
            speed = p / full if full else None
            vs_plain = app / plain if app and plain else None
            # Noise only ever adds time, so the fastest single repetitions are a second, steadier view.
            best_full = min(rust.get((s, case, dtype, threads, "full_min_ms"), [None]), default=None)
            best_peer = min(peer_min[(s, pp, cc, dd)] for (ss, pp, cc, dd) in peer_ms if ss == s and dd == dtype and cc in cases)
            best_speed = best_peer / best_full if best_full else None
            same_run = med((s, case, dtype, threads), vs_plain_round)
            lines.append(
                f"| {label} | {dtype} | {peer} | {fmt(p)} | {fmt(full)} | {fmt(speed, 1)}× | "
                f"{'yes' if speed and speed >= 3 else 'no'} | {fmt(best_speed, 1)}× | {fmt(same_run, 2)} | "
                f"{'yes' if same_run and same_run <= 1.5 else 'no'} | {fmt(vs_plain, 2)} | "
                f"{fmt(full / plain if full and plain else None, 2)} |"
            )

        lines += [
            "\nOther mixlab methods (no Python peer here):\n",
            "| case | dtype | sample ms | apply ms | full ms | apply/plain (same run) | apply/fastest plain |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        others = sorted(
            {
                (case, dtype)
                for (shape, case, dtype, t, f) in rust
                if shape == s and case != "plain" and not case.startswith(("mixup", "cutmix"))
            }
        )
        for case, dtype in others:
            app = med((s, case, dtype, threads, "apply_ms"), rust)
            lines.append(
                f"| {case} | {dtype} | {fmt(med((s, case, dtype, threads, 'sample_ms'), rust))} | {fmt(app)} | "
                f"{fmt(med((s, case, dtype, threads, 'full_ms'), rust))} | "
                f"{fmt(med((s, case, dtype, threads), vs_plain_round), 2)} | "
                f"{fmt(app / fastest_plain[dtype] if app and fastest_plain[dtype] else None, 2)} |"
            )
        for (shape, case), why in sorted(skipped.items()):
            if shape == s:
                lines.append(f"| {case} | — | skipped: {why} | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
