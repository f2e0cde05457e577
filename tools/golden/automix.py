"""Golden fixtures for mixlab's AutoMix (crates/mixlab-core/src/methods/automix.rs and the strategy
crates/mixlab-burn/src/strategy/automix.rs).

Runs OpenMixup's code (github.com/Westlake-AI/openmixup @ 37e13724), read from a checkout or bare mirror by
`git show`:
- `openmixup/models/heads/pmix_block.py` `PixelMixBlock` with AutoMix's CIFAR settings (reduction 2,
  use_scale, nearest upsampling, no λ encoding, 1×1 conv value): `forward` (the mask) and `mask_loss` ("L1",
  margin 0.1);
- the same block with SAMix's CIFAR settings (`configs/classification/cifar100/samix/basic/
  r18_l2_a2_bili_val_dp0_mul_x_cat_L1_var_01_mlr5e_2.py`): `lam_mul`, `lam_residual`, `lam_mul_k=0.25`,
  `x_qk_concat`, the `ConvNeck` value net of `openmixup/models/necks/conv_necks.py`, bilinear upsampling,
  "L1+Variance" mask loss; and `rescale_lam_mult`;
- `openmixup/models/heads/adaptive_mask.py` `AdaptiveMask.forward` on three sources (AdAutoMix's CIFAR
  config `configs/classification/cifar100/adautomix/basic/r18_l2_a1_bili_mlr5e_2.py`);
- `openmixup/core/hooks/momentum_hook.py` `CosineScheduleHook.before_train_iter` with the AutoMix CIFAR
  config (`end_momentum=0.999999, adjust_scope=[0.1, 1.0], warming_up="constant"`, base 0.999).
Only their imports are stubbed: mmcv's `ConvModule` (conv → BN → ELU as configured; `bias='auto'` is a
bias exactly without a norm), `normal_init`/`constant_init`/`kaiming_init`, `BaseModule` (an `nn.Module`), `force_fp32`
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
    """mmcv's ConvModule in the order conv → norm → act, for the configs used here: no norm or BN, no
    activation, ELU or ReLU (mmcv's default); bias='auto' means a bias exactly when there is no norm."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, groups=1, bias='auto',
                 conv_cfg=None, norm_cfg=None, act_cfg=dict(type='ReLU')):
        super().__init__()
        assert conv_cfg is None
        if bias == 'auto':
            bias = norm_cfg is None
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups,
                              bias=bias)
        assert norm_cfg is None or norm_cfg["type"] == "BN"
        self.norm = nn.BatchNorm2d(out_channels) if norm_cfg is not None else None
        acts = {"ELU": nn.ELU, "ReLU": nn.ReLU}
        self.act = acts[act_cfg["type"]]() if act_cfg is not None else None

    def forward(self, x):
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        if self.act is not None:
            x = self.act(x)
        return x


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
    mod.__dict__.update(HEADS=Registry(), HOOKS=Registry(), NECKS=Registry(), builder=BUILDER,
                        print_log=lambda *a, **k: None)
    exec(compile("\n".join(lines), path, "exec"), mod.__dict__)
    return [getattr(mod, n) for n in names]


