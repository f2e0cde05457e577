"""Golden fixtures for mixlab's FMix (crates/mixlab-core/src/methods/fmix.rs).

The four functions below are a faithful local copy of the reference FMix code,
https://github.com/ecs-vlc/FMix/blob/master/fmix.py (`fftfreqnd`, `get_spectrum`,
`make_low_freq_image`, `binarise_mask`), kept here ONLY to generate test fixtures;
tools/ is not shipped code. Quirks are kept on purpose (odd last-dim frequency count,
3-D broadcasting, the real `reshape` of the spectrum, numpy `irfftn` on a real array),
because the Rust code must reproduce them.

Each case records the Gaussian `param` array (C order, shape [1, *freqs.shape, 2]) that
the reference drew, the low-frequency image, lambda, the ceil/floor coin and the binarised
mask. Where the reference raises (3-D shapes whose reshape is illegal), the error is
recorded, together with the output of mixlab's documented extension (rows of
floor(len / (D0*D1)) values of the flat spectrum), computed with numpy for parity.

Float arrays are stored as space-separated reprs (see `enc`).

The published master (e5991dc) builds a complex spectrum instead (`spectrum[:, 0] + 1j*spectrum[:, 1]`,
real part of `irfftn`); its cases ("spectrum": "complex") are produced by importing master's own
`fmix.py` from a checkout of the reference, not from a copy. The copy below is the earlier version
("spectrum": "real-reshape", commits 247adc5 / d5e2aef), which never reached master.

Run: python3 tools/golden/fmix_golden.py --ref-git DIR
     (DIR: a git checkout or bare mirror of github.com/ecs-vlc/FMix holding commit e5991dc;
      writes crates/mixlab-core/tests/fixtures/fmix_golden.json)
"""
import argparse
import importlib.util
import subprocess
import sys
import tempfile
import json
import math
import os
import random
import warnings

import numpy as np

# numpy 2 warns that `irfftn(a, s)` without `axes` will change meaning; the reference relies on the
# current meaning (the last len(s) axes), which is what the fixtures record.
warnings.filterwarnings("ignore", category=DeprecationWarning)


