"""Golden fixtures for mixlab's SmoothMix (crates/mixlab-core/src/methods/smoothmix.rs).

`gaussian_kernel` below is a faithful local copy of the kernel in OpenMixup's SmoothMix,
https://github.com/Westlake-AI/openmixup/blob/main/openmixup/models/augments/smoothmix.py
(`.cuda()` dropped, float64 instead of float32 so the comparison can be tight), kept here ONLY
to generate test fixtures; tools/ is not shipped code. The draw is the reference's:
  rand_w = int(randint(0, w) - w/2); rand_h = int(randint(0, h) - h/2)
  sigma = (rand() / 4 + 0.25) * h;  kernel = gaussian_kernel(h, rand_h, rand_w, sigma)
  img = img * (1 - kernel) + img_ * kernel;  lam = sum(kernel) / (h * w)
Each case records the uniform draws (u_h, u_w), sigma, the kernel (the PARTNER's weight) and the
reference lam. The reference only runs on square images with an even side (odd sides fail in
`view`); that failure is recorded too.

Run: python3 tools/golden/smoothmix_golden.py  (writes crates/mixlab-core/tests/fixtures/smoothmix_golden.json)
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)


# ---- reference copy (OpenMixup smoothmix.py), for fixtures only ----
def gaussian_kernel(kernel_size, rand_w, rand_h, sigma):
    s = kernel_size * 2
    x_cord = torch.arange(s)
    x_grid = x_cord.repeat(s).view(s, s)
    y_grid = x_grid.t()
    xy_grid = torch.stack([x_grid, y_grid], dim=-1)
    xy_grid = torch.roll(xy_grid, rand_w, 0)
    xy_grid = torch.roll(xy_grid, rand_h, 1)
    crop_size = s // 4
    xy_grid = xy_grid[crop_size: s - crop_size, crop_size: s - crop_size]
    mean = (s - 1) / 2
    var = sigma ** 2
    g_filter = torch.exp(-torch.sum((xy_grid - mean) ** 2, dim=-1) / (2 * var))
    g_filter = g_filter.view(kernel_size, kernel_size)
    return g_filter
# ---- end of reference copy ----


def enc(values):
    """Floats as one space-separated string of shortest reprs (parsed exactly by the Rust test)."""
    return " ".join(repr(float(v)) for v in values)


def case(h, seed):
    w = h
    g = torch.Generator().manual_seed(seed)
    u_w = int(torch.randint(0, w, (1,), generator=g))
    u_h = int(torch.randint(0, h, (1,), generator=g))
    rand_w = int(u_w - w / 2)
    rand_h = int(u_h - h / 2)
    sigma = float((torch.rand(1, generator=g) / 4 + 0.25) * h)
    out = {"h": h, "w": w, "u_h": u_h, "u_w": u_w, "sigma": enc([sigma])}
    try:
        kernel = gaussian_kernel(h, rand_h, rand_w, torch.tensor([sigma]))
    except RuntimeError as e:  # the reference's own failure, recorded as data
        out["reference_error"] = f"RuntimeError: {str(e).splitlines()[0]}"
        return out
    out["kernel"] = enc(kernel.reshape(-1).tolist())
    out["lam"] = enc([float(torch.sum(kernel) / (h * w))])
    return out


def main():
    cases = [case(32, 1), case(32, 2), case(28, 3), case(8, 4), case(8, 5), case(2, 6), case(7, 7)]
    # Corners of the centre range: u = 0 and u = h - 1 on both axes.
    for h, u_h, u_w, seed in [(10, 0, 9, 8), (10, 9, 0, 9)]:
        c = case(h, seed)
        sigma = float(c["sigma"])
        kernel = gaussian_kernel(h, int(u_h - h / 2), int(u_w - h / 2), torch.tensor([sigma]))
        c.update(u_h=u_h, u_w=u_w, kernel=enc(kernel.reshape(-1).tolist()),
                 lam=enc([float(torch.sum(kernel) / (h * h))]))
        cases.append(c)
    root = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(root, "..", "..", "crates", "mixlab-core", "tests", "fixtures", "smoothmix_golden.json")
    with open(path, "w") as f:
        json.dump({"source": "tools/golden/smoothmix_golden.py (reference: OpenMixup smoothmix.py)",
                   "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    for c in cases:
        if "kernel" in c:
            k = torch.tensor([float(v) for v in c["kernel"].split()]).view(c["h"], c["w"])
            peak = divmod(int(torch.argmax(k)), c["w"])
            print(c["h"], (c["u_h"], c["u_w"]), "peak", peak, "lam", c["lam"])
        else:
            print(c["h"], c.get("reference_error"))
    print(os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
