"""Golden fixtures for mixlab's TL-Align (crates/mixlab-core/src/methods/tlalign.rs).

Runs the official code, github.com/Euphoria16/TL-Align @ 4da06219, loaded from a checkout or bare mirror by
`git show`: `tla.py` (rand_token_bbox, mixup_target, token_label) as a module, and the `Attention` and
`Block` classes of its `timm/models/vision_transformer.py` (the code that carries `label_embed` through a
block), executed with `Mlp` and `DropPath` from the installed timm (the repository ships only its changed
timm files). A stack of blocks with random weights runs on random tokens; a forward hook on each block's
`attn_drop` records the softmax attention the reference averages over heads, so mixlab's propagation can be
fed the same matrices. np.random and torch are seeded.

Run: python3 tools/golden/tlalign.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/tlalign_golden.json)
"""
import argparse
import json
import os
import subprocess
import types

import numpy as np
import torch
import torch.nn as nn
from timm.layers import DropPath, Mlp

COMMIT = "4da06219"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "tlalign_golden.json")


def show(ref_git, path):
    return subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def load(ref_git):
    tla = types.ModuleType("tla")
    exec(compile(show(ref_git, "tla.py"), "tla.py", "exec"), tla.__dict__)
    src = show(ref_git, "timm/models/vision_transformer.py")
    a, b = src.index("class Attention"), src.index("class Block")
    c = src.index("\nclass ", b + 10)
    vit = dict(torch=torch, nn=nn, Mlp=Mlp, DropPath=DropPath)
    exec(compile(src[a:c], "vision_transformer.py", "exec"), vit)
    return tla, vit["Block"]


def enc(a):
    return " ".join(str(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    tla, Block = load(args.ref_git)
    cases = []
    specs = [
        # name, batch (even: flip pairing), grid side, classes, depth, lam drawn
        ("grid8-depth4", 4, 8, 10, 4, 0.6),
        ("grid4-depth2", 6, 4, 5, 2, 0.3),
        ("grid7-depth3", 2, 7, 3, 3, 0.85),
    ]
    for k, (name, n, g, classes, depth, lam0) in enumerate(specs):
        np.random.seed(k)
        torch.manual_seed(k)
        (yl, yu, xl, xu), lam = tla.rand_token_bbox((g, g), lam0)
        mask = torch.zeros((g, g))
        mask[yl:yu, xl:xu] = 1
        mask = mask.view(-1)
        target = torch.randint(0, classes, (n,))
        cls = tla.mixup_target(target, classes, lam, 0.1, device="cpu")
        tokens = tla.token_label(target, classes, mask, 0.1, device="cpu")
        labels0 = torch.cat([cls.unsqueeze(1), tokens], dim=1).float()
        blocks = [Block(16, 2, qkv_bias=True) for _ in range(depth)]
        seen = []
        for blk in blocks:
            blk.attn.attn_drop.register_forward_hook(lambda m, i, o: seen.append(i[0].detach().mean(1)))
        x = torch.randn(n, g * g + 1, 16)
        labels = labels0
        with torch.no_grad():
            for blk in blocks:
                x, labels = blk(x, labels)
        cases.append(dict(name=name, n=n, grid=g, classes=classes, box=[int(yl), int(yu), int(xl), int(xu)],
                          lam=float(lam), labels=[int(t) for t in target], labels0=enc(labels0),
                          attention=[enc(a) for a in seen], cls=enc(labels[:, 0])))
        print(name, (yl, yu, xl, xu), round(float(lam), 4), labels[0, 0].numpy().round(3))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/tlalign.py", "reference": f"github.com/Euphoria16/TL-Align@{COMMIT}",
                   "torch": torch.__version__, "numpy": np.__version__, "cases": cases}, f,
                  separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
