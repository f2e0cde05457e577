"""Golden fixture for Metrix's losses (ICLR'22, billpsomas/metrix) in mixlab-burn `metric_loss.rs`.

Reference numbers come from the real pytorch-metric-learning (pip `pytorch-metric-learning`, 2.x):
- `contrastive`: `ContrastiveLoss(pos_margin=0, neg_margin=m)` with `LpDistance()` (normalises rows, p=2,
  power=1) and its default `AvgNonZeroReducer`; checked against Metrix's `baseline_contrastive` path
  (all ordered pairs from `lmu.get_all_pairs_indices`, relu(d - 0) / relu(m - d), one AvgNonZeroReducer
  per term in a `MultipleReducers`, summed), re-expressed below with the library's own pieces.
- `contrastive_mixed`: Metrix's `loss_posneg_mixup` generalised to one lambda per mixed row:
  d_r = LpDistance(anchor_r, mixed_r) (the mixed row is normalised by the distance, as in the
  reference), pos = lam_r relu(d_r), neg = (1 - lam_r) relu(m - d_r), each reduced by the library's
  AvgNonZeroReducer (mean over entries > 0, 0 if none), summed.
- `multi_similarity`: Metrix's `baseline_multisimilarity`: `MultiSimilarityMiner(epsilon)` on
  `CosineSimilarity()`, masks from the mined pairs, `lmu.logsumexp(..., add_one=True)` per anchor,
  `torch.mean` over all anchors. PML's own `MultiSimilarityLoss` (same miner tuple) is recorded as
  `loss_pml` where it agrees; it returns 0 when every mined index list has length <= 1, Metrix's path
  does not, so the fixture's `loss` is the Metrix path.
- `ms_mixed`: the paper's mixed multi-similarity term (not the repo's `multisimilarity_*_loss`, which
  fills the wrong mask for negatives and adds 0.4-weighted clean terms): for mixed row m owned by anchor
  a = owner[m], s_m = cos(anchor_a, mixed_m); per anchor with mixes
  (1/alpha) log(1 + sum_m lam_m exp(-alpha (s_m - base))) + (1/beta) log(1 + sum_m (1 - lam_m)
  exp(beta (s_m - base))); mean over anchors with mixes. Computed in float64 by a plain loop.
Every case also stores the gradient of the loss with respect to each input (torch autograd, through the
library's normalisation and reducers), `grad_<input>`.

With the Metrix git mirror present (default /work/.mirror/billpsomas+metrix/repo, `--ref-git`), the
script also runs the reference `loss_posneg_mixup` (read with `git show`, executed in a scratch
namespace) and asserts it agrees with the contrastive_mixed numbers for a scalar lambda.

Run from the repo root: python3 tools/golden/metrix.py  (writes
crates/mixlab-burn/tests/fixtures/metrix.json). Needs numpy, torch, pytorch-metric-learning.
"""
import argparse
import json
import os
import subprocess

import numpy as np
import torch
from pytorch_metric_learning.distances import CosineSimilarity, LpDistance
from pytorch_metric_learning.losses import ContrastiveLoss, MultiSimilarityLoss
from pytorch_metric_learning.miners import MultiSimilarityMiner
from pytorch_metric_learning.reducers import AvgNonZeroReducer, MultipleReducers
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUNED = dict(alpha=17.97, beta=75.66, base=0.77, epsilon=0.39)
PAPER = dict(alpha=2.0, beta=50.0, base=0.5, epsilon=0.1)


