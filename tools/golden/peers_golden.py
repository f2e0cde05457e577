"""Golden fixtures for mixlab-core's box, label and input-mixing code against the peer libraries.

Every number here comes from calling the peers' own functions (nothing is re-implemented): the random
draws inside them are replaced by values we choose (numpy's `randint`/`random`/`permutation`/`beta`,
Python's `random.randint`) or reproduced from a fixed torch seed, so the Rust test can feed the same
λ, centres and origins to mixlab and compare.

  timm (installed)         data/mixup.py: rand_bbox, rand_bbox_minmax, mixup_target
  torchvision (installed)  transforms/v2/_augment.py: CutMix.make_params and the full CutMix call
  OpenMixup (a checkout)   models/augments/resizemix.py (rand_bbox_tao + interpolate + paste),
                           gridmix.py (rand_grid via return_mask=True), mixpro.py (nested mask_mix)

OpenMixup is not pip-installable without mmcv, so its three files are loaded straight from a checkout
with `openmixup.models.utils` stubbed (`to_2tuple` from timm; `batch_shuffle_ddp` is never reached), CUDA
calls turned into no-ops, and numpy's removed `np.int` aliased to `int`. OpenMixup names size(2) "W"
and assumes square inputs, so its cases are square; mixlab's H != W behaviour is pinned by unit tests.

Run: python3 tools/golden/peers_golden.py --openmixup DIR [--openmixup-commit SHA]
     (DIR holds openmixup/models/augments/*.py; writes crates/mixlab-core/tests/fixtures/peers_golden.json)
"""
import argparse
import importlib.util
import inspect
import json
import math
import os
import random
import sys
import types

import numpy as np
import timm
import timm.data.mixup as tm
import torch
import torchvision
from timm.layers import to_2tuple
from torchvision.transforms.v2 import CutMix

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "mixlab-core", "tests", "fixtures",
                   "peers_golden.json")


class Feed:
    """Replaces a random function with one that returns queued values (and checks its bounds)."""

    def __init__(self, owner, name, values, check=None):
        self.owner, self.name, self.values, self.check = owner, name, list(values), check
        self.calls = []

    def __enter__(self):
        self.orig = getattr(self.owner, self.name)
        setattr(self.owner, self.name, self)
        return self

    def __exit__(self, *exc):
        setattr(self.owner, self.name, self.orig)
        if exc[0] is None:
            assert not self.values, f"{self.name}: {len(self.values)} fed values unused"

    def __call__(self, *args, **kwargs):
        v = self.values.pop(0)
        self.calls.append([a if not isinstance(a, np.integer) else int(a) for a in args])
        if self.check:
            self.check(v, *args, **kwargs)
        return v


def randint_check(v, low, high=None, size=None):
    lo, hi = (0, low) if high is None else (low, high)
    assert lo <= v < hi, f"fed {v} outside numpy randint [{lo}, {hi})"


def grid_values(shape, g):
    """Random multiples of 1/16 in [0, 64): exact in f32 and short in JSON."""
    return torch.randint(0, 1024, shape, generator=g).float() / 16


def f32_list(t):
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


# ---- timm ----
def timm_rand_bbox():
    cases = []
    for h, w in [(32, 24), (24, 32), (224, 224), (7, 5), (1, 9)]:
        for lam in [0.0, 0.1, 0.37, 0.5, 0.77, 0.99, 1.0]:
            for fy, fx in [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0), (0.1, 0.9), (0.9, 0.2)]:
                cy, cx = min(int(fy * h), h - 1), min(int(fx * w), w - 1)
                with Feed(np.random, "randint", [cy, cx], randint_check):
                    yl, yh, xl, xh = tm.rand_bbox((3, h, w), lam)
                cases.append(dict(h=h, w=w, lam=lam, cy=cy, cx=cx, box=[int(yl), int(yh), int(xl), int(xh)]))
    return cases


