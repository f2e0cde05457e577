"""Golden fixtures for mixlab's SnapMix (crates/mixlab-core/src/methods/snapmix.rs).

Runs the official code, github.com/Shaoli-Huang/SnapMix @ 245bda4 (`utils/mixmethod.py`: get_spm,
snapmix; `utils/custom_ops.py`: rand_bbox), loaded from a checkout or bare mirror. Only its surroundings
are stubbed: the `utils` package is reduced to `rand_bbox` (the rest pulls in the data pipeline), the
model is a stand-in that returns a chosen last feature map and has a real `nn.Linear` classifier (CPU,
so `.cuda()` is the identity), numpy's removed `np.int` is aliased to `int`. Every random draw the
reference makes (np.random.rand, np.random.beta twice, torch.randperm, np.random.randint four times) is
recorded; the two λs are fed, to reach the empty-box and same-label branches on purpose.

Run: python3 tools/golden/snapmix.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/snapmix_golden.json)
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn as nn

COMMIT = "245bda4"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "snapmix_golden.json")


def load(ref_git):
    root = tempfile.mkdtemp()
    src = {}
    for path in ["utils/mixmethod.py", "utils/custom_ops.py"]:
        src[path] = subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                                   capture_output=True, text=True).stdout
    np.int = int
    ops_path = os.path.join(root, "custom_ops.py")
    with open(ops_path, "w") as f:
        f.write(src["utils/custom_ops.py"])
    spec = importlib.util.spec_from_file_location("custom_ops", ops_path)
    ops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ops)
    sys.modules["utils"] = types.SimpleNamespace(rand_bbox=ops.rand_bbox)
    mm_path = os.path.join(root, "mixmethod.py")
    with open(mm_path, "w") as f:
        f.write(src["utils/mixmethod.py"])
    spec = importlib.util.spec_from_file_location("mixmethod", mm_path)
    mm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mm)
    torch.Tensor.cuda = lambda self, *a, **k: self
    return mm


class StandIn:
    """`model(input)` → (logits, last feature map, None), with `.module.classifier` as in the reference."""

    def __init__(self, fms, classifier):
        self.fms = fms
        self.module = types.SimpleNamespace(classifier=classifier)

    def __call__(self, x):
        return None, self.fms, None


def enc(a):
    return " ".join(str(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    mm = load(args.ref_git)
    torch.manual_seed(0)
    np.random.seed(0)
    cases = []
    specs = [
        # name, batch, channels, side, fm side, feature channels, classes, (lam, lam1), labels, constant CAM rows
        ("32px", 6, 3, 32, 4, 8, 5, (0.35, 0.6), [0, 1, 2, 3, 4, 0], []),
        ("32px-same-labels", 6, 3, 32, 4, 8, 3, (0.7, 0.2), [0, 0, 1, 1, 2, 2], []),
        ("16px-flat-cam", 5, 1, 16, 2, 4, 4, (0.5, 0.5), [0, 1, 2, 3, 1], [1, 3]),
        ("empty-box", 4, 3, 32, 4, 8, 5, (0.9995, 0.5), [0, 1, 2, 3], []),
        ("12px-fm3", 4, 2, 12, 3, 6, 4, (0.2, 0.8), [3, 2, 1, 3], []),
    ]
    for name, n, c, side, fside, fc, k, lams, labels, flat in specs:
        x = torch.randn(n, c, side, side)
        fms = torch.randn(n, fc, fside, fside)
        clf = nn.Linear(fc, k)
        for i in flat:
            # relu → 0 everywhere and no bias: the CAM is exactly 0, whose percent map is 0/0. (A
            # constant non-zero CAM does not reach that branch: bilinear round-off leaves ~1e-8 noise,
            # which the reference then normalises into an arbitrary map.)
            fms[i] = -1.0
        if flat:
            clf.bias.data.zero_()
        target = torch.tensor(labels)
        conf = types.SimpleNamespace(cropsize=side, netname="resnet", prob=1.0, beta=1.0)
        model = StandIn(fms, clf)
        spm, _ = mm.get_spm(x.clone(), target, conf, model)
        rec = {"randint": []}
        feed = list(lams)
        real_rand, real_beta, real_randint, real_perm = (np.random.rand, np.random.beta, np.random.randint,
                                                         torch.randperm)

        def rand(*a):
            v = real_rand(*a)
            rec["r"] = float(v[0])
            return v

        def beta(a, b):
            return feed.pop(0)

        def randint(*a, **kw):
            v = real_randint(*a, **kw)
            rec["randint"].append(int(v))
            return v

        def randperm(m, *a, **kw):
            v = real_perm(m, *a, **kw)
            rec["perm"] = [int(t) for t in v]
            return v

        np.random.rand, np.random.beta, np.random.randint, torch.randperm = rand, beta, randint, randperm
        try:
            out, ta, tb, lam_a, lam_b = mm.snapmix(x.clone(), target.clone(), conf, model)
        finally:
            np.random.rand, np.random.beta, np.random.randint, torch.randperm = (real_rand, real_beta,
                                                                                 real_randint, real_perm)
        cases.append(dict(name=name, shape=[n, c, side, side], fm=[n, fc, fside, fside], classes=k,
                          labels=labels, lam=lams[0], lam1=lams[1], perm=rec["perm"],
                          centres=rec["randint"], images=enc(x), features=enc(fms),
                          weight_ck=enc(clf.weight.detach().t()), bias=enc(clf.bias.detach()),
                          percent_maps=enc(spm.reshape(n, -1)), mixed=enc(out), lam_a=enc(lam_a),
                          lam_b=enc(lam_b), target_b=[int(t) for t in tb]))
        print(name, rec["perm"], rec["randint"], lam_a.numpy().round(3), lam_b.numpy().round(3))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/snapmix.py",
                   "reference": f"github.com/Shaoli-Huang/SnapMix@{COMMIT}", "torch": torch.__version__,
                   "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