# ---- reference copy (ecs-vlc/FMix fmix.py), for fixtures only ----
def fftfreqnd(h, w=None, z=None):
    fz = fx = 0
    fy = np.fft.fftfreq(h)
    if w is not None:
        fy = np.expand_dims(fy, -1)
        if w % 2 == 1:
            fx = np.fft.fftfreq(w)[: w // 2 + 2]
        else:
            fx = np.fft.fftfreq(w)[: w // 2 + 1]
    if z is not None:
        fy = np.expand_dims(fy, -1)
        if z % 2 == 1:
            fz = np.fft.fftfreq(z)[:, None]
        else:
            fz = np.fft.fftfreq(z)[:, None]
    return np.sqrt(fx * fx + fy * fy + fz * fz)


def get_spectrum(freqs, decay_power, ch, h, w=0, z=0):
    scale = np.ones(1) / (np.maximum(freqs, np.array([1. / max(w, h, z)])) ** decay_power)
    param_size = [ch] + list(freqs.shape) + [2]
    param = np.random.randn(*param_size)
    scale = np.expand_dims(scale, -1)[None, :]
    return scale * param


def make_low_freq_image(decay, shape, ch=1):
    freqs = fftfreqnd(*shape)
    spectrum = get_spectrum(freqs, decay, ch, *shape)
    mask = np.fft.irfftn(spectrum.reshape(1, *shape[:-1], -1), shape)
    if len(shape) == 1:
        mask = mask[:1, :shape[0]]
    if len(shape) == 2:
        mask = mask[:1, :shape[0], :shape[1]]
    if len(shape) == 3:
        mask = mask[:1, :shape[0], :shape[1], :shape[2]]
    mask = (mask - mask.min())
    mask = mask / mask.max()
    return mask


def binarise_mask(mask, lam, in_shape, max_soft=0.0):
    idx = mask.reshape(-1).argsort()[::-1]
    mask = mask.reshape(-1)
    num = math.ceil(lam * mask.size) if random.random() > 0.5 else math.floor(lam * mask.size)
    eff_soft = max_soft
    if max_soft > lam or max_soft > (1 - lam):
        eff_soft = min(lam, 1 - lam)
    soft = int(mask.size * eff_soft)
    num_low = num - soft
    num_high = num + soft
    mask[idx[:num_high]] = 1
    mask[idx[num_low:]] = 0
    mask[idx[num_low:num_high]] = np.linspace(1, 0, (num_high - num_low))
    mask = mask.reshape((1, *in_shape))
    return mask
# ---- end of reference copy ----


def extension_image(decay, shape, param):
    """mixlab's extension where the reference reshape is illegal (3-D): same steps, rows of
    floor(len / prod(shape[:-1])) values of the flat spectrum."""
    freqs = fftfreqnd(*shape)
    scale = np.ones(1) / (np.maximum(freqs, np.array([1. / max(shape)])) ** decay)
    spectrum = (np.expand_dims(scale, -1)[None, :] * param).reshape(-1)
    lead = int(np.prod(shape[:-1]))
    row = spectrum.size // lead
    mask = np.fft.irfftn(spectrum[: lead * row].reshape(1, *shape[:-1], row), shape)
    mask = mask - mask.min()
    return mask / mask.max()


def enc(values):
    """Floats as one space-separated string of shortest round-trip reprs: the Rust test parses them
    with `str::parse::<f64>`, which is exact (serde_json's default float parsing can be 1 ulp off)."""
    return " ".join(repr(float(v)) for v in values)


MASTER_COMMIT = "e5991dca"


def load_master(ref_git):
    """Master's fmix.py, imported from the reference repository at MASTER_COMMIT."""
    src = subprocess.run(["git", "-C", ref_git, "show", f"{MASTER_COMMIT}:fmix.py"], check=True,
                         capture_output=True, text=True).stdout
    path = os.path.join(tempfile.mkdtemp(), "fmix_master.py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location("fmix_master", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def master_case(fm, shape, decay, seed, max_soft):
    """One master case: the reference's own make_low_freq_image and binarise_mask."""
    np.random.seed(seed)
    random.seed(seed)
    shape = tuple(shape)
    lam = float(np.random.beta(1.0, 1.0))
    param_shape = [1] + list(fm.fftfreqnd(*shape).shape) + [2]
    state = np.random.get_state()
    img = fm.make_low_freq_image(decay, shape)
    np.random.set_state(state)
    param = np.random.randn(*param_shape)
    out = {"spectrum": "complex", "shape": list(shape), "decay_power": decay, "seed": seed,
           "max_soft": max_soft, "lam": enc([lam]), "param": enc(param.reshape(-1)),
           "image": enc(img.reshape(-1))}
    rstate = random.getstate()
    bin_mask = fm.binarise_mask(img.copy(), lam, shape, max_soft)
    random.setstate(rstate)
    out["take_ceil"] = bool(random.random() > 0.5)
    out["mask"] = enc(bin_mask.reshape(-1))
    return out


def case(shape, decay, seed, max_soft, lam_alpha=1.0):
    np.random.seed(seed)
    random.seed(seed)
    shape = tuple(shape)
    lam = float(np.random.beta(lam_alpha, lam_alpha))
    freqs = fftfreqnd(*shape)
    param_shape = [1] + list(freqs.shape) + [2]
    state = np.random.get_state()
    out = {"spectrum": "real-reshape", "shape": list(shape), "decay_power": decay, "seed": seed, "max_soft": max_soft,
           "lam": enc([lam]), "param": None}
    try:
        img = make_low_freq_image(decay, shape)
        err = None
    except Exception as e:  # the reference's own failure, recorded as data
        img, err = None, f"{type(e).__name__}: {e}"
    # Replay the numpy stream to capture the exact `param` the reference drew.
    np.random.set_state(state)
    param = np.random.randn(*param_shape)
    out["param"] = enc(param.reshape(-1))
    if err is not None:
        out["reference_error"] = err
        img = extension_image(decay, shape, param)[None]
        out["image_is_extension"] = True
    out["image"] = enc(img.reshape(-1))
    # Replay python's stream to capture the coin binarise_mask draws.
    rstate = random.getstate()
    bin_mask = binarise_mask(img.copy(), lam, shape, max_soft)
    random.setstate(rstate)
    out["take_ceil"] = bool(random.random() > 0.5)
    out["mask"] = enc(bin_mask.reshape(-1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True, help="checkout or mirror of github.com/ecs-vlc/FMix")
    args = ap.parse_args()
    fm = load_master(args.ref_git)
    cases = []
    seed = 100
    for shape, soft in [((32, 32), 0.0), ((28, 20), 0.0), ((31, 17), 0.0), ((100,), 0.0),
                        ((65,), 0.0), ((8, 9, 10), 0.0), ((6, 6, 6), 0.0), ((5, 4, 6), 0.0),
                        ((28, 20), 0.2), ((65,), 0.2), ((6, 6, 6), 0.2), ((31, 17), 0.2)]:
        seed += 1
        cases.append(case(shape, 3.0, seed, soft))
    # another decay power, and a large max_soft that the lambda cap must clip
    cases.append(case((16, 12), 1.5, 500, 0.0))
    cases.append(case((16, 12), 3.0, 501, 0.5))
    seed = 700
    for shape, soft in [((32, 32), 0.0), ((28, 20), 0.0), ((31, 17), 0.0), ((20, 28), 0.0), ((4, 32), 0.0),
                        ((100,), 0.0), ((65,), 0.0), ((2,), 0.0), ((8, 9, 10), 0.0), ((6, 6, 6), 0.0),
                        ((5, 4, 6), 0.0), ((3, 12, 5), 0.0), ((28, 20), 0.2), ((65,), 0.2), ((6, 6, 6), 0.2)]:
        seed += 1
        cases.append(master_case(fm, shape, 3.0, seed, soft))
    cases.append(master_case(fm, (16, 12), 1.5, 800, 0.0))
    cases.append(master_case(fm, (16, 12), 3.0, 801, 0.5))
    root = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(root, "..", "..", "crates", "mixlab-core", "tests", "fixtures", "fmix_golden.json")
    with open(path, "w") as f:
        json.dump({"source": "tools/golden/fmix_golden.py (reference: github.com/ecs-vlc/FMix fmix.py; "
                             f"complex cases from master {MASTER_COMMIT})",
                   "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
    for c in cases:
        mask = [float(v) for v in c["mask"].split()]
        print(c["spectrum"], c["shape"], c["max_soft"], c.get("reference_error", "ok"), "lam=%.4f" % float(c["lam"]),
              "mean=%.4f" % np.mean(mask), "ceil" if c["take_ceil"] else "floor")
    print(os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
