"""Golden fixture for ProxyDet's class-wise multi-modal mixup (the proxy term).

Every number comes from the reference code, read at run time from the git mirror with `git show` and
executed in a scratch namespace; nothing of it is copied into the project:
clovaai/ProxyDet @ 033c51cc, proxydet/modeling/roi_heads/proxydet_roi_heads.py, the methods
`ProxydetCascadeROIHeads.mixup`, `_embed_interp` and `loss_mixup`, bound to a stand-in `self` that holds
only the CMM settings (`cmm_prototype = "center"`, `cmm_beta`, `cmm_loss`).

The reference draws λ with `np.random.beta` and the pairing with `torch.randperm`; both are replaced by
fixed values (recorded in the fixture) through the namespace the methods run in. Its inputs are L2-normalised
region embeddings, class labels whose last class is the background (excluded), and the L2-normalised text
embeddings with a background row. mixlab has no background class: its test drops those rows.

Run from the repo root: python3 tools/golden/proxydet.py (writes
crates/mixlab-burn/tests/fixtures/proxydet.json). Needs numpy, torch, git and the mirror
(/work/.mirror/clovaai+ProxyDet/repo; --git).
"""
import argparse
import contextlib
import io
import ast
import json
import os
import subprocess
import textwrap

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates", "mixlab-burn", "tests", "fixtures", "proxydet.json")
AT = "033c51cc"
FILE = "proxydet/modeling/roi_heads/proxydet_roi_heads.py"


def methods(git_dir):
    src = subprocess.run(["git", "-C", git_dir, "show", f"{AT}:{FILE}"], check=True,
                         capture_output=True, text=True).stdout
    cls = next(n for n in ast.parse(src).body
               if isinstance(n, ast.ClassDef) and n.name == "ProxydetCascadeROIHeads")
    return {n.name: textwrap.dedent(ast.get_source_segment(src, n))
            for n in cls.body if isinstance(n, ast.FunctionDef)
            and n.name in ("mixup", "_embed_interp", "loss_mixup")}


class FixedDraws:
    """What the reference's namespace sees as `np` and `torch`: the real modules, with the two draws fixed."""

    def __init__(self):
        self.lam = None
        self.perm = None
        outer = self

        class Random:
            @staticmethod
            def beta(a, b):
                return outer.lam

            @staticmethod
            def randint(n):
                return int(outer.lam)

        class Np:
            random = Random

            def __getattr__(self, name):
                return getattr(np, name)

        class Torch:
            @staticmethod
            def randperm(n):
                assert n == len(outer.perm), (n, outer.perm)
                return torch.tensor(outer.perm, dtype=torch.long)

            def __getattr__(self, name):
                return getattr(torch, name)

        self.np = Np()
        self.torch = Torch()


def checked(mixup, emb, text, labels):
    """The reference's `mixup` at stage 2, failing where its try/except would hide an error as a zero loss."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        out = mixup(2, emb, text, torch.tensor(labels, dtype=torch.long))
    if "Caught this error" in said.getvalue():
        raise SystemExit(said.getvalue())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--git", default="/work/.mirror/clovaai+ProxyDet/repo")
    args = ap.parse_args()
    draws = FixedDraws()
    ns = dict(np=draws.np, torch=draws.torch, F=F)
    src = methods(args.git)
    for name, code in src.items():
        exec(compile(code, f"proxydet_roi_heads.py:{name}", "exec"), ns)

    class Heads:
        cmm_prototype = "center"
        cmm_prototype_temp = 1.0
        cmm_beta = 1.0
        cmm_loss = "l1"
        _embed_interp = ns["_embed_interp"]
        loss_mixup = ns["loss_mixup"]
        mixup = ns["mixup"]

    rng = np.random.default_rng(20240225)
    n, dim, classes = 14, 8, 5  # classes 0..4 plus the background, class 5
    cases = []
    labels = [0, 2, 2, 5, 1, 4, 0, 2, 5, 1, 1, 4, 0, 5]  # class 3 absent, background present
    present = sorted({l for l in labels if l < classes})
    for lam, perm, loss in [(0.37, [2, 0, 3, 1], "l1"), (0.81, [1, 2, 0, 3], "l1"),
                            (0.55, [3, 1, 0, 2], "l2"), (1.0, [1, 2, 3, 0], "l1")]:
        assert sorted(perm) == list(range(len(present)))
        emb = F.normalize(torch.tensor(rng.standard_normal((n, dim)), dtype=torch.float32), dim=1)
        text = F.normalize(torch.tensor(rng.standard_normal((classes + 1, dim)), dtype=torch.float32),
                           dim=1)
        heads = Heads()
        heads.cmm_loss = loss
        draws.lam, draws.perm = lam, perm
        out = checked(heads.mixup, emb, text, labels)
        cases.append(dict(lam=lam, partner=perm, loss=loss, emb=emb.flatten().tolist(),
                          text=text[:classes].flatten().tolist(), value=float(out)))
    # The loss is 0 where each prototype is its class embedding (the check the method notes ask for).
    text = F.normalize(torch.tensor(rng.standard_normal((classes + 1, dim)), dtype=torch.float32), dim=1)
    on_table = text[torch.tensor([l for l in labels])]
    draws.lam, draws.perm = 0.3, [1, 0, 3, 2]
    zero = float(checked(Heads().mixup, on_table, text, labels))
    json.dump(dict(source=f"clovaai/ProxyDet@{AT}:{FILE}", n=n, dim=dim, classes=classes,
                   labels=labels, background=classes, present=present, cases=cases, zero=zero),
              open(OUT, "w"), indent=1)
    print(f"wrote {OUT}: {[c['value'] for c in cases]}, zero {zero}")


if __name__ == "__main__":
    main()