def timm_rand_bbox_minmax():
    cases = []
    for h, w, mm in [(32, 24, (0.2, 0.8)), (224, 224, (0.25, 0.9)), (10, 8, (0.5, 0.5)), (9, 13, (0.1, 1.0))]:
        lo_h, hi_h = int(h * mm[0]), int(h * mm[1])
        lo_w, hi_w = int(w * mm[0]), int(w * mm[1])
        # Cut sizes at the low end and one below timm's exclusive top; origins at 0, middle and last.
        for cut_h, cut_w in [(lo_h, lo_w), (max(lo_h, hi_h - 1), max(lo_w, hi_w - 1))]:
            for fy, fx in [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]:
                oy, ox = int(fy * (h - cut_h)), int(fx * (w - cut_w))
                # With min == max numpy's randint(lo, lo) raises inside timm: recorded as box null.
                feed = Feed(np.random, "randint", [cut_h, cut_w, oy, ox], randint_check)
                try:
                    with feed:
                        yl, yu, xl, xu = tm.rand_bbox_minmax((3, h, w), mm)
                    box = [int(yl), int(yu), int(xl), int(xu)]
                except AssertionError:
                    box = None
                cases.append(dict(h=h, w=w, minmax=list(mm), cut=[cut_h, cut_w], origin=[oy, ox], box=box,
                                  randint_calls=feed.calls))
    return cases


def timm_mixup_target():
    cases = []
    g = torch.Generator().manual_seed(0)
    for b, k in [(4, 3), (5, 10), (1, 4), (8, 7)]:
        labels = torch.randint(k, (b,), generator=g)
        for lam in [0.0, 0.3, 0.5, 0.8125, 1.0]:
            for smoothing in [0.0, 0.1]:
                t = tm.mixup_target(labels, k, lam=lam, smoothing=smoothing)
                cases.append(dict(classes=k, labels=labels.tolist(), lam=lam, smoothing=smoothing,
                                  target=f32_list(t)))
    return cases


# ---- torchvision ----
def tv_draws(cm, seed, h, w):
    """CutMix.make_params' three draws, in its order, from the same seed."""
    torch.manual_seed(seed)
    lam = float(cm._dist.sample(()))
    r_x = int(torch.randint(w, size=(1,)))
    r_y = int(torch.randint(h, size=(1,)))
    return lam, r_x, r_y


def tv_cutmix():
    boxes = []
    for h, w in [(32, 24), (24, 32), (224, 224), (7, 5)]:
        for alpha in [1.0, 0.5]:
            cm = CutMix(alpha=alpha, num_classes=10)
            img = torch.zeros(2, 3, h, w)
            for seed in range(12):
                lam, r_x, r_y = tv_draws(cm, seed, h, w)
                torch.manual_seed(seed)
                p = cm.make_params([img])
                x1, y1, x2, y2 = p["box"]
                boxes.append(dict(h=h, w=w, alpha=alpha, seed=seed, lam=lam, r_x=r_x, r_y=r_y,
                                  box=[y1, y2, x1, x2], lam_adjusted=p["lam_adjusted"]))
    full = []
    for seed, (b, c, h, w, k) in enumerate([(3, 2, 8, 6, 4), (4, 1, 5, 9, 3)]):
        cm = CutMix(alpha=1.0, num_classes=k)
        g = torch.Generator().manual_seed(100 + seed)
        x = grid_values((b, c, h, w), g)
        y = torch.randint(k, (b,), generator=g)
        lam, r_x, r_y = tv_draws(cm, seed, h, w)
        torch.manual_seed(seed)
        out, target = cm(x.clone(), y)
        full.append(dict(b=b, c=c, h=h, w=w, classes=k, lam=lam, r_x=r_x, r_y=r_y, input=f32_list(x),
                         labels=y.tolist(), output=f32_list(out), target=f32_list(target)))
    return boxes, full


