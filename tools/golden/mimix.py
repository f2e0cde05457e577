"""Golden fixture for DNABERT-S's contrastive losses (MAGICS-LAB/DNABERT_S) in mixlab-burn `metric_loss.rs`.

Reference: train/pretrain/utils/contrastive_utils.py, `HardConLoss` (stage I, with pairsimi all ones, as
training.py passes it) and `iMIXConLoss` (MI-Mix: view-1 hidden states mixed with per-sample lambda and a
random permutation `mix_rand_list`, bert_layers.py). Independent re-implementations in float64 torch:
- hard: rows r of [f1; f2] (2B), pos_r = exp(f1_i.f2_i / t) for both copies of pair i, negatives the
  2B-2 entries exp(s/t) of row r excluding itself and its pair; Ng = sum(neg * neg) / mean(neg) (the
  reference's `negimp = neg.log().exp()` is neg itself); loss = mean_r -log(pos_r / (Ng_r + pos_r)).
- imix: S = f1 f2^T / t (B x B), negatives the off-diagonal entries of row i (B-1), Ng as above,
  pos_i = exp(S_ii), pos_rand_i = exp(f1_i.f2_partner(i) / t);
  loss = -mean_i [lam_i log(pos_i / (Ng_i + pos_i)) + (1 - lam_i) log(pos_rand_i / (Ng_i + pos_i))].
With the DNABERT-S git mirror present (default /work/.mirror/MAGICS-LAB+DNABERT_S/repo, `--ref-git`),
the reference classes are read with `git show`, executed in a scratch namespace (float64 inputs) and
asserted to agree. Each case also stores the float64 autograd gradients of both losses with respect to
f1 and f2 (`hard_grad_f1`, ...).

Run from the repo root: python3 tools/golden/mimix.py  (writes
crates/mixlab-burn/tests/fixtures/mimix.json). Needs numpy, torch.
"""
import argparse
import json
import os
import subprocess

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def unit_rows(rng, b, d):
    x = rng.standard_normal((b, d)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def fl(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def ng(neg):
    return (neg * neg).sum(dim=1) / neg.mean(dim=1)


def hard_value(f1, f2, t):
    b = len(f1)
    f = torch.cat([f1, f2])
    s = f @ f.T / t
    pos = torch.exp(torch.sum(f1 * f2, dim=1) / t)
    pos = torch.cat([pos, pos])
    keep = ~torch.eye(b, dtype=torch.bool).repeat(2, 2)
    neg = torch.exp(s)[keep].reshape(2 * b, 2 * b - 2)
    return torch.mean(-torch.log(pos / (ng(neg) + pos)))


def imix_value(f1, f2, partner, lam, t):
    b = len(f1)
    s = f1 @ f2.T / t
    pos = torch.exp(torch.diagonal(s))
    pos_rand = torch.exp(s[torch.arange(b), torch.from_numpy(partner)])
    neg = torch.exp(s)[~torch.eye(b, dtype=torch.bool)].reshape(b, b - 1)
    g = ng(neg)
    out = lam * torch.log(pos / (g + pos)) + (1 - lam) * torch.log(pos_rand / (g + pos))
    return -torch.mean(out)


def value_and_grads(fn, f1, f2, *rest):
    a = torch.from_numpy(f1).double().requires_grad_(True)
    b = torch.from_numpy(f2).double().requires_grad_(True)
    v = fn(a, b, *rest)
    v.backward()
    return float(v.detach()), fl(a.grad), fl(b.grad)


def load_reference(git_dir):
    if not git_dir or not os.path.isdir(git_dir):
        return None
    src = subprocess.run(["git", "-C", git_dir, "show",
                          "HEAD:train/pretrain/utils/contrastive_utils.py"],
                         check=True, capture_output=True, text=True).stdout
    ns = {}
    exec(compile(src, "dnabert_s/contrastive_utils.py", "exec"), ns)
    return ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", default="/work/.mirror/MAGICS-LAB+DNABERT_S/repo")
    args = ap.parse_args()
    ref = load_reference(args.ref_git)
    specs = [  # name, seed, b, d, temperature, lambda kind, partner kind
        ("t005_beta_b8_d4", 40, 8, 4, 0.05, "beta", "perm"),
        ("t005_half_b12_d8", 41, 12, 8, 0.05, "half", "perm"),
        ("t05_edges_b6_d3", 42, 6, 3, 0.5, "edges", "perm"),
        ("t01_beta_self_partners_b10_d6", 43, 10, 6, 0.1, "beta", "some_self"),
        ("t005_close_views_b9_d5", 44, 9, 5, 0.05, "beta", "perm"),
    ]
    cases = []
    for name, seed, b, d, t, lk, pk in specs:
        rng = np.random.default_rng(seed)
        f2 = unit_rows(rng, b, d)
        if "close_views" in name:
            # Views close to each other, the regime a trained encoder reaches.
            f1 = f2 + 0.1 * rng.standard_normal((b, d)).astype(np.float32)
            f1 = (f1 / np.linalg.norm(f1, axis=1, keepdims=True)).astype(np.float32)
        else:
            f1 = unit_rows(rng, b, d)
        partner = rng.permutation(b)
        if pk == "some_self":
            partner[:3] = [0, 1, 2]
        lam = {"beta": rng.beta(1.0, 1.0, b), "half": np.full(b, 0.5),
               "edges": np.where(np.arange(b) % 2 == 0, 0.002, 0.998)}[lk].astype(np.float32)
        hard, hg1, hg2 = value_and_grads(hard_value, f1, f2, t)
        imix, ig1, ig2 = value_and_grads(imix_value, f1, f2, partner,
                                         torch.from_numpy(lam).double(), t)
        if ref is not None:
            t1, t2 = torch.from_numpy(f1).double(), torch.from_numpy(f2).double()
            r_hard = float(ref["HardConLoss"](temperature=t)(t1, t2, torch.ones(b, dtype=torch.float64))
                           ["instdisc_loss"])
            r_imix = float(ref["iMIXConLoss"](temperature=t)(t1, t2, torch.from_numpy(partner),
                                                             torch.from_numpy(lam).double())
                           ["instdisc_loss"])
            assert abs(r_hard - hard) <= 1e-9 * max(1.0, abs(hard)), (name, r_hard, hard)
            assert abs(r_imix - imix) <= 1e-9 * max(1.0, abs(imix)), (name, r_imix, imix)
        cases.append(dict(name=name, f1=fl(f1), f2=fl(f2), dim=d, temperature=t,
                          partner=partner.tolist(), lam=fl(lam), hard=hard, imix=imix,
                          hard_grad_f1=hg1, hard_grad_f2=hg2, imix_grad_f1=ig1, imix_grad_f2=ig2))
    path = os.path.join(ROOT, "crates/mixlab-burn/tests/fixtures/mimix.json")
    with open(path, "w") as f:
        json.dump(dict(source="tools/golden/mimix.py", cases=cases), f, indent=1)
    for c in cases:
        print(c["name"], round(c["hard"], 6), round(c["imix"], 6))
    print("reference classes checked:", ref is not None)


if __name__ == "__main__":
    main()
