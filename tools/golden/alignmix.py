"""Golden fixtures for mixlab's AlignMix (crates/mixlab-core/src/methods/alignmix.rs, solvers/sinkhorn.rs).

Runs the official code, github.com/shashankvkt/AlignMixup_CVPR22 @ 0b9de8cb
(`cifar10_100/utils/OT.py`: SinkhornDistance; `cifar10_100/models/resnet18_classifier.py`: mixup_aligned),
loaded from a checkout or bare mirror. Only its surroundings are stubbed: `.cuda()` is the identity (CPU),
`models.resnet` is an empty stand-in (mixup_aligned does not touch the network), and the two random draws
mixup_aligned makes (np.random.permutation, random.randint) are fed so that both alignment branches run on
the same features. The plan P the reference computes is captured from SinkhornDistance.forward.

Run: python3 tools/golden/alignmix.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/alignmix_golden.json)
"""
import argparse
import json
import os
import random
import subprocess
import sys
import types

import numpy as np
import torch

COMMIT = "0b9de8cb"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "alignmix_golden.json")


def show(ref_git, path):
    return subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def load(ref_git):
    torch.Tensor.cuda = lambda self, *a, **k: self
    ot = types.ModuleType("utils.OT")
    exec(compile(show(ref_git, "cifar10_100/utils/OT.py"), "OT.py", "exec"), ot.__dict__)
    utils = types.ModuleType("utils")
    utils.OT = ot
    resnet = types.ModuleType("models.resnet")
    resnet.ResNet18 = lambda *a, **k: None
    models = types.ModuleType("models")
    models.resnet = resnet
    sys.modules.update({"utils": utils, "utils.OT": ot, "models": models, "models.resnet": resnet})
    clf = types.ModuleType("resnet18_classifier")
    exec(compile(show(ref_git, "cifar10_100/models/resnet18_classifier.py"), "resnet18_classifier.py",
                 "exec"), clf.__dict__)
    return ot, clf


def arr(t):
    return " ".join(repr(float(v)) for v in np.asarray(t, dtype=np.float32).ravel())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    ot, clf = load(args.ref_git)

    captured = {}
    forward = ot.SinkhornDistance.forward

    def capture(self, x, y):
        pi = forward(self, x, y)
        captured["pi"] = pi.detach().clone()
        return pi

    ot.SinkhornDistance.forward = capture
    gen = torch.Generator().manual_seed(0)
    cases = []
    # (name, n, c, h, w, scale, relu): a small Gaussian map, and a rectified, ResNet-like one.
    for name, n, c, h, w, scale, rect in [("gauss-4x8x4x4", 4, 8, 4, 4, 1.0, False),
                                           ("relu-3x16x4x4", 3, 16, 4, 4, 0.6, True),
                                           ("relu-2x6x2x3", 2, 6, 2, 3, 0.8, True)]:
        out = torch.randn(n, c, h, w, generator=gen) * scale
        if rect:
            out = out.clamp(min=0)
        perm = np.roll(np.arange(n), 1)
        lam = 0.3
        y = torch.arange(n)
        case = {"name": name, "dims": [n, c, h * w], "features": arr(out), "partner": perm.tolist(),
                "lam": lam}
        for branch in (0, 1):
            np_perm, rnd = np.random.permutation, random.randint
            np.random.permutation = lambda k, p=perm: p.copy()
            random.randint = lambda a, b, v=branch: v
            try:
                final, y_a, y_b = clf.mixup_aligned(out.clone(), y, lam)
            finally:
                np.random.permutation, random.randint = np_perm, rnd
            assert y_b.tolist() == y[perm].tolist()
            case[f"mixed_{branch}"] = arr(final)
            case["plan"] = arr(captured["pi"])
        cases.append(case)
    with open(OUT, "w") as f:
        json.dump({"reference": f"shashankvkt/AlignMixup_CVPR22@{COMMIT}", "cases": cases}, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
