"""Golden fixture for mixlab's neural-collapse measures (crates/mixlab-core/src/collapse.rs).

Formulas as in the reference code, evaluated literally on dim×dim matrices in float64:
- Papyan, Han & Donoho (PNAS 2020) / Han et al. (ICLR 2022) analysis code (the NC colab, reproduced in
  many repos, e.g. its `analysis()`): muG = mean of the class means; Sb = M_ M_^T / C with
  M_ = M - muG; Sw = sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T / N; NC1 = tr(Sw Sb^+) / C (here with
  scipy.linalg.pinv, the "pinv" metric of rhubarbwu/neural-collapse@c05a0b80 measure.py
  `covariance_ratio`; the colab's rank-(C-1) `svds` inverse is cross-checked where C-1 <= dim);
  equinorm = torch.std(norms) / mean(norms) (unbiased std); equiangularity = the colab's
  `coherence(M_/norms)` = sum_{c!=c'} |cos + 1/(C-1)| / (C(C-1)).
- ETF distance: tding1/Neural-Collapse@04ef5860 validate_NC.py `compute_ETF` applied to the centred
  means: || G/||G||_F - (I - 11^T/C)/sqrt(C-1) ||_F with G = H^T H (= rhubarbwu `simplex_etf_error`).

Features are float32 (written to the fixture as exact decimals), everything else float64.
Needs numpy, scipy. Run from the repo root:
  python3 tools/golden/collapse.py  (writes crates/mixlab-core/tests/fixtures/collapse_golden.json)
"""
import json
import os

import numpy as np
import scipy.linalg as scilin
from scipy.sparse.linalg import svds

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def measures(H, y, C):
    H = H.astype(np.float64)
    N, D = H.shape
    M = np.stack([H[y == c].mean(0) for c in range(C)], axis=1)  # D x C
    muG = M.mean(1, keepdims=True)
    M_ = M - muG
    Sb = M_ @ M_.T / C
    R = H - M.T[y]
    Sw = R.T @ R / N
    nc1 = np.trace(Sw @ scilin.pinv(Sb)) / C
    nc1_svds = None
    if C - 1 < D:
        vec, val, _ = svds(Sb, k=C - 1)
        nc1_svds = np.trace(Sw @ (vec @ np.diag(val ** -1) @ vec.T)) / C
    norms = np.linalg.norm(M_, axis=0)
    equinorm = np.std(norms, ddof=1) / np.mean(norms)
    V = M_ / norms
    G = V.T @ V + np.ones((C, C)) / (C - 1)
    G -= np.diag(np.diag(G))
    equiangular = np.abs(G).sum() / (C * (C - 1))
    Hc = M_.T  # C x D, rows are centred class means
    W = Hc @ Hc.T
    W = W / np.linalg.norm(W, "fro")
    sub = (np.eye(C) - np.ones((C, C)) / C) / np.sqrt(C - 1)
    etf = np.linalg.norm(W - sub, "fro")
    return {
        "nc1": nc1, "nc1_svds": nc1_svds, "equinorm": equinorm, "equiangularity": equiangular,
        "etf_distance": etf, "within_trace": np.trace(Sw), "between_trace": np.trace(Sb),
    }


def main():
    rng = np.random.default_rng(20201006)
    cases = []

    def add(name, H, y, C):
        H = H.astype(np.float32)
        m = measures(H, y, C)
        if m["nc1_svds"] is not None:
            rel = abs(m["nc1_svds"] - m["nc1"]) / abs(m["nc1"])
            assert rel < 1e-9, f"{name}: pinv vs svds NC1 differ by {rel}"
        print(name, {k: v for k, v in m.items() if v is not None})
        cases.append({
            "name": name, "dim": int(H.shape[1]), "classes": C,
            "features": [float(v) for v in H.reshape(-1)],
            "labels": [int(v) for v in y],
            **{k: float(v) for k, v in m.items() if k != "nc1_svds"},
        })

    # 60 x 8, 4 balanced classes: random centres + unit noise.
    y = np.repeat(np.arange(4), 15)
    rng.shuffle(y)
    centres = rng.normal(0, 2.0, (4, 8))
    add("balanced-60x8-c4", centres[y] + rng.normal(0, 1.0, (60, 8)), y, 4)
    # Same size, imbalanced counts 9/21/12/18: Sb still rank C-1 (muG is the mean of class means).
    y = np.repeat(np.arange(4), [9, 21, 12, 18])
    rng.shuffle(y)
    add("imbalanced-60x8-c4", centres[y] + rng.normal(0, 1.0, (60, 8)), y, 4)
    # Nearly collapsed: tiny within-class spread, NC1 ~ 1e-5.
    y = np.repeat(np.arange(4), 15)
    add("near-collapse-60x8-c4", centres[y] + rng.normal(0, 0.01, (60, 8)), y, 4)
    # More classes than dimensions: Sb is full rank in 3-D, the pseudo-inverse is the inverse.
    y = np.repeat(np.arange(6), 10)
    rng.shuffle(y)
    add("dim3-c6", rng.normal(0, 2.0, (6, 3))[y] + rng.normal(0, 1.0, (60, 3)), y, 6)

    out = os.path.join(ROOT, "crates", "mixlab-core", "tests", "fixtures", "collapse_golden.json")
    with open(out, "w") as f:
        json.dump({"cases": cases}, f, indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()
