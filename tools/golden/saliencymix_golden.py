"""Golden fixtures for mixlab's spectral-residual saliency (crates/mixlab-core/src/methods/saliencymix.rs).

An independent numpy implementation of the map as specified in saliencymix.rs (Hou & Zhang, CVPR'07:
https://doi.org/10.1109/CVPR.2007.383267): grey = channel mean; F = fftn(grey);
L = log(|F| + 1e-12 max|F|); R = L - box3(L) (3-tap mean per axis, circular); S = |ifftn(exp(R) e^{i arg F})|^2;
Gaussian blur sigma 2.5 truncated at ceil(3 sigma), normalised taps, circular. The map is min-max scaled.
Not reference code (OpenMixup uses OpenCV's fine-grained saliency); this checks mixlab's FFT, filters
and layout against numpy for 1-D, 2-D (H != W) and 3-D samples.

Run: python3 tools/golden/saliencymix_golden.py  (writes crates/mixlab-core/tests/fixtures/saliencymix_golden.json)
"""
import json
import os

import numpy as np


def circular_filter(x, taps):
    r = len(taps) // 2
    for ax in range(x.ndim):
        if x.shape[ax] <= 1:
            continue
        x = sum(t * np.roll(x, r - k, axis=ax) for k, t in enumerate(taps))
    return x


def saliency(data, channels, spatial):
    grey = data.reshape(channels, *spatial).astype(np.float64).mean(axis=0)
    f = np.fft.fftn(grey)
    amp = np.abs(f)
    log_amp = np.log(amp + amp.max() * 1e-12 + np.finfo(np.float64).tiny)
    resid = log_amp - circular_filter(log_amp, [1 / 3, 1 / 3, 1 / 3])
    s = np.abs(np.fft.ifftn(np.exp(resid) * np.exp(1j * np.angle(f)))) ** 2
    sigma = 2.5
    r = int(np.ceil(3 * sigma))
    taps = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma ** 2))
    s = circular_filter(s, taps / taps.sum())
    return s


def enc(values):
    return " ".join(repr(float(v)) for v in values)


def case(channels, spatial, seed):
    rng = np.random.default_rng(seed)
    grid = np.indices(spatial)
    centre = [rng.integers(3, n - 3) for n in spatial]
    r2 = sum((g - c) ** 2 for g, c in zip(grid, centre))
    base = 0.3 + 0.8 * np.exp(-r2 / 6.0)
    data = (base[None] + 0.15 * rng.standard_normal((channels, *spatial))).astype(np.float32)
    s = saliency(data, channels, spatial)
    peak = [int(v) for v in np.unravel_index(int(np.argmax(s)), s.shape)]
    norm = (s - s.min()) / (s.max() - s.min())
    return {"channels": channels, "spatial": list(spatial), "data": enc(data.reshape(-1)),
            "map": enc(norm.reshape(-1)), "peak": peak, "blob": [int(c) for c in centre]}


def main():
    cases = [case(3, (16, 20), 1), case(1, (21, 13), 2), case(2, (50,), 3), case(1, (8, 9, 12), 4)]
    root = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(root, "..", "..", "crates", "mixlab-core", "tests", "fixtures", "saliencymix_golden.json")
    with open(path, "w") as f:
        json.dump({"source": "tools/golden/saliencymix_golden.py", "numpy": np.__version__, "cases": cases},
                  f, separators=(",", ":"))
    for c in cases:
        print(c["spatial"], "peak", c["peak"], "blob", c["blob"])
    print(os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
