#!/usr/bin/env python3
"""Paired differences between any two methods of one experiment in a committed run.

`mixlab report` pairs every method with `none`; a label method is better judged against its own control
(TransMix against CutMix, which draws the same boxes; MixPro against MaskMix). This reads the cells'
`result.json`, pairs them by seed and prints a Markdown table of mean differences with 95 % Student-t
intervals (scipy's t quantile), in the report's conventions: accuracies in percentage points, `acc_last10`
the median test accuracy of the last 10 epochs (OpenMixup's protocol), the others the final epoch's.

    python3 tools/bench/paired.py bench/runs/2026-12-03-2core-converged cifar-vit transmix:cutmix mixpro:maskmix
"""

import argparse
import json
import math
import pathlib
import statistics
import sys

from scipy import stats

METRICS = {  # key: (header, percent?)
    "acc": ("Δ acc", True),
    "acc_last10": ("Δ acc, median of last 10", True),
    "nll": ("Δ NLL", False),
    "ece15": ("Δ ECE₁₅", False),
    "ece15_ts": ("Δ ECE₁₅ after TS", False),
}


def value(result, key):
    if key == "acc_last10":
        accs = [r["test"]["acc"] for r in result["curve"] if r.get("test") and "acc" in r["test"]]
        return statistics.median(accs[-10:])
    return result["test"][key]


def cells(run, experiment, label):
    """seed -> result.json of the finished cells `<experiment>-<label>-s<seed>`."""
    out = {}
    for d in sorted((run / "cells").glob(f"{experiment}-{label}-s*")):
        meta = json.loads((d / "cell.json").read_text())
        res = d / "result.json"
        if meta.get("experiment") == experiment and meta.get("label") == label and res.exists():
            out[meta["seed"]] = json.loads(res.read_text())
    return out


def paired(a, b):
    diffs = [x - y for x, y in zip(a, b)]
    n = len(diffs)
    mean = statistics.fmean(diffs)
    if n < 2:
        return mean, None
    return mean, stats.t.ppf(0.975, n - 1) * statistics.stdev(diffs) / math.sqrt(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=pathlib.Path)
    ap.add_argument("experiment")
    ap.add_argument("pairs", nargs="+", help="method:baseline, by method label")
    ap.add_argument("--metrics", default="acc_last10,acc,nll,ece15,ece15_ts")
    args = ap.parse_args()
    keys = args.metrics.split(",")
    unknown = [k for k in keys if k not in METRICS]
    if unknown:
        sys.exit(f"unknown metric(s) {unknown}; known: {', '.join(METRICS)}")
    print("| method vs baseline | seeds | " + " | ".join(METRICS[k][0] for k in keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for pair in args.pairs:
        method, _, base = pair.partition(":")
        if not base:
            sys.exit(f"{pair!r}: write method:baseline")
        a, b = cells(args.run, args.experiment, method), cells(args.run, args.experiment, base)
        seeds = sorted(set(a) & set(b))
        if not seeds:
            sys.exit(f"{args.experiment}: no seed has both {method} and {base} finished")
        row = []
        for k in keys:
            scale = 100.0 if METRICS[k][1] else 1.0
            mean, half = paired([value(a[s], k) * scale for s in seeds], [value(b[s], k) * scale for s in seeds])
            fmt = "{:+.2f}" if METRICS[k][1] else "{:+.4f}"
            if half is None:
                row.append(fmt.format(mean))
            else:
                lo, hi = mean - half, mean + half
                star = " *" if lo > 0 or hi < 0 else ""
                row.append(f"{fmt.format(mean)} [{fmt.format(lo)}, {fmt.format(hi)}]{star}")
        print(f"| {method} vs {base} | {len(seeds)} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
