"""Golden fixture for DecoupleMix's loss (mixlab-burn; OpenMixup `soft_mix_cross_entropy` with
`use_mix_decouple=True`).

Reference: Westlake-AI/openmixup @ 37e1372446ab35c03fcf77302539bd4a5bee47eb,
openmixup/models/losses/cross_entropy_loss.py `soft_mix_cross_entropy` (called by
`CrossEntropyLoss(use_soft=True, use_mix_decouple=True)` from openmixup/models/heads/cls_mixup_head.py
`ClsMixupHead.loss` with avg_factor = batch size and eta_weight built from
`eta_weight=dict(eta=0.1, mode="both", thr=0.5)` -> [0.1, 0.1]).

`decouple_loss` below is an independent re-implementation of that function's behaviour (not a copy):
  1. rows whose number of entries > 1e-3 is below the batch maximum ("one-hot" rows: same-class pairs,
     lam ~ 0 or 1) get plain soft CE;
  2. the others get soft CE plus, when row 0's hot values are pairwise distinct (not lam = 0.5) and
     there are at least two of them, sum_k eta[k] * CE over the classes that remain after removing
     every hot class except the k-th (k runs over row 0's hot classes in ascending class index; on the
     other rows the k-th class is the one whose weight equals row 0's k-th weight);
  3. the batch loss is sum of all per-row losses / B (both groups are divided by the full batch size).
With `--ref-git PATH_TO_OPENMIXUP_GIT_DIR` the script also runs the reference function itself (read
with `git show`, executed in a scratch namespace, never written anywhere) and asserts agreement.

Run from the repo root: python3 tools/golden/decouplemix.py [--ref-git DIR]
(writes crates/mixlab-burn/tests/fixtures/decouplemix.json). Needs torch. Computed in float64.
"""
import argparse
import json
import os
import subprocess

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPS = 1e-3


def soft_targets(a, b, lam, classes):
    """lam * onehot(a) + (1 - lam) * onehot(b), as ClsMixupHead builds y_mixed."""
    ya = F.one_hot(torch.tensor(a), classes).double()
    yb = F.one_hot(torch.tensor(b), classes).double()
    return lam * ya + (1 - lam) * yb


def decouple_loss(logits, target, eta):
    """Per-row losses and the batch loss (sum / B)."""
    B, C = target.shape
    logp = F.log_softmax(logits, -1)
    per_row = -(target * logp).sum(-1)
    hot = target > EPS
    n_hot = hot.sum(-1)
    mixed = n_hot >= n_hot.max()
    rows = torch.nonzero(mixed).flatten().tolist()
    if rows:
        first = rows[0]
        ref_vals = [target[first, c].item() for c in range(C) if hot[first, c]]
        distinct = len(set(ref_vals)) == len(ref_vals)
        if distinct and len(ref_vals) > 1:
            for r in rows:
                for k, v in enumerate(ref_vals):
                    keep = [c for c in range(C) if not hot[r, c] or target[r, c].item() == v]
                    own = [c for c in range(C) if hot[r, c] and target[r, c].item() == v]
                    assert len(own) == 1 and len(keep) == C - len(ref_vals) + 1
                    sub = logits[r, keep]
                    j = keep.index(own[0])
                    per_row[r] = per_row[r] + eta[k] * -(F.log_softmax(sub, -1)[j])
    return per_row, per_row.sum() / B


def load_reference(git_dir):
    def show(path):
        return subprocess.run(["git", "--git-dir", git_dir, "show", "HEAD:" + path],
                              check=True, capture_output=True, text=True).stdout
    ns = {}
    utils = show("openmixup/models/losses/utils.py")
    exec(compile(utils, "openmixup/losses/utils.py", "exec"), ns)
    src = show("openmixup/models/losses/cross_entropy_loss.py")
    src = src.replace("from ..registry import LOSSES", "LOSSES = None")
    src = src.replace("from .utils import weight_reduce_loss, convert_to_one_hot", "")
    src = src[: src.index("@LOSSES.register_module()")]
    exec(compile(src, "openmixup/losses/cross_entropy_loss.py", "exec"), ns)
    return ns["soft_mix_cross_entropy"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", help="git dir of Westlake-AI/openmixup to cross-check against")
    args = ap.parse_args()
    ref = load_reference(args.ref_git) if args.ref_git else None

    gen = torch.Generator().manual_seed(2203_10761)
    C = 6
    specs = [
        # name, a, b, lam, eta
        ("lam0.7-with-same-class-pair", [0, 1, 2, 3, 5], [3, 1, 4, 0, 2], 0.7, [0.1, 0.1]),
        ("lam0.3-all-mixed", [0, 1, 2, 3], [5, 4, 3, 2], 0.3, [0.1, 0.1]),
        ("lam0.5-no-decoupled-term", [0, 1, 2, 3], [5, 1, 3, 2], 0.5, [0.1, 0.1]),
        ("lam1-plain-ce", [0, 1, 2, 3], [5, 4, 3, 2], 1.0, [0.1, 0.1]),
        ("lam0.9995-below-eps-is-one-hot", [0, 1, 2], [5, 4, 3], 0.9995, [0.1, 0.1]),
        ("lam0.2-eta-first-only", [4, 1, 2, 3], [0, 4, 3, 2], 0.2, [0.1, 0.0]),
        ("lam0.85-eta1", [2, 0, 5, 3, 1, 4], [0, 2, 1, 1, 4, 4], 0.85, [1.0, 1.0]),
    ]
    cases = []
    for name, a, b, lam, eta in specs:
        B = len(a)
        logits = torch.randn(B, C, generator=gen) * 2.0
        target = soft_targets(a, b, lam, C)
        per_row, mean = decouple_loss(logits, target, eta)
        if ref is not None:
            want = ref(logits, target, reduction="mean", avg_factor=B, eta_weight=list(eta))
            assert abs(want.item() - mean.item()) < 1e-12, (name, want.item(), mean.item())
        cases.append({
            "name": name, "classes": C, "label_a": a, "label_b": b, "lam": lam, "eta": eta,
            "logits": logits.flatten().tolist(), "targets": target.flatten().tolist(),
            "loss_per_sample": per_row.tolist(), "loss_mean": mean.item(),
        })
        print(f"{name}: mean {mean.item():.12f}")
    out = os.path.join(ROOT, "crates", "mixlab-burn", "tests", "fixtures", "decouplemix.json")
    with open(out, "w") as f:
        json.dump({
            "reference": "Westlake-AI/openmixup@37e13724 openmixup/models/losses/cross_entropy_loss.py soft_mix_cross_entropy",
            "checked_against_reference": ref is not None,
            "eps": EPS, "layout": "logits/targets row-major B x classes; loss_mean = sum(loss_per_sample)/B",
            "cases": cases,
        }, f, indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()