def unit_rows(rng, b, d):
    x = rng.standard_normal((b, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def fl(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def contrastive_metrix_path(emb, labels, neg_margin):
    """baseline_contrastive's loss term, built from the library's distance, pairs and reducers."""
    mat = LpDistance()(emb)
    a1, p, a2, n = lmu.get_all_pairs_indices(labels)
    tup = (a1, p, a2, n)
    d = {}
    if len(a1) > 0:
        d["pos_loss"] = {"losses": torch.relu(mat[a1, p] - 0.0),
                         "indices": lmu.pos_pairs_from_tuple(tup), "reduction_type": "pos_pair"}
    if len(a2) > 0:
        d["neg_loss"] = {"losses": torch.relu(neg_margin - mat[a2, n]),
                         "indices": lmu.neg_pairs_from_tuple(tup), "reduction_type": "neg_pair"}
    reducer = MultipleReducers({k: AvgNonZeroReducer() for k in d})
    return float(reducer(d, emb, labels))


def contrastive_cases():
    out = []
    specs = [  # name, seed, b, d, classes, margin, labels override, spread
        ("random_b8_d4_c3", 0, 8, 4, 3, 0.5, None),
        ("random_b12_d8_c4", 1, 12, 8, 4, 0.5, None),
        ("random_b6_d3_c2_m1", 2, 6, 3, 2, 1.0, None),
        ("singleton_class", 3, 7, 5, 3, 0.5, [0, 0, 1, 1, 1, 0, 2]),
        ("no_nonzero_negatives", 4, 6, 3, 2, 0.05, None),
        ("all_distinct_labels", 5, 6, 4, 6, 0.5, list(range(6))),
    ]
    for name, seed, b, d, c, m, lab in specs:
        rng = np.random.default_rng(seed)
        emb = unit_rows(rng, b, d)
        labels = np.array(lab if lab is not None else rng.integers(0, c, b))
        if name == "no_nonzero_negatives":
            # Two tight clusters on opposite poles: negative distances ~2 > margin.
            emb = np.zeros((b, d), np.float32)
            emb[:, 0] = np.where(labels == 0, 1.0, -1.0)
            emb[:, 1:] = 0.05 * rng.standard_normal((b, d - 1))
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        e, y = torch.from_numpy(emb).requires_grad_(True), torch.from_numpy(labels).long()
        lib_t = ContrastiveLoss(pos_margin=0.0, neg_margin=m, distance=LpDistance())(e, y)
        lib_t.backward()
        lib = float(lib_t.detach())
        path = contrastive_metrix_path(e.detach(), y, m)
        assert abs(lib - path) <= 1e-6 * max(1.0, abs(lib)), (name, lib, path)
        out.append(dict(name=name, emb=fl(emb), dim=d, labels=labels.tolist(), neg_margin=m,
                        loss=lib, grad_emb=fl(e.grad)))
    return out


def contrastive_mixed_value(anchor, mixed, lam, neg_margin):
    dist = LpDistance()(anchor, mixed).diagonal()
    lam = torch.as_tensor(lam, dtype=dist.dtype)
    idx = torch.arange(len(dist))
    pos = {"pos_loss": {"losses": lam * torch.relu(dist), "indices": (idx, idx),
                        "reduction_type": "pos_pair"}}
    neg = {"neg_loss": {"losses": (1 - lam) * torch.relu(neg_margin - dist), "indices": (idx, idx),
                        "reduction_type": "neg_pair"}}
    rp = MultipleReducers({"pos_loss": AvgNonZeroReducer()})
    rn = MultipleReducers({"neg_loss": AvgNonZeroReducer()})
    return rp(pos, anchor, None) + rn(neg, anchor, None)


def contrastive_mixed_cases(ref_ns):
    out = []
    specs = [  # name, seed, b, d, classes, lam kind, margin
        ("lam_beta_b8_d4", 10, 8, 4, 3, "beta", 0.5),
        ("lam_half_b10_d6", 11, 10, 6, 4, "half", 0.5),
        ("lam_near_edges_b6_d3", 12, 6, 3, 2, "edges", 0.5),
        ("lam_beta_b12_d8_m08", 13, 12, 8, 3, "beta", 0.8),
        ("no_nonzero_negatives", 14, 6, 4, 2, "beta", 0.01),
    ]
    for name, seed, b, d, c, kind, m in specs:
        rng = np.random.default_rng(seed)
        emb = unit_rows(rng, b, d)
        labels = rng.integers(0, c, b)
        labels[:2] = [0, 1]
        a1, p, a2, n = [t.numpy() for t in lmu.get_all_pairs_indices(torch.from_numpy(labels))]
        # One mix per anchor row: anchor i, a positive and a negative of i (Metrix's triplet layout).
        rows = []
        for i in range(b):
            ps, ns = p[a1 == i], n[a2 == i]
            if len(ps) and len(ns):
                rows.append((i, ps[rng.integers(len(ps))], ns[rng.integers(len(ns))]))
        ai, pi, ni = (np.array(v) for v in zip(*rows))
        r = len(rows)
        lam = {"beta": rng.beta(2.0, 2.0, r), "half": np.full(r, 0.5),
               "edges": np.where(np.arange(r) % 2 == 0, 0.01, 0.99)}[kind].astype(np.float32)
        anchor = emb[ai]
        mixed = (lam[:, None] * emb[pi] + (1 - lam[:, None]) * emb[ni]).astype(np.float32)
        ta = torch.from_numpy(anchor).requires_grad_(True)
        tm = torch.from_numpy(mixed).requires_grad_(True)
        val_t = contrastive_mixed_value(ta, tm, torch.from_numpy(lam), m)
        val_t.backward()
        val = float(val_t.detach())
        if ref_ns is not None and kind == "half" and m == 0.5:
            ref = reference_posneg(ref_ns, ta.detach(), tm.detach(), ai, pi, ni, labels, 0.5)
            assert abs(ref - val) <= 1e-6 * max(1.0, abs(val)), (name, ref, val)
        out.append(dict(name=name, anchor=fl(anchor), mixed=fl(mixed), dim=d, lam=fl(lam),
                        neg_margin=m, loss=val, grad_anchor=fl(ta.grad), grad_mixed=fl(tm.grad)))
    return out


def reference_posneg(ns, anchor, mixed, ai, pi, ni, labels, lam):
    """Metrix's own loss_posneg_mixup + reducers on a scalar lambda (its margin is fixed at 0.5)."""
    sim_mix = LpDistance()(anchor, mixed)
    y = torch.from_numpy(labels).long()
    pos_d, neg_d = ns["loss_posneg_mixup"](sim_mix, torch.from_numpy(pi), torch.from_numpy(ai),
                                           torch.from_numpy(ni), lam)
    rp = MultipleReducers({"pos_loss": AvgNonZeroReducer()})
    rn = MultipleReducers({"neg_loss": AvgNonZeroReducer()})
    return float(rp(pos_d, sim_mix, y[pi]) + rn(neg_d, sim_mix, y[ni]))


def ms_metrix_path(emb, labels, prm):
    """baseline_multisimilarity's loss term with the library's miner, distance and logsumexp."""
    dist = CosineSimilarity()
    miner = MultiSimilarityMiner(epsilon=prm["epsilon"])
    mat = dist(emb)
    a1, p, a2, n = miner(emb, labels)
    pos_mask, neg_mask = torch.zeros_like(mat), torch.zeros_like(mat)
    pos_mask[a1, p] = 1
    neg_mask[a2, n] = 1
    pos = (1.0 / prm["alpha"]) * lmu.logsumexp(prm["alpha"] * dist.margin(mat, prm["base"]),
                                               keep_mask=pos_mask.bool(), add_one=True)
    neg = (1.0 / prm["beta"]) * lmu.logsumexp(prm["beta"] * dist.margin(prm["base"], mat),
                                              keep_mask=neg_mask.bool(), add_one=True)
    loss = torch.mean(pos + neg)
    pml = float(MultiSimilarityLoss(prm["alpha"], prm["beta"], prm["base"])(
        emb.detach(), labels, (a1, p, a2, n)))
    return loss, pml, int(len(a1)), int(len(a2))


def ms_cases():
    out = []
    specs = [  # name, seed, b, d, classes, params, labels override, cluster scale
        ("tuned_b8_d4_c3", 20, 8, 4, 3, TUNED, None, 0.0),
        ("tuned_b12_d8_c4", 21, 12, 8, 4, TUNED, None, 0.0),
        ("paper_b10_d6_c3", 22, 10, 6, 3, PAPER, None, 0.0),
        ("paper_b6_d3_c2", 23, 6, 3, 2, PAPER, None, 0.0),
        ("tuned_clustered_b12_d5", 24, 12, 5, 3, TUNED, None, 1.5),
        ("paper_singleton_class", 25, 9, 4, 3, PAPER, [0, 0, 0, 1, 1, 1, 1, 2, 0], 0.0),
        ("tuned_singleton_class", 26, 9, 4, 3, TUNED, [2, 0, 0, 1, 1, 1, 0, 0, 1], 0.8),
        ("paper_all_distinct", 27, 6, 4, 6, PAPER, list(range(6)), 0.0),
    ]
    for name, seed, b, d, c, prm, lab, scale in specs:
        rng = np.random.default_rng(seed)
        labels = np.array(lab if lab is not None else rng.integers(0, c, b))
        x = rng.standard_normal((b, d)).astype(np.float32)
        if scale > 0:
            centres = rng.standard_normal((labels.max() + 1, d)).astype(np.float32)
            x = x + scale * centres[labels]
        emb = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
        e = torch.from_numpy(emb).requires_grad_(True)
        loss_t, pml, npos, nneg = ms_metrix_path(e, torch.from_numpy(labels).long(), prm)
        loss_t.backward()
        loss = float(loss_t.detach())
        if npos > 1 or nneg > 1:
            assert abs(loss - pml) <= 1e-5 * max(1.0, abs(loss)), (name, loss, pml)
        out.append(dict(name=name, emb=fl(emb), dim=d, labels=labels.tolist(), params=prm,
                        mined_pos=npos, mined_neg=nneg, loss=loss, loss_pml=pml,
                        grad_emb=fl(e.grad)))
    return out


def ms_mixed_value(anchors, mixed, owner, lam, prm):
    """float64 autograd version of the paper's term; a plain loop over owning anchors."""
    a = anchors / anchors.norm(dim=1, keepdim=True)
    m = mixed / mixed.norm(dim=1, keepdim=True)
    per = []
    for k in sorted(set(owner.tolist())):
        rows = torch.from_numpy(np.where(owner == k)[0])
        s = m[rows] @ a[k]
        lp = torch.sum(lam[rows] * torch.exp(-prm["alpha"] * (s - prm["base"])))
        ln = torch.sum((1 - lam[rows]) * torch.exp(prm["beta"] * (s - prm["base"])))
        per.append(torch.log1p(lp) / prm["alpha"] + torch.log1p(ln) / prm["beta"])
    return torch.stack(per).mean()


def ms_mixed_cases():
    out = []
    specs = [  # name, seed, anchors, mixes, d, params, lam kind
        ("tuned_beta", 30, 6, 14, 4, TUNED, "beta"),
        ("paper_beta", 31, 8, 20, 6, PAPER, "beta"),
        ("tuned_half", 32, 5, 9, 3, TUNED, "half"),
        ("paper_edges", 33, 7, 12, 8, PAPER, "edges"),
        ("tuned_exact_0_1", 34, 6, 10, 5, TUNED, "exact"),
    ]
    for name, seed, na, nm, d, prm, kind in specs:
        rng = np.random.default_rng(seed)
        anchors = unit_rows(rng, na, d)
        owner = rng.integers(0, na - 1, nm)  # the last anchor never owns a mix
        pos = unit_rows(rng, nm, d)
        neg = unit_rows(rng, nm, d)
        # Pull the "positive" towards its owner so similarities straddle base.
        pos = pos + 1.5 * anchors[owner]
        pos /= np.linalg.norm(pos, axis=1, keepdims=True)
        lam = {"beta": rng.beta(2.0, 2.0, nm), "half": np.full(nm, 0.5),
               "edges": np.where(np.arange(nm) % 2 == 0, 0.005, 0.995),
               "exact": np.where(np.arange(nm) % 3 == 0, 0.0,
                                 np.where(np.arange(nm) % 3 == 1, 1.0, 0.3))}[kind]
        lam = lam.astype(np.float32)
        mixed = (lam[:, None] * pos + (1 - lam[:, None]) * neg).astype(np.float32)
        ta = torch.from_numpy(anchors).double().requires_grad_(True)
        tm = torch.from_numpy(mixed).double().requires_grad_(True)
        val_t = ms_mixed_value(ta, tm, owner, torch.from_numpy(lam).double(), prm)
        val_t.backward()
        out.append(dict(name=name, anchors=fl(anchors), mixed=fl(mixed), dim=d,
                        owner=owner.tolist(), lam=fl(lam), params=prm, loss=float(val_t.detach()),
                        grad_anchors=fl(ta.grad), grad_mixed=fl(tm.grad)))
    return out


def load_reference(git_dir):
    if not git_dir or not os.path.isdir(git_dir):
        return None
    src = subprocess.run(["git", "-C", git_dir, "show", "HEAD:mixup/losses.py"], check=True,
                         capture_output=True, text=True).stdout
    ns = {}
    exec(compile(src, "metrix/mixup/losses.py", "exec"), ns)
    return ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", default="/work/.mirror/billpsomas+metrix/repo")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float32)
    ref = load_reference(args.ref_git)
    fx = dict(
        source="tools/golden/metrix.py (pytorch-metric-learning "
               + __import__("pytorch_metric_learning").__version__ + ")",
        contrastive=contrastive_cases(),
        contrastive_mixed=contrastive_mixed_cases(ref),
        multi_similarity=ms_cases(),
        ms_mixed=ms_mixed_cases(),
    )
    path = os.path.join(ROOT, "crates/mixlab-burn/tests/fixtures/metrix.json")
    with open(path, "w") as f:
        json.dump(fx, f, indent=1)
    for k in ("contrastive", "contrastive_mixed", "multi_similarity", "ms_mixed"):
        print(k, [(c["name"], round(c["loss"], 6)) for c in fx[k]])
    print("reference loss_posneg_mixup checked:", ref is not None)


if __name__ == "__main__":
    main()
