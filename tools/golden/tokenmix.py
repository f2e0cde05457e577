"""Golden fixtures for mixlab's TokenMix (crates/mixlab-core/src/methods/tokenmix.rs).

Runs the official code, github.com/Sense-X/TokenMix @ 0e17d5dd (`tokenmix.py`), loaded from a checkout or
bare mirror by `git show`: `generate_mask` and `one_hot` as functions, with Python's `random.uniform`/`random.randint`
recorded so that mixlab can replay the same draws, and the label lines of `Mixup.__call__` (from
`B = len(hard_label)` to `target = y1 + y2`, dedented and executed as they are) on a given label map (the
reference builds it from ReLabel's precomputed NFNet maps, which the label lines only read). Only the
surroundings are stubbed: numpy's removed `np.int` is `int`, and the module's timm-era imports are not
needed by these two pieces.

Run: python3 tools/golden/tokenmix.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/tokenmix_golden.json)
"""
import argparse
import json
import math
import os
import random
import subprocess
import textwrap

import numpy as np
import torch

COMMIT = "0e17d5dd"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "tokenmix_golden.json")


def show(ref_git, path):
    return subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def load(ref_git):
    src = show(ref_git, "tokenmix.py")
    a = src.index("def generate_mask(")
    b = src.index("\ndef ", a + 10)
    np.int = int
    ns = dict(np=np, torch=torch, math=math, random=random)
    exec(compile(src[a:b], "tokenmix.py:generate_mask", "exec"), ns)
    c = src.index("def one_hot(")
    exec(compile(src[c:src.index("\ndef ", c + 10)], "tokenmix.py:one_hot", "exec"), ns)
    lines = src.split("\n")
    start = next(i for i, l in enumerate(lines) if "B = len(hard_label)" in l)
    end = next(i for i in range(start, len(lines)) if "target = y1 + y2" in lines[i])
    labels = compile(textwrap.dedent("\n".join(lines[start:end + 1])), "tokenmix.py:labels", "exec")
    return ns["generate_mask"], ns["one_hot"], labels


class Recorder:
    def __init__(self):
        self.draws = []
        self.uniform, self.randint = random.uniform, random.randint

    def __enter__(self):
        def uniform(a, b):
            v = self.uniform(a, b)
            self.draws.append(["u", v])
            return v

        def randint(a, b):
            v = self.randint(a, b)
            self.draws.append(["i", v])
            return v

        random.uniform, random.randint = uniform, randint
        return self

    def __exit__(self, *a):
        random.uniform, random.randint = self.uniform, self.randint


def enc(a):
    return " ".join(str(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    generate_mask, one_hot, label_lines = load(args.ref_git)
    cases = []
    for seed in range(6):
        random.seed(seed)
        torch.manual_seed(seed)
        with Recorder() as rec:
            mask, lam = generate_mask(0.5, "cpu", 14)
        n, k = 4, 7
        hard_label = torch.randint(0, k, (n,))
        label_map = torch.rand(n, k, 14, 14) ** 3
        ns = dict(torch=torch, label_map=label_map, hard_label=hard_label, mask=mask.clone(),
                  one_hot=one_hot, x=torch.zeros(1),
                  self=type("S", (), dict(label_smoothing=0.1, num_classes=k))())
        exec(label_lines, ns)
        own = label_map[torch.arange(n), hard_label]
        cases.append(dict(name=f"seed{seed}", draws=rec.draws, mask=enc(mask.reshape(-1)), lam=float(lam), n=n,
                          classes=k, labels=[int(t) for t in hard_label], maps=enc(own.reshape(n, -1)),
                          target=enc(ns["target"])))
        print(f"seed{seed}", len(rec.draws), "draws, masked", int(mask.sum()), "lam", round(float(lam), 4))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/tokenmix.py", "reference": f"github.com/Sense-X/TokenMix@{COMMIT}",
                   "torch": torch.__version__, "numpy": np.__version__, "cases": cases}, f,
                  separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
