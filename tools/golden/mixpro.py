"""Golden fixtures for mixlab's MixPro with progressive attention labelling (PAL)
(crates/mixlab-core/src/methods/mixpro.rs, crates/mixlab-burn/src/strategy/mixpro.rs).

Runs the official code, github.com/fistyee/MixPro @ 53a229e0: `utils.py`'s `MaskMix` as a function, and the
PAL branch of `main.py`'s `train_one_epoch` (the lines from `criterion_att = ...` to `loss = loss.mean()`,
taken from the file by `git show`, dedented and executed as they are). Only their surroundings are
stubbed: `autocast` is a no-op context (CPU), and one line is inserted after `lam = w1 / (w1+w2)` to keep
the attention share before the line that blends it (`_lam_attn = lam.clone()`). np.random and
torch.randperm are seeded; the permutation is recorded. The logits are a leaf tensor, so the loss's
gradient with respect to them is recorded too: the reference does not detach `softmax(outputs)` inside
the cosine similarity, so λ carries gradient.

Run: python3 tools/golden/mixpro.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/mixpro_golden.json)
"""
import argparse
import contextlib
import json
import math
import os
import subprocess
import textwrap
import types

import numpy as np
import torch
import torch.nn.functional as F

COMMIT = "53a229e0"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "mixpro_golden.json")


def show(ref_git, path):
    return subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def pal_snippet(main_py):
    lines = main_py.split("\n")
    start = next(i for i, l in enumerate(lines) if "criterion_att = torch.nn.CrossEntropyLoss" in l)
    end = next(i for i in range(start, len(lines)) if "loss = loss.mean()" in lines[i])
    body = textwrap.dedent("\n".join(lines[start:end + 1]))
    out = []
    for l in body.split("\n"):
        out.append(l)
        if l.strip() == "lam = w1 / (w1+w2)":
            out.append(l[:len(l) - len(l.lstrip())] + "_lam_attn = lam.clone()")
    assert any("_lam_attn" in l for l in out)
    return "\n".join(out)


def enc(a):
    return " ".join(str(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    utils = types.ModuleType("utils")
    exec(compile(show(args.ref_git, "utils.py"), "utils.py", "exec"), utils.__dict__)
    snippet = compile(pal_snippet(show(args.ref_git, "main.py")), "main.py:PAL", "exec")
    cases = []
    specs = [
        # name, batch, image side, model patch, mask patch, classes, seed
        ("32px-patch4-mask8", 4, 32, 4, 8, 10, 0),
        ("32px-patch4-mask16", 6, 32, 4, 16, 5, 1),
        ("28px-patch4-mask8-cropped", 3, 28, 4, 8, 7, 5),
        ("32px-patch2-mask8", 4, 32, 2, 8, 3, 3),
    ]
    for name, n, side, patch, mpatch, k, seed in specs:
        np.random.seed(seed)
        torch.manual_seed(seed)
        samples = torch.randn(n, 3, side, side)
        targets = torch.randint(0, k, (n,))
        index = torch.randperm(n)
        mask_num = math.ceil(side / mpatch)
        scale_ = mpatch // patch
        patch_num = side // patch
        mixed, mix_targets, mask, mask_ratio = utils.MaskMix(
            samples, samples[index], 1.0, mask_num, scale_, mpatch, targets, targets[index], 0.1, k)
        tokens = patch_num * patch_num
        outputs = (torch.randn(n, k) * 2.0).requires_grad_(True)
        attn = torch.softmax(torch.randn(n, tokens + 1) * 2.0, dim=1)[:, 1:]
        ns = dict(torch=torch, F=F, autocast=contextlib.nullcontext, mask=mask, mask_ratio=mask_ratio,
                  patch_num=patch_num, samples=mixed, attn=attn, outputs=outputs, mix_targets=mix_targets,
                  targets=targets, flip_targets=targets[index])
        exec(snippet, ns)
        loss = ns["loss"]
        loss.backward()
        token_mask = np.asarray(mask)[:, :patch_num, :patch_num].reshape(n, -1)
        cases.append(dict(name=name, n=n, side=side, patch=patch, classes=k, labels=[int(t) for t in targets],
                          perm=[int(t) for t in index], mask_ratio=enc(mask_ratio), token_mask=enc(token_mask),
                          images=enc(samples), mixed=enc(mixed), mix_targets=enc(mix_targets),
                          outputs=enc(outputs.detach()), attention=enc(attn), lam_attn=enc(ns["_lam_attn"]),
                          lam=enc(ns["lam"].detach()), loss=float(loss), grad=enc(outputs.grad)))
        print(name, float(loss), ns["lam"].detach().numpy().round(4))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/mixpro.py", "reference": f"github.com/fistyee/MixPro@{COMMIT}",
                   "torch": torch.__version__, "numpy": np.__version__, "cases": cases}, f,
                  separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
