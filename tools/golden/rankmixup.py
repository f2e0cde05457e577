"""Golden fixture for RankMixup's losses (mixlab-burn): MRL and M-NDCG.

Reference: cvlab-yonsei/RankMixup @ e5dc77f49c323f9326857aac5782b54e3da56076,
calibrate/losses/rankmixup.py (`RankMixup_MRL`, `RankMixup_MNDCG`), inputs produced by
calibrate/net/resnet_mixup.py `forward_multimixup` / `mixup_process` (per mix: lam ~ Beta(a, a),
one permutation, x_mix = lam x + (1-lam) x[perm], target_re = lam onehot(y) + (1-lam) onehot(y[perm])
in float32; the mixes are concatenated mix-major: row m*B + i is mix m of sample i).

The functions below are independent re-implementations of the reference behaviour (not copies):
- MRL (one mix): diff_i = max_c z_mix[i] - max_c z_raw[i]; mask_j = no entry of target_re[j] equals
  1.0 exactly (float32 compare); the reference multiplies a [B] mask with a [B,1] hinge, which
  broadcasts to [B,B], so loss_mixup = mean_j(mask_j) * mean_i(relu(diff_i + margin)).
  `loss_mixup_masked_per_sample` = mean_i(mask_i * relu(diff_i + margin)) is given for comparison only.
  loss = CE(z_raw, y) + alpha * loss_mixup.
- M-NDCG (M mixes): conf_raw = max softmax(z_raw); conf_m = max softmax(z_mix[m]); rel_m = max
  target_re[m] (= max(lam, 1-lam), 1 for same-class pairs); order the mixes per sample by rel
  descending (torch.argsort, stable here; only ties can differ); gains (conf_raw, conf_sorted...) and
  relevances (1, rel_sorted...) discounted by log2(k+1), k = 1..M+1; ndcg = dcg/idcg, inverted when
  dcg >= idcg; loss_mixup = mean(1 - ndcg); loss = CE + alpha * loss_mixup.
With `--ref-git PATH_TO_RANKMIXUP_GIT_DIR` the script also runs the reference classes (read with
`git show`, executed in a scratch namespace, never written anywhere) and asserts agreement.

Run from the repo root: python3 tools/golden/rankmixup.py [--ref-git DIR]
(writes crates/mixlab-burn/tests/fixtures/rankmixup.json). Needs numpy, torch.
"""
import argparse
import json
import math
import os
import subprocess

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_targets(labels, perms, lams, classes):
    """target_re as the reference builds it (float32), mix-major."""
    onehot = F.one_hot(torch.tensor(labels), classes).float()
    parts = [onehot * lam + onehot[torch.tensor(p)] * (1 - lam) for p, lam in zip(perms, lams)]
    return torch.cat(parts, 0)


def mrl(raw, labels, mixed, target_re, margin, alpha):
    ce = F.cross_entropy(raw, torch.tensor(labels)).item()
    diff = mixed.max(1).values - raw.max(1).values
    hinge = F.relu(diff + margin)
    mask = ((target_re == 1.0).sum(1) == 0).double()
    mixup = mask.mean().item() * hinge.mean().item()
    per_sample = (mask * hinge).mean().item()
    return ce + alpha * mixup, ce, mixup, per_sample, mask.tolist(), hinge.tolist()


def mndcg(raw, labels, mixed, target_re, num_mix, alpha):
    B, C = raw.shape
    ce = F.cross_entropy(raw, torch.tensor(labels)).item()
    conf_raw = F.softmax(raw.double(), 1).max(1).values
    conf_mix = F.softmax(mixed.double().reshape(num_mix, B, C), 2).max(2).values.t()  # B x M
    rel = target_re.double().reshape(num_mix, B, C).max(2).values.t()  # B x M
    disc = [math.log2(k + 1) for k in range(1, num_mix + 2)]
    ndcg = []
    for i in range(B):
        order = sorted(range(num_mix), key=lambda m: -rel[i, m].item())
        gains = [conf_raw[i].item()] + [conf_mix[i, m].item() for m in order]
        rels = [1.0] + [rel[i, m].item() for m in order]
        dcg = sum(g / d for g, d in zip(gains, disc))
        idcg = sum(r / d for r, d in zip(rels, disc))
        ndcg.append(dcg / idcg if idcg > dcg else idcg / dcg)
    mixup = float(np.mean([1.0 - v for v in ndcg]))
    return ce + alpha * mixup, ce, mixup, ndcg


