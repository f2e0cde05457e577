"""Golden fixtures for mixlab's TransMix (crates/mixlab-core/src/methods/transmix.rs).

Runs the official code, github.com/Beckschen/TransMix @ 0e4d31eb (`transmix.py`:
Mixup_transmix.transmix_label and mixup_target), loaded from a checkout or bare mirror by `git show`.
It imports timm's `Mixup`, `cutmix_bbox_and_lam` and `one_hot` (timm must be installed). Only its
surroundings are stubbed: `.cuda()` is the identity (CPU), and `one_hot` is timm 0.3's (the version the
reference was written against; current timm's takes no `device=`). The attention is a
softmax over the class token and the patches with the class token's own share dropped, as a ViT's last
block gives it; boxes are chosen so that edges fall inside tokens, on token edges and on the border.

Run: python3 tools/golden/transmix.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/transmix_golden.json)
"""
import argparse
import json
import os
import subprocess
import types

import numpy as np
import timm
import torch

COMMIT = "0e4d31eb"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "transmix_golden.json")


def load(ref_git):
    src = subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:transmix.py"], check=True,
                         capture_output=True, text=True).stdout
    torch.Tensor.cuda = lambda self, *a, **k: self
    mod = types.ModuleType("transmix")
    exec(compile(src, "transmix.py", "exec"), mod.__dict__)
    mod.one_hot = old_one_hot
    return mod


def old_one_hot(x, num_classes, on_value=1., off_value=0., device="cuda"):
    """timm 0.3's `one_hot` (the reference passes `device=`, which current timm no longer takes)."""
    x = x.long().view(-1, 1)
    return torch.full((x.size()[0], num_classes), off_value, device=device).scatter_(1, x, on_value)


def enc(a):
    return " ".join(str(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    tm = load(args.ref_git)
    torch.manual_seed(0)
    cases = []
    specs = [
        # name, batch, side, grid, classes, box (yl, yh, xl, xh)
        ("32px-grid8-inside-tokens", 4, 32, 8, 10, (5, 22, 3, 30)),
        ("32px-grid8-token-edges", 4, 32, 8, 10, (8, 24, 0, 16)),
        ("28px-grid7-border", 6, 28, 7, 5, (0, 13, 17, 28)),
        ("32px-grid4-thin", 2, 32, 4, 3, (10, 11, 0, 32)),
        ("32px-grid8-whole", 4, 32, 8, 10, (0, 32, 0, 32)),
    ]
    mixer = tm.Mixup_transmix(cutmix_alpha=1.0, num_classes=10, label_smoothing=0.1)
    for name, n, side, g, k, box in specs:
        mixer.num_classes = k
        logits = torch.randn(n, g * g + 1) * 2.0
        attn = torch.softmax(logits, dim=1)[:, 1:]
        labels = torch.randint(0, k, (n,))
        lam_area = 1.0 - (box[1] - box[0]) * (box[3] - box[2]) / (side * side)
        _, y1, y2 = tm.mixup_target(labels, k, lam_area, 0.1, device="cpu", return_y1y2=True)
        target = mixer.transmix_label((None, y1, y2, box), attn.clone(), (n, 3, side, side))
        cases.append(dict(name=name, n=n, side=side, grid=g, classes=k, box=list(box),
                          labels=[int(t) for t in labels], smoothing=0.1, attention=enc(attn),
                          target=enc(target)))
        print(name, target[0].numpy().round(4))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/transmix.py",
                   "reference": f"github.com/Beckschen/TransMix@{COMMIT}", "torch": torch.__version__,
                   "timm": timm.__version__, "numpy": np.__version__, "cases": cases}, f,
                  separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