# `builder.build_neck` for the SAMix value net: ConvNeck from conv_necks.py (set in main).
BUILDER = types.SimpleNamespace(build_neck=None)


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
    (ConvNeck,) = load(args.ref_git, "openmixup/models/necks/conv_necks.py", ["ConvNeck"])

    def build_neck(cfg):
        cfg = dict(cfg)
        cfg.pop("type")
        return ConvNeck(**cfg)

    BUILDER.build_neck = build_neck
    (AdaptiveMask,) = load(args.ref_git, "openmixup/models/heads/adaptive_mask.py", ["AdaptiveMask"])
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
    # SAMix's MixBlock (its CIFAR config): λ-modulated features (lam_mul with residual, k = 0.25), q and k
    # from the concatenated pair with their own convs, a conv-BN-ELU-conv value net, bilinear upsampling,
    # and the L1+Variance mask loss. The block is in training mode (BatchNorm on batch statistics).
    samix = []
    for name, n, c, side, scale in [("samix-c8-4x4-up2", 4, 8, 4, 2), ("samix-c6-3x3-up4", 3, 6, 3, 4)]:
        neck = dict(type="ConvNeck", in_channels=c, hid_channels=c // 2, out_channels=1, num_layers=2,
                    kernel_size=1, with_last_norm=False, norm_cfg=dict(type='BN'), with_last_dropout=0,
                    with_avg_pool=False, with_residual=False)
        mb = PixelMixBlock(in_channels=c, reduction=2, use_scale=True, unsampling_mode=['bilinear'],
                           lam_concat=False, lam_concat_v=False, lam_mul=True, lam_residual=True,
                           lam_mul_k=0.25, value_neck_cfg=neck, x_qk_concat=True, x_v_concat=False,
                           mask_loss_mode="L1+Variance", mask_loss_margin=0.1)
        mb.train()
        with torch.no_grad():
            for p in mb.parameters():
                p.copy_(torch.randn_like(p) * 0.5)
        feat = torch.randn(n, c, side, side)
        index = torch.randperm(n)
        lam = float(np.random.RandomState(10 + len(samix)).beta(2, 2))
        with torch.no_grad():
            mask = mb(feat, lam, index, scale_factor=scale)["mask"]
        losses = [[l, float(mb.mask_loss(mask, l)["loss"])] for l in [lam, 0.05, 0.95]]
        bn = mb.value.conv[0].norm
        samix.append(dict(name=name, n=n, channels=c, side=side, scale=scale, lam=lam,
                          lam_rescaled=mb.rescale_lam_mult(lam, 0.25), index=[int(i) for i in index],
                          features=enc(feat),
                          query_weight=enc(mb.query.conv.weight.reshape(c // 2, 2 * c)),
                          query_bias=enc(mb.query.conv.bias),
                          key_weight=enc(mb.key.conv.weight.reshape(c // 2, 2 * c)),
                          key_bias=enc(mb.key.conv.bias),
                          value1_weight=enc(mb.value.conv[0].conv.weight.reshape(c // 2, c)),
                          bn_weight=enc(bn.weight), bn_bias=enc(bn.bias),
                          value2_weight=enc(mb.value.conv[1].conv.weight.reshape(1, c // 2)),
                          mask=enc(mask), mask_losses=losses))
        print(name, "lam", lam, "mask mean", float(mask[:, 1].mean()), "losses", losses)
    # AdAutoMix's AdaptiveMask (its CIFAR config: no λ concat, bilinear, scale 4) on three sources: q and k
    # convs with mmcv's default ReLU, v a plain conv, A_i = softmax(Σ_{j≠i} q_i·k_jᵀ/√(C/2)), softmax over
    # the sources after upsampling.
    ada = []
    for name, n, c, side, scale in [("ada-c8-4x4-up4", 3, 8, 4, 4), ("ada-c6-2x2-up2", 2, 6, 2, 2)]:
        am = AdaptiveMask(in_channel=c, reduction=2, lam_concat=False, use_scale=True,
                          unsampling_mode='bilinear', scale_factor=scale)
        with torch.no_grad():
            for p in am.parameters():
                p.copy_(torch.randn_like(p) * 0.5)
        feats = [torch.randn(n, c, side, side) for _ in range(3)]
        lam = np.random.RandomState(20 + len(ada)).beta(1, 1, 3)
        lam = list(lam / lam.sum())
        torch.Tensor.cuda = lambda self, *a, **k: self
        with torch.no_grad():
            mask = am([f.clone() for f in feats], lam)["mask"]
        ada.append(dict(name=name, n=n, channels=c, side=side, scale=scale,
                        features=[enc(f) for f in feats],
                        q_weight=enc(am.conv_q.conv.weight.reshape(c // 2, c)), q_bias=enc(am.conv_q.conv.bias),
                        k_weight=enc(am.conv_k.conv.weight.reshape(c // 2, c)), k_bias=enc(am.conv_k.conv.bias),
                        v_weight=enc(am.conv_v.weight.reshape(1, c)), v_bias=enc(am.conv_v.bias),
                        mask=enc(mask)))
        print(name, "mask means", [float(mask[:, i].mean()) for i in range(3)])
    rescale = [[l, PixelMixBlock.rescale_lam_mult(None, l, 0.25)] for l in [0, .1, .3, .5, .7, 1]]
    print("rescale_lam_mult", rescale)
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
                   "numpy": np.__version__, "blocks": blocks, "samix": samix, "adaptive_mask": ada,
                   "rescale_lam_mult": rescale,
                   "schedule": {"base": 0.999, "end": 0.999999, "scope": [0.1, 1.0], "total": 1000,
                                "values": schedule}}, f, separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