def load_reference(git_dir):
    src = subprocess.run(["git", "--git-dir", git_dir, "show", "HEAD:calibrate/losses/rankmixup.py"],
                         check=True, capture_output=True, text=True).stdout
    ns = {}
    exec(compile(src, "rankmixup.py", "exec"), ns)
    return ns["RankMixup_MRL"], ns["RankMixup_MNDCG"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", help="git dir of cvlab-yonsei/RankMixup to cross-check against")
    args = ap.parse_args()
    ref = load_reference(args.ref_git) if args.ref_git else None
    gen = torch.Generator().manual_seed(2023)
    C = 5
    out_cases = {"mrl": [], "mndcg": []}

    mrl_specs = [
        # name, labels, perm, lam, margin, alpha
        ("mrl-default-margin2", [0, 1, 2, 3, 4, 1], [1, 0, 3, 2, 5, 4], 0.62, 2.0, 0.1),
        ("mrl-with-same-class-pair", [0, 1, 2, 1, 4, 3], [3, 1, 2, 0, 5, 4], 0.5, 2.0, 0.1),
        ("mrl-tiny-margin1", [2, 2, 0, 4], [1, 0, 3, 2], 0.8, 1.0, 0.1),
        ("mrl-lam1-identity", [0, 1, 2, 3], [1, 2, 3, 0], 1.0, 2.0, 0.1),
    ]
    for name, labels, perm, lam, margin, alpha in mrl_specs:
        B = len(labels)
        raw = torch.randn(B, C, generator=gen) * 3.0
        mixed = torch.randn(B, C, generator=gen) * 3.0
        target_re = make_targets(labels, [perm], [lam], C)
        loss, ce, mix, per_sample, mask, hinge = mrl(raw, labels, mixed, target_re, margin, alpha)
        if ref is not None:
            m = ref[0](num_classes=C, margin=margin, alpha=alpha)
            rl, rce, rmix = m(raw, torch.tensor(labels), mixed, target_re, [lam])
            assert abs(rl.item() - loss) < 1e-6 and abs(rmix.item() - mix) < 1e-6, (name, rl, loss)
        out_cases["mrl"].append({
            "name": name, "classes": C, "labels": labels, "perm": perm, "lam": lam,
            "margin": margin, "alpha": alpha,
            "raw_logits": raw.flatten().tolist(), "mixed_logits": mixed.flatten().tolist(),
            "target_re": target_re.flatten().tolist(), "not_self_mix": mask, "hinge": hinge,
            "loss": loss, "loss_ce": ce, "loss_mixup": mix,
            "loss_mixup_masked_per_sample": per_sample,
        })
        print(f"{name}: loss {loss:.9f} ce {ce:.9f} mixup {mix:.9f} (per-sample mask {per_sample:.9f})")

    mndcg_specs = [
        # name, labels, perms, lams, alpha
        ("mndcg-3mix", [0, 1, 2, 3, 4, 0], [[1, 0, 3, 2, 5, 4], [2, 3, 4, 5, 0, 1], [5, 4, 3, 2, 1, 0]],
         [0.7, 0.35, 0.9], 0.1),
        ("mndcg-3mix-same-class", [0, 1, 1, 3], [[2, 3, 0, 1], [1, 2, 0, 3], [3, 2, 1, 0]],
         [0.55, 0.8, 0.25], 0.1),
        ("mndcg-2mix-alpha1", [4, 3, 2], [[1, 2, 0], [2, 0, 1]], [0.6, 0.95], 1.0),
    ]
    for name, labels, perms, lams, alpha in mndcg_specs:
        B, M = len(labels), len(lams)
        # Scale the raw logits up so the raw sample is usually the most confident (ndcg < 1 path)
        # and leave some rows where a mix is more confident (inverted path).
        raw = torch.randn(B, C, generator=gen) * 3.0
        mixed = torch.randn(M * B, C, generator=gen) * 2.0
        target_re = make_targets(labels, perms, lams, C)
        loss, ce, mix, ndcg = mndcg(raw, labels, mixed, target_re, M, alpha)
        if ref is not None:
            m = ref[1](num_classes=C, alpha=alpha)
            rl, rce, rmix = m(raw, torch.tensor(labels), mixed, target_re, lams)
            assert abs(rl.item() - loss) < 1e-6 and abs(rmix.item() - mix) < 1e-6, (name, rl, loss)
        out_cases["mndcg"].append({
            "name": name, "classes": C, "num_mix": M, "labels": labels, "perms": perms, "lams": lams,
            "alpha": alpha, "raw_logits": raw.flatten().tolist(), "mixed_logits": mixed.flatten().tolist(),
            "target_re": target_re.flatten().tolist(), "ndcg": ndcg,
            "loss": loss, "loss_ce": ce, "loss_mixup": mix,
        })
        print(f"{name}: loss {loss:.9f} ce {ce:.9f} mixup {mix:.9f} ndcg {[round(v, 6) for v in ndcg]}")

    out = os.path.join(ROOT, "crates", "mixlab-burn", "tests", "fixtures", "rankmixup.json")
    with open(out, "w") as f:
        json.dump({
            "reference": "cvlab-yonsei/RankMixup@e5dc77f4 calibrate/losses/rankmixup.py",
            "checked_against_reference": ref is not None,
            "layout": "raw_logits B x C; mixed_logits and target_re (M*B) x C, mix-major (row m*B+i); "
                      "inputs are float32 values; reference losses computed in float32 (MRL) / "
                      "float64 softmax (M-NDCG, here) -> compare with tolerance ~1e-5",
            **out_cases,
        }, f, indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()
