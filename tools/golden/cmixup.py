"""Golden fixture for mixlab's C-Mixup sampler (crates/mixlab-core/src/cmixup.rs).

Reference: huaxiuyao/C-Mixup @ 0b88fb314075dbb2bebf4c6041a8116fb7604762, src/algorithm.py,
`get_mixup_sample_rate` (mixtype 'kde'): the labels go through `torch.tensor(..., float32)`, then for
every training example i it fits `sklearn.neighbors.KernelDensity(kernel='gaussian',
bandwidth=kde_bandwidth)` on the single label y_i (reshaped to 1×d), scores ALL labels (i included),
exponentiates and normalises the row. Partners are drawn from the whole training set with
`np.random.choice(N, p=row)`. This script calls scikit-learn exactly like that (it is the reference
path, not a re-derivation) and cross-checks the closed form exp(-|y_i-y_j|^2/(2 s^2)) / row sum.

Data: the first 50 rows of crates/mixlab-data/data/airfoil_self_noise.dat (UCI Airfoil Self-Noise, column 6 = scaled
sound pressure in dB, unnormalised as in the reference's src/data/airfoil.py), s = 1.75 (the README's
Airfoil bandwidth). A second, 2-D case uses columns (4, 6) of the first 20 rows with s = 2.5 to pin
the Euclidean treatment of vector labels.

Needs: numpy, scikit-learn. Run from the repo root:
  python3 tools/golden/cmixup.py   (writes crates/mixlab-core/tests/fixtures/cmixup_golden.json)
"""
import json
import os

import numpy as np
from sklearn.neighbors import KernelDensity

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def reference_rates(y, bandwidth):
    """The reference's loop, verbatim in behaviour (float32 labels, one KDE per row)."""
    data = np.asarray(y, dtype=np.float32)
    rows = []
    for i in range(len(data)):
        data_i = data[i].reshape(-1, data[i].shape[0])
        kd = KernelDensity(kernel="gaussian", bandwidth=bandwidth).fit(data_i)
        rate = np.exp(kd.score_samples(data))
        rate /= np.sum(rate)
        rows.append(rate)
    return np.array(rows)


def closed_form(y, bandwidth):
    d = np.asarray(y, dtype=np.float32).astype(np.float64)
    sq = ((d[:, None, :] - d[None, :, :]) ** 2).sum(-1)
    w = np.exp(-sq / (2 * bandwidth ** 2))
    return w / w.sum(1, keepdims=True)


def main():
    table = np.loadtxt(os.path.join(ROOT, "crates", "mixlab-data", "data", "airfoil_self_noise.dat"))
    cases = []
    for name, cols, rows, bw in [("airfoil-spl", [5], 50, 1.75), ("airfoil-2d", [3, 5], 20, 2.5)]:
        y = table[:rows, cols].astype(np.float32)
        ref = reference_rates(y, bw)
        cf = closed_form(y, bw)
        err = np.abs(ref - cf).max()
        assert err < 1e-12, f"{name}: sklearn vs closed form differ by {err}"
        cases.append({
            "name": name,
            "bandwidth": bw,
            "target_len": len(cols),
            "targets": [float(v) for v in y.reshape(-1)],
            "rates": [[float(v) for v in r] for r in ref],
        })
        print(f"{name}: {rows} rows, self-rate mean {np.mean(np.diag(ref)):.4f}, sklearn vs closed form {err:.1e}")
    out = os.path.join(ROOT, "crates", "mixlab-core", "tests", "fixtures", "cmixup_golden.json")
    with open(out, "w") as f:
        json.dump({
            "reference": "huaxiuyao/C-Mixup@0b88fb31 src/algorithm.py get_mixup_sample_rate (sklearn KernelDensity)",
            "cases": cases,
        }, f, indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()
