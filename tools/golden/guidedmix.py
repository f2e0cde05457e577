"""Golden fixtures for mixlab's GuidedMixup (crates/mixlab-core/src/methods/guidedmix.rs).

Runs the official code, github.com/3neutronstar/GuidedMixup @ 73494e18, loaded from a checkout or bare
mirror (nothing re-implemented): `spectral_residual.py` (SpectralResidual.transform_spectral_residual),
`mixup.py` (`mixup_process`, guided branch; `distance_function`) and `pairing.pyx` (`onecycle_cover`,
compiled here with Cython's pyximport). mixup.py imports gco (pip: gco-wrapper) and comixup.match for
its other branches.

One deliberate patch: the official CIFAR `mixup_process` asks `pairing(..., condition='greedy_c')`,
which `pairing()` does not recognise, so as published it pairs by a random permutation. The paper and
the official FGVC code pair greedily with `onecycle_cover`; the fixture patches `mixup.pairing` to map
'greedy_c' to 'greedy' and records the partners it returned.

Cases: real CIFAR-10 images (first 8 of data_batch_1, scaled to [0, 1] and normalised with the CIFAR
mean/std, as the official loader does) and Gaussian batches, each with (a) the SR saliency of the images
as the guide and (b) an arbitrary non-negative map (|N(0,1)|, standing in for input gradients).

Run: python3 tools/golden/guidedmix.py --ref-git DIR --cifar PATH/data_batch_1.bin
     (writes crates/mixlab-core/tests/fixtures/guidedmix_golden.json)
"""
import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

COMMIT = "73494e18"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "guidedmix_golden.json")


def checkout(ref_git):
    root = tempfile.mkdtemp()
    for path in ["spectral_residual.py", "mixup.py", "pairing.pyx", "comixup/__init__.py", "comixup/match.py"]:
        src = subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                             capture_output=True, text=True).stdout
        os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(src)
    sys.path.insert(0, root)
    import pyximport
    pyximport.install(setup_args={"include_dirs": np.get_include()}, language_level=3)
    import pairing  # noqa: F401  (compiled; mixup.py imports it by name)
    return root


def enc(a):
    """float32 arrays as space-separated shortest float32 reprs (exact when parsed as f32)."""
    return " ".join(str(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


def cifar_images(path, n):
    raw = np.fromfile(path, dtype=np.uint8)[: n * 3073].reshape(n, 3073)
    x = raw[:, 1:].reshape(n, 3, 32, 32).astype(np.float32) / 255.0
    mean = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)[None, :, None, None]
    std = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)[None, :, None, None]
    return torch.from_numpy((x - mean) / std), raw[:, 0].astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    ap.add_argument("--cifar", required=True)
    args = ap.parse_args()
    checkout(args.ref_git)
    sr_mod = importlib.import_module("spectral_residual")
    mx = importlib.import_module("mixup")
    mx.device = "cpu"
    seen = {}
    official_pairing = mx.pairing

    def pairing(sc_a, sc_b=None, condition="random", distance_metric="l2"):
        cond = "greedy" if condition == "greedy_c" else condition
        idx = official_pairing(sc_a, sc_b, condition=cond, distance_metric=distance_metric)
        seen["indices"] = np.asarray(idx).astype(int).tolist()
        return idx

    mx.pairing = pairing
    sr = sr_mod.SpectralResidual(device="cpu")
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    batches = []
    x, y = cifar_images(args.cifar, 5)
    batches.append(("cifar10", x, y))
    batches.append(("gauss-32", torch.randn(4, 3, 32, 32), rng.integers(0, 10, 4)))
    batches.append(("gauss-16x12", torch.randn(5, 3, 16, 12), rng.integers(0, 10, 5)))
    batches.append(("gauss-pair", torch.randn(2, 3, 8, 8), rng.integers(0, 10, 2)))
    out_batches = []
    for name, imgs, labels in batches:
        cases = []
        sal = sr.transform_spectral_residual(imgs.clone())
        guides = [("sr", sal), ("abs-normal", torch.randn(imgs.shape[0], *imgs.shape[2:]).abs())]
        for gname, guide in guides:
            a = types.SimpleNamespace(mixup_alpha=None, in_batch=0, mean=None, std=None, box=False, graph=False,
                                      beta=1.2, gamma=0.5, eta=0.2, neigh_size=4, n_labels=3, transport=False,
                                      t_eps=0.8, t_size=-1, guided=True, condition="greedy", comixup=False,
                                      block_num=None)
            target = torch.nn.functional.one_hot(torch.from_numpy(np.asarray(labels)), 10).float()
            # The distance matrix the pairing sees (blurred, sum-to-1 maps), for the walk on its own.
            blurred = mx.TF.gaussian_blur(guide.clone(), (7, 7), (3, 3))
            blurred /= blurred.sum(dim=[-1, -2], keepdim=True)
            dist = mx.distance_function(blurred, blurred, "l2").cpu().numpy().astype(np.float32)
            out, soft = mx.mixup_process(imgs.clone(), target.clone(), grad=guide.clone(), args=a)
            case = dict(guide=gname, distances=enc(dist), partner=seen["indices"], mixed=enc(out),
                        soft_targets=enc(soft))
            if gname != "sr":
                case["guide_map"] = enc(guide)
            cases.append(case)
        out_batches.append(dict(name=name, shape=list(imgs.shape), labels=[int(v) for v in labels],
                                images=enc(imgs), sr_saliency=enc(sal), cases=cases))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/guidedmix.py",
                   "reference": f"github.com/3neutronstar/GuidedMixup@{COMMIT} (pairing greedy_c -> greedy)",
                   "torch": torch.__version__, "numpy": np.__version__, "batches": out_batches}, f,
                  separators=(",", ":"))
    for b in out_batches:
        for c in b["cases"]:
            print(b["name"], c["guide"], c["partner"])
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
