"""Golden fixtures for mixlab's AttentiveMix (crates/mixlab-core/src/methods/attentivemix.rs).

Runs OpenMixup's function, github.com/Westlake-AI/openmixup @ 37e13724
(`openmixup/models/augments/attentivemix.py`: attentivemix), loaded from a checkout or bare mirror by
`git show` (the rest of the package, which pulls in mmcv, is not imported). Only its surroundings are
stubbed: `.cuda()` is the identity (CPU) and `torch.randperm` is recorded. λ is passed in (`lam=`), as
OpenMixup's callers may, so both AttentiveMix+ (`top_k=None`: k from λ) and the official fixed top-k are
reached; the mask comes back through `return_mask=True`. The official repository's transform cannot run
as published (it calls two methods without `self.`), so OpenMixup's function is the reference.

Run: python3 tools/golden/attentivemix.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/attentivemix_golden.json)
"""
import argparse
import json
import os
import subprocess
import types

import numpy as np
import torch

COMMIT = "37e13724"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "attentivemix_golden.json")


def load(ref_git):
    src = subprocess.run(["git", "-C", ref_git, "show",
                          f"{COMMIT}:openmixup/models/augments/attentivemix.py"],
                         check=True, capture_output=True, text=True).stdout
    torch.Tensor.cuda = lambda self, *a, **k: self
    mod = types.ModuleType("attentivemix")
    exec(compile(src, "attentivemix.py", "exec"), mod.__dict__)
    return mod.attentivemix


def enc(a):
    return " ".join(str(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    attentivemix = load(args.ref_git)
    torch.manual_seed(0)
    cases = []
    specs = [
        # name, batch, image channels, side, feature channels, grid side, λ, top_k
        ("32px-grid4-plus", 4, 3, 32, 8, 4, 0.3, None),
        ("28px-grid7-plus", 3, 1, 28, 5, 7, 0.62, None),
        ("32px-grid8-official-k6", 5, 3, 32, 4, 8, 0.5, 6),
        ("32px-grid4-k-clamped-to-1", 2, 3, 32, 6, 4, 0.01, None),
        ("16px-grid2-all-kept", 3, 2, 16, 3, 2, 1.0, None),
        ("32px-grid4-plus-high", 6, 3, 32, 16, 4, 0.93, None),
    ]
    for name, n, c, side, fc, g, lam, top_k in specs:
        x = torch.randn(n, c, side, side)
        features = torch.randn(n, fc, g, g)
        labels = torch.randint(0, 10, (n,))
        rec = {}
        real_perm = torch.randperm

        def randperm(m, *a, **kw):
            v = real_perm(m, *a, **kw)
            rec["perm"] = [int(t) for t in v]
            return v

        torch.randperm = randperm
        try:
            (mixed, mask), (_, y_b, lam_out) = attentivemix(
                x.clone(), labels.clone(), alpha=2.0, lam=lam, features=features.clone(),
                grid_scale=32, top_k=top_k, return_mask=True)
        finally:
            torch.randperm = real_perm
        assert [int(t) for t in y_b] == [int(labels[j]) for j in rec["perm"]]
        cases.append(dict(name=name, shape=[n, c, side, side], fm=[n, fc, g, g], lam=lam, top_k=top_k,
                          perm=rec["perm"], images=enc(x), features=enc(features),
                          mask=enc(mask.reshape(n, -1)), mixed=enc(mixed), lam_out=lam_out))
        print(name, rec["perm"], lam_out)
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/attentivemix.py",
                   "reference": f"github.com/Westlake-AI/openmixup@{COMMIT}", "torch": torch.__version__,
                   "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
