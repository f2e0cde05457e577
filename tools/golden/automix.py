"""Golden fixtures for mixlab's AutoMix (crates/mixlab-core/src/methods/automix.rs and the strategy
crates/mixlab-burn/src/strategy/automix.rs).

Runs OpenMixup's code (github.com/Westlake-AI/openmixup @ 37e13724), read from a checkout or bare mirror by
`git show`:
- `openmixup/models/heads/pmix_block.py` `PixelMixBlock` with AutoMix's CIFAR settings (reduction 2,
  use_scale, nearest upsampling, no λ encoding, 1×1 conv value): `forward` (the mask) and `mask_loss` ("L1",
  margin 0.1);
- `openmixup/core/hooks/momentum_hook.py` `CosineScheduleHook.before_train_iter` with the AutoMix CIFAR
  config (`end_momentum=0.999999, adjust_scope=[0.1, 1.0], warming_up="constant"`, base 0.999).
Only their imports are stubbed: mmcv's `ConvModule` (with `norm_cfg=None, act_cfg=None`, `bias='auto'` it is a
conv with bias), `normal_init`/`constant_init`/`kaiming_init`, `BaseModule` (an `nn.Module`), `force_fp32`
(identity), `Hook` (`every_n_iters` as mmcv's), the registries and `print_log`.

Run: python3 tools/golden/automix.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/automix_golden.json)
"""
import argparse
import json
import os
import subprocess
import sys
import types

import numpy as np
import torch
import torch.nn as nn

COMMIT = "37e13724"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "automix_golden.json")


def show(ref_git, path):
    return subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


class ConvModule(nn.Module):
    """mmcv's ConvModule without norm and activation: a conv with bias (bias='auto' and no norm)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, groups=1, bias='auto',
                 norm_cfg=None, act_cfg=None):
        super().__init__()
        assert norm_cfg is None and act_cfg is None
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups,
                              bias=True if bias == 'auto' else bias)

    def forward(self, x):
        return self.conv(x)


def normal_init(m, mean=0., std=1., bias=0.):
    nn.init.normal_(m.weight, mean, std)
    if getattr(m, "bias", None) is not None:
        nn.init.constant_(m.bias, bias)


class BaseModule(nn.Module):
    """mmcv's BaseModule: an nn.Module that keeps its init_cfg."""

    def __init__(self, init_cfg=None):
        super().__init__()
        self.init_cfg = init_cfg


class Hook:
    def every_n_iters(self, runner, n):
        return (runner.iter + 1) % n == 0 if n > 0 else False


class Registry:
    def register_module(self, cls=None, **kw):
        return cls if cls is not None else (lambda c: c)


def stub_modules():
    mmcv = types.ModuleType("mmcv")
    cnn = types.ModuleType("mmcv.cnn")
    cnn.ConvModule = ConvModule
    cnn.normal_init = normal_init
    cnn.constant_init = lambda m, val, bias=0.: None
    cnn.kaiming_init = lambda m, **kw: None
    runner = types.ModuleType("mmcv.runner")
    runner.BaseModule = BaseModule
    runner.force_fp32 = lambda apply_to=None, **kw: (lambda f: f)
    runner.Hook = Hook
    parallel = types.ModuleType("mmcv.parallel")
    parallel.is_module_wrapper = lambda m: False
    for name, mod in [("mmcv", mmcv), ("mmcv.cnn", cnn), ("mmcv.runner", runner),
                      ("mmcv.parallel", parallel)]:
        sys.modules[name] = mod


def load(ref_git, path, names):
    src = show(ref_git, path)
    # The package-relative imports (registries, builder, print_log) are replaced by stubs.
    lines = []
    for line in src.splitlines():
        if line.startswith("from openmixup") or line.startswith("from ..") or line.startswith("from ."):
            continue
        lines.append(line)
    mod = types.ModuleType(path)
    mod.__dict__.update(HEADS=Registry(), HOOKS=Registry(), builder=None, print_log=lambda *a, **k: None)
    exec(compile("\n".join(lines), path, "exec"), mod.__dict__)
    return [getattr(mod, n) for n in names]


def enc(a):
    if isinstance(a, torch.Tensor):
        a = a.detach().numpy()
    return " ".join("%.9g" % v for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    stub_modules()
    (PixelMixBlock,) = load(args.ref_git, "openmixup/models/heads/pmix_block.py", ["PixelMixBlock"])
    (CosineScheduleHook,) = load(args.ref_git, "openmixup/core/hooks/momentum_hook.py",
                                 ["CosineScheduleHook"])
    torch.manual_seed(0)
    blocks = []
    for name, n, c, side, scale in [("c8-4x4-up2", 4, 8, 4, 2), ("c6-2x2-up4", 3, 6, 2, 4),
                                    ("c16-8x8-up4", 2, 16, 8, 4)]:
        mb = PixelMixBlock(in_channels=c, reduction=2, use_scale=True, unsampling_mode=['nearest'],
                           lam_concat=False, lam_concat_v=False, lam_mul=False, lam_residual=False,
                           lam_mul_k=-1, value_neck_cfg=None, x_qk_concat=False, x_v_concat=False,
                           mask_loss_mode="L1", mask_loss_margin=0.1)
        # Larger weights than the N(0, 0.01) start, so the attention is far from uniform.
        with torch.no_grad():
            for p in mb.parameters():
                p.copy_(torch.randn_like(p) * 0.5)
        feat = torch.randn(n, c, side, side)
        index = torch.randperm(n)
        lam = float(np.random.RandomState(len(blocks)).beta(2, 2))
        with torch.no_grad():
            mask = mb(feat, lam, index, scale_factor=scale)["mask"]
        lam_loss = float(1 - mask[:, 1].mean())  # inside the margin: loss 0
        losses = []
        for l in [lam, lam_loss, 0.05, 0.95]:
            losses.append([l, float(mb.mask_loss(mask, l)["loss"])])
        blocks.append(dict(name=name, n=n, channels=c, side=side, scale=scale, index=[int(i) for i in index],
                           features=enc(feat),
                           query_weight=enc(mb.query.conv.weight.reshape(c // 2, c)),
                           query_bias=enc(mb.query.conv.bias),
                           value_weight=enc(mb.value.weight.reshape(1, c)), value_bias=enc(mb.value.bias),
                           mask=enc(mask), mask_losses=losses))
        print(name, "mask mean", float(mask[:, 1].mean()), "losses", losses)
    # The momentum schedule of the AutoMix CIFAR config.
    hook = CosineScheduleHook(end_momentum=0.999999, adjust_scope=[0.1, 1.0], warming_up="constant")
    module = types.SimpleNamespace(momentum=0.999, base_momentum=0.999)
    runner = types.SimpleNamespace(model=types.SimpleNamespace(module=module), max_iters=1000, iter=0)
    schedule = []
    for it in [0, 1, 99, 100, 101, 250, 500, 777, 999, 1000]:
        runner.iter = it
        hook.before_train_iter(runner)
        schedule.append([it, module.momentum])
    print("schedule", schedule)
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/automix.py",
                   "reference": f"github.com/Westlake-AI/openmixup@{COMMIT}", "torch": torch.__version__,
                   "numpy": np.__version__, "blocks": blocks,
                   "schedule": {"base": 0.999, "end": 0.999999, "scope": [0.1, 1.0], "total": 1000,
                                "values": schedule}}, f, separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
