"""Golden numbers for SupReMix's loss (crates/mixlab-burn/src/supcr.rs).

SupReMix ("Mixup Your Own Pairs", Wu et al. 2023) has no public code (its repository says "Coming Soon"), so
this is the paper's loss written independently of the Rust code, with explicit loops over anchors and
candidates: SupCon on unit embeddings where, for anchor i, the candidates are every other batch row plus the
anchor's own mixtures (renormalised lam*z_a + (1-lam)*z_b); positives are batch rows with |y_j - y_i| <= tol and
the anchor's hard-positive mixtures. Loss = mean over anchors with a positive of
-(1/|P_i|) sum_p log(exp(s_ip/tau) / sum_{c in A_i} exp(s_ic/tau)).

Run: python3 tools/golden/supremix.py  (writes crates/mixlab-burn/tests/fixtures/supremix.json)
"""
import json
import math
import pathlib

import numpy as np


def unit(v):
    return v / np.linalg.norm(v)


def loss(z, y, mixes, tol, tau):
    z = np.array([unit(r) for r in z], dtype=np.float64)
    b = len(y)
    total, rows = 0.0, 0
    for i in range(b):
        cand = []  # (similarity, positive?)
        for j in range(b):
            if j != i:
                cand.append((float(z[i] @ z[j]), abs(y[j] - y[i]) <= tol))
        for m in mixes:
            if m["owner"] == i:
                v = unit(m["lam"] * z[m["a"]] + (1 - m["lam"]) * z[m["b"]])
                cand.append((float(z[i] @ v), m["positive"]))
        pos = [s for s, p in cand if p]
        if not pos or not cand:
            continue
        denom = sum(math.exp(s / tau) for s, _ in cand)
        total += -sum(s / tau - math.log(denom) for s in pos) / len(pos)
        rows += 1
    return total / rows if rows else 0.0


def main():
    rng = np.random.default_rng(20261128)
    cases = []
    for case in range(6):
        b = int(rng.integers(4, 10))
        d = int(rng.integers(2, 7))
        z = rng.normal(size=(b, d))
        y = np.round(rng.normal(size=b) * 2, 1)
        if case in (1, 4):
            y[1] = y[0]  # an exact tie: a real positive
        # Tolerances off the 0.1 grid of the targets, so no difference sits on the boundary.
        tol = [0.0, 0.0, 0.305, 1.005, 0.0, 0.505][case]
        tau = [0.1, 0.5, 0.07, 1.0, 0.2, 0.1][case]
        mixes = []
        if case != 4:  # case 4: no mixtures at all (plain supervised contrastive regression)
            for i in range(b):
                below = [j for j in range(b) if y[j] < y[i] - tol]
                above = [j for j in range(b) if y[j] > y[i] + tol]
                if below and above:
                    j, k = int(rng.choice(below)), int(rng.choice(above))
                    mixes.append({"owner": i, "a": j, "b": k, "lam": float((y[k] - y[i]) / (y[k] - y[j])), "positive": True})
                neg = below + above
                if neg:
                    j = int(rng.choice(neg))
                    lam = float(rng.uniform(0.5, 1.0))
                    mixes.append({"owner": i, "a": i, "b": j, "lam": lam, "positive": False})
        cases.append({
            "z": z.astype(np.float32).tolist(),
            "y": y.astype(np.float32).tolist(),
            "mixes": mixes,
            "tolerance": tol,
            "temperature": tau,
            "loss": loss(z.astype(np.float32).astype(np.float64), y.astype(np.float32), 
                         [dict(m, lam=float(np.float32(m["lam"]))) for m in mixes], tol, tau),
        })
    out = pathlib.Path(__file__).resolve().parents[2] / "crates/mixlab-burn/tests/fixtures/supremix.json"
    out.write_text(json.dumps({"source": "tools/golden/supremix.py", "cases": cases}, indent=1))
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