# ---- OpenMixup ----
def load_openmixup(root):
    utils = types.ModuleType("openmixup.models.utils")
    utils.to_2tuple = to_2tuple

    def never(*a, **k):
        raise AssertionError("dist mode is not exercised")

    utils.batch_shuffle_ddp = never
    for name in ["openmixup", "openmixup.models"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["openmixup.models.utils"] = utils
    np.int = int  # removed in numpy 1.24; OpenMixup's resizemix still uses it
    torch.Tensor.cuda = lambda self, *a, **k: self  # CPU only
    mods = {}
    for name in ["resizemix", "gridmix", "mixpro"]:
        path = os.path.join(root, "openmixup", "models", "augments", f"{name}.py")
        spec = importlib.util.spec_from_file_location(f"om_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mods[name] = mod
    return mods


def nested(fn, name):
    """A function defined inside `fn`, rebuilt from its code object (unchanged) over fn's module globals;
    the code object carries no defaults, so callers pass every argument."""
    fn = inspect.unwrap(fn)  # past @torch.no_grad()
    code = next(c for c in fn.__code__.co_consts if isinstance(c, types.CodeType) and c.co_name == name)
    return types.FunctionType(code, fn.__globals__)


def om_box(rand_bbox_tao, s, tau, cx, cy):
    """OpenMixup's box as [row0, row1, col0, col1]: it slices rows with its "y" range and columns with "x"."""
    with Feed(np.random, "randint", [cx, cy], randint_check):
        bbx1, bby1, bbx2, bby2 = rand_bbox_tao((1, 1, s, s), tau, False)
    return [int(bby1), int(bby2), int(bbx1), int(bbx2)]


def om_resizemix(mod):
    rand_bbox_tao = nested(mod.resizemix, "rand_bbox_tao")
    cases = []
    g = torch.Generator().manual_seed(7)
    for i, (b, c, s, tau, cx, cy, mode) in enumerate([
        (3, 2, 12, 0.5, 6, 6, "nearest"),
        (3, 2, 12, 0.8, 0, 11, "nearest"),
        (4, 1, 9, 0.37, 8, 2, "nearest"),
        (2, 3, 20, 0.1, 4, 4, "nearest"),  # cut 2: OpenMixup crashes on the empty box of cut 1
        (3, 2, 12, 0.62, 3, 9, "bilinear"),
        (2, 1, 16, 0.45, 15, 0, "bilinear"),
    ]):
        x = grid_values((b, c, s, s), g)
        y = torch.arange(b)  # labels 0..b, so the shuffled labels are the partner indices
        torch.manual_seed(i)
        with Feed(np.random, "randint", [cx, cy], randint_check) as feed:
            out, (_, index, lam) = mod.resizemix(x.clone(), y, scope=(0.0, 1.0), lam=tau,
                                                    interpolate_mode=mode)
        cases.append(dict(size=s, b=b, c=c, tau=tau, randint=[cx, cy], randint_calls=feed.calls, mode=mode,
                          box=om_box(rand_bbox_tao, s, tau, cx, cy), partner=index.tolist(), lam=float(lam),
                          input=f32_list(x), output=f32_list(out)))
    # Boxes only on larger squares, with centres on and next to the borders.
    boxes = []
    for s in [32, 224]:
        for tau in [0.1, 0.33, 0.5, 0.8, 1.0]:
            for cx, cy in [(0, 0), (s - 1, s - 1), (1, s - 2), (s // 2, s // 3)]:
                boxes.append(dict(size=s, tau=tau, randint=[cx, cy], box=om_box(rand_bbox_tao, s, tau, cx, cy)))
    return cases, boxes


def om_gridmix(mod):
    cases = []
    # Every window fits the image: where OpenMixup's window is larger (e.g. area 0.6, aspect 0.5 on 32²)
    # it slices with negative offsets and wraps, which mixlab replaces by clipping (see gridmix.rs).
    params = [
        # size, lam, n_holes, hole_aspect, cut_area, cut_aspect, cx, cy
        (32, 0.5, 4, 1.0, 0.75, 1.0, 0.3, 0.6),
        (32, 0.2, 2, 1.0, 0.5, 2.0, 0.0, 0.99),
        (32, 0.9, 6, 1.0, 1.0, 1.0, 0.5, 0.5),
        (32, 0.05, 3, 1.5, 0.4, 0.5, 0.8, 0.1),
        (64, 0.35, 5, 0.7, 0.9, 1.1, 0.25, 0.75),
        (224, 0.6, 6, 1.0, 0.5, 0.8, 0.4, 0.2),
        (20, 0.45, 2, 1.0, 0.55, 1.0, 0.9, 0.9),
    ]
    for s, lam, n, ha, ca, cs, cx, cy in params:
        x = torch.zeros(2, 1, s, s)
        with Feed(random, "randint", [n]), Feed(np.random, "random", [cx, cy]):
            (out, mask), (_, _, lam_out) = mod.gridmix(x, torch.arange(2), lam=lam, n_holes=n,
                                                       hole_aspect_ratio=ha, cut_area_ratio=ca,
                                                       cut_aspect_ratio=cs, return_mask=True)
        m = mask[0, 0]
        rows = ["".join("1" if v > 0.5 else "0" for v in row) for row in m.tolist()]
        cases.append(dict(size=s, lam=lam, n_holes=n, hole_aspect_ratio=ha, cut_area_ratio=ca,
                          cut_aspect_ratio=cs, cx=cx, cy=cy, partner_mask=rows, lam_out=float(lam_out)))
    return cases


def om_maskmix(mod):
    # mask_mix is nested inside mixpro(); build it from its code object, unchanged.
    mask_mix = nested(mod.mixpro, "mask_mix")
    cases = []
    g = torch.Generator().manual_seed(11)
    rng = np.random.RandomState(5)
    for s, patch, lam in [(16, 4, 0.3), (16, 8, 0.5), (15, 4, 0.62), (14, 6, 0.9), (16, 4, 0.0), (17, 5, 0.41)]:
        b = 2
        mask_num = math.ceil(s / patch)
        tokens = mask_num ** 2
        perms = [rng.permutation(tokens) for _ in range(b)]
        x = grid_values((b, 3, s, s), g)
        index = torch.tensor([1, 0])
        with Feed(np.random, "permutation", [p.copy() for p in perms]):
            out, _, ratio = mask_mix(x.clone(), lam, mask_num, 1, patch, index)
        cases.append(dict(size=s, patch=patch, lam=lam, tokens=tokens, perms=[p.tolist() for p in perms],
                          partner=index.tolist(), kept_count=int(np.ceil(tokens * lam)),
                          mask_ratio=[float(r) for r in ratio.tolist()], input=f32_list(x), output=f32_list(out)))
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--openmixup", required=True, help="checkout with openmixup/models/augments/*.py")
    ap.add_argument("--openmixup-commit", default="unknown")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    om = load_openmixup(args.openmixup)
    tv_boxes, tv_full = tv_cutmix()
    rz_cases, rz_boxes = om_resizemix(om["resizemix"])
    fixture = dict(
        generator="tools/golden/peers_golden.py",
        versions=dict(timm=timm.__version__, torchvision=torchvision.__version__, torch=torch.__version__,
                      numpy=np.__version__, openmixup=args.openmixup_commit),
        tolerance=dict(boxes="exact", floats=1e-6, bilinear=1e-5),
        timm_rand_bbox=timm_rand_bbox(),
        timm_rand_bbox_minmax=timm_rand_bbox_minmax(),
        timm_mixup_target=timm_mixup_target(),
        tv_cutmix_boxes=tv_boxes,
        tv_cutmix_full=tv_full,
        om_resizemix=rz_cases,
        om_resizemix_boxes=rz_boxes,
        om_gridmix=om_gridmix(om["gridmix"]),
        om_maskmix=om_maskmix(om["mixpro"]),
    )
    with open(args.out, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}: " + ", ".join(f"{k}={len(v)}" for k, v in fixture.items() if isinstance(v, list)))


if __name__ == "__main__":
    main()
