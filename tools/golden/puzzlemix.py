"""Golden fixtures for mixlab's PuzzleMix (crates/mixlab-core/src/methods/puzzlemix.rs and solvers/).

Runs the reference functions themselves: `mixup.py` of snu-mllab/PuzzleMix @ e2dbf3a2 (`graphcut_multi`,
`mask_transport`, `mixup_graph`), read with `git show` from a local clone and executed in a scratch namespace
(never written anywhere), with the real `gco` (pip package gco-wrapper) and torch on CPU.

Cases:
- graphcut: random re-parameterised terms (the arguments of `graphcut_multi`, partner first) at 2, 4 and 8
  blocks, 2/3/4 labels, several λ -> the block mask;
- transport: random masks and normalised saliency at 2, 4, 8, 16 blocks -> the winning source per place
  (`plan_win` columns), eps 0.8 and 0.1;
- mix: whole `mixup_graph` calls (3 channels, CIFAR mean/std, defaults of main.py: beta 1.2, gamma 0.5,
  eta 0.2, neigh_size 4, n_labels 3, transport, t_eps 0.8, t_size -1 or 4) -> mixed images and ratios.

f32 values are stored as decimal reprs that round-trip exactly; images as 8-bit pixels.

Run from the repo root:
  python3 tools/golden/puzzlemix.py --ref-git /path/to/PuzzleMix/.git
(writes crates/mixlab-core/tests/fixtures/puzzlemix_golden.json). Needs numpy, torch, gco-wrapper.
"""
import argparse
import json
import os
import subprocess

import numpy as np

COMMIT = "e2dbf3a2"


def load_reference(git_dir):
    src = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{COMMIT}:mixup.py"],
        check=True, capture_output=True, text=True).stdout
    ns = {"__name__": "puzzlemix_reference"}
    exec(compile(src, "mixup.py@" + COMMIT, "exec"), ns)
    return ns


def f32list(a):
    # The shortest decimal that round-trips each f32.
    return [float(np.format_float_positional(v, unique=True)) for v in np.asarray(a, dtype=np.float32).ravel()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True, help="git dir of snu-mllab/PuzzleMix")
    args = ap.parse_args()
    ref = load_reference(args.ref_git)
    import torch

    rng = np.random.default_rng(20261203)
    out = {"reference": f"snu-mllab/PuzzleMix@{COMMIT}:mixup.py", "graphcut": [], "transport": [], "mix": []}

    for b in (2, 4, 8):
        for n_labels in (2, 3, 4):
            for lam in (0.05, 0.3, 0.5, 0.8):
                u_self = rng.random((b, b)).astype(np.float32)
                u_self /= u_self.sum()
                u_partner = rng.random((b, b)).astype(np.float32)
                u_partner /= u_partner.sum()
                beta_n = 1.2 / b / 16
                pw_x = (rng.random((b - 1, b)) * beta_n * 0.5).astype(np.float32)
                pw_y = (rng.random((b, b - 1)) * beta_n * 0.5).astype(np.float32)
                lam = float(np.float32(lam))
                mask = ref["graphcut_multi"](u_partner, u_self, pw_x, pw_y, lam, beta_n, 0.2, n_labels)
                out["graphcut"].append({
                    "blocks": b, "n_labels": n_labels, "lam": lam, "beta_n": beta_n, "eta": 0.2,
                    "u_partner": f32list(u_partner), "u_self": f32list(u_self),
                    "vertical": f32list(pw_x), "horizontal": f32list(pw_y),
                    "mask": [float(v) for v in np.asarray(mask).ravel()],
                })

    for w in (2, 4, 8, 16):
        for eps in (0.8, 0.1):
            for _ in range(3):
                mask = rng.choice([0.0, 0.5, 1.0], size=(w, w)).astype(np.float32)
                s = rng.random((w, w)).astype(np.float32)
                s = s / s.sum()
                plan = ref["mask_transport"](torch.tensor(mask)[None, None], torch.tensor(s)[None], eps=eps)
                plan = plan[0].numpy()
                winners = [int(np.argmax(plan[:, j])) if plan[:, j].sum() > 0 else None for j in range(w * w)]
                out["transport"].append({"width": w, "eps": eps, "mask": f32list(mask),
                                         "saliency": f32list(s), "winners": winners})

    mean = torch.tensor([0.4914, 0.4822, 0.4465], dtype=torch.float32).reshape(1, 3, 1, 1)
    std = torch.tensor([0.2470, 0.2435, 0.2616], dtype=torch.float32).reshape(1, 3, 1, 1)
    for (width, blocks, t_size, lam, n) in [(16, 2, -1, 0.3, 3), (16, 4, -1, 0.6, 3), (16, 8, -1, 0.5, 3),
                                            (32, 4, 4, 0.45, 2), (32, 16, -1, 0.7, 2)]:
        # 8-bit pixels, as images are: x = (p / 255 - mean) / std in f32.
        pixels = rng.integers(0, 256, size=(n, 3, width, width))
        x = ((torch.tensor(pixels, dtype=torch.float32) / 255.0 - mean) / std).float()
        # Saliency in thousandths, skewed like gradient magnitudes (stored as integers).
        sal = (rng.random((n, width, width)) ** 3 * 1000).astype(np.int64)
        grad = torch.tensor(sal, dtype=torch.float32) / 1000.0
        # A cyclic shift, so every sample has another partner (mixlab leaves self-paired samples unmixed,
        # where the reference still transports and masks an image with itself).
        indices = np.roll(np.arange(n), int(rng.integers(1, n)))
        lam = float(np.float32(lam))
        mixed, ratio = ref["mixup_graph"](x.clone(), grad, indices, block_num=blocks, alpha=lam, beta=1.2,
                                          gamma=0.5, eta=0.2, neigh_size=4, n_labels=3, mean=mean, std=std,
                                          transport=True, t_eps=0.8, t_size=t_size, device="cpu")
        out["mix"].append({
            "n": n, "width": width, "blocks": blocks, "t_size": t_size, "lam": lam,
            "mean": f32list(mean), "std": f32list(std),
            "pixels": [int(v) for v in pixels.ravel()], "saliency_milli": [int(v) for v in sal.ravel()], "partner": [int(i) for i in indices],
            "mixed": f32list(mixed), "ratio": f32list(ratio),
        })

    path = "crates/mixlab-core/tests/fixtures/puzzlemix_golden.json"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path}: {len(out['graphcut'])} graph cuts, {len(out['transport'])} transports, "
          f"{len(out['mix'])} batches")


if __name__ == "__main__":
    main()
