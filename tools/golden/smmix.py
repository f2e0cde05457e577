"""Golden fixtures for mixlab's SMMix (crates/mixlab-core/src/methods/smmix.rs and the strategy
crates/mixlab-burn/src/strategy/smmix.rs).

Runs the official code, github.com/ChenMnZ/SMMix @ 14b1edcd, loaded from a checkout or bare mirror by
`git show`:
- `smmix.py`: `SMMix.smmix` (window sums by `unfold`, `argmin`/`argmax`, token copy, the masks) and
  `index_translate`, with `mixup_target` for the targets;
- `engine.py` `train_one_epoch`: the three loss lines of the SMMix branch, executed from the file's own
  text (`loss_cls`, `loss_fine`, `loss_con`) with the reference's criterion (`SoftTargetCrossEntropy`,
  which `DistillationLoss` with `distillation_type='none'` calls unchanged) and `KLDivLoss(batchmean)`.
Only the surroundings are stubbed: `.cuda()` is the identity (CPU), and `one_hot` is timm 0.3's (the
reference passes `device=`, which current timm's does not take).

The attention maps are softmax rows of random logits (a per-key importance sums to 1 over the tokens, as
`attn[:, :, 1:, 1:].mean((1, 2))` nearly does); pairing is the reference's `flip`.

Run: python3 tools/golden/smmix.py --ref-git DIR
     (writes crates/mixlab-core/tests/fixtures/smmix_golden.json)
"""
import argparse
import json
import os
import re
import subprocess
import types

import numpy as np
import timm
import torch
import torch.nn.functional as F
from timm.loss import SoftTargetCrossEntropy

COMMIT = "14b1edcd"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "mixlab-core",
                   "tests", "fixtures", "smmix_golden.json")


def show(ref_git, path):
    return subprocess.run(["git", "-C", ref_git, "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def old_one_hot(x, num_classes, on_value=1., off_value=0., device="cuda"):
    """timm 0.3's `one_hot`."""
    x = x.long().view(-1, 1)
    return torch.full((x.size()[0], num_classes), off_value, device=device).scatter_(1, x, on_value)


def load(ref_git):
    torch.Tensor.cuda = lambda self, *a, **k: self
    mod = types.ModuleType("smmix")
    exec(compile(show(ref_git, "smmix.py"), "smmix.py", "exec"), mod.__dict__)
    mod.one_hot = old_one_hot
    # engine.py's SMMix loss lines, taken from the file as they stand.
    engine = show(ref_git, "engine.py")
    lines = [l.strip() for l in engine.splitlines()
             if re.match(r"\s*loss_(cls|fine|con) = ", l) or re.match(r"\s*loss = loss_cls", l)]
    assert len(lines) == 4, lines
    return mod, "\n".join(lines)


def enc(a):
    return " ".join("%.9g" % v for v in np.asarray(a, dtype=np.float32).reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", required=True)
    args = ap.parse_args()
    sm, loss_src = load(args.ref_git)
    torch.manual_seed(0)
    mixes = []
    # name, batch, channels, image side, token side, window side r
    for name, n, c, px, side, r in [
        ("16px-side8-r2", 4, 2, 16, 8, 2),
        ("16px-side8-r6", 4, 1, 16, 8, 6),
        ("14px-side14-r3", 2, 1, 14, 14, 3),
        ("28px-side14-r10", 2, 1, 28, 14, 10),
        ("32px-side8-r4", 2, 1, 32, 8, 4),
    ]:
        mixer = sm.SMMix(num_classes=10, side=side)
        x = torch.randn(n, c, px, px)
        attn = torch.softmax(torch.randn(n, side * side) * 2.0, dim=1)
        mixed, target_mask, source_mask = mixer.smmix(x.clone(), attn.clone(), (r, r))
        lam = (side ** 2 - r * r) / side ** 2
        mixes.append(dict(name=name, n=n, channels=c, image=px, side=side, r=r, lam=lam, x=enc(x),
                          attention=enc(attn), mixed=enc(mixed), source=enc(source_mask.float())))
        print(name, "lam", round(lam, 4), "changed tokens", int(source_mask.sum()))
    losses = []
    soft_ce = SoftTargetCrossEntropy()

    def criterion(inputs, outputs, labels):
        # losses.py DistillationLoss.forward with distillation_type 'none': `return base_loss`.
        return soft_ce(outputs, labels)

    kl_layer = torch.nn.KLDivLoss(reduction="batchmean")
    for name, n, k, lam in [("b4-c10", 4, 10, 0.75), ("b6-c5", 6, 5, 0.4898)]:
        labels = torch.randint(0, k, (n,))
        new_targets, target_target, source_target = sm.mixup_target(labels, k, lam, 0.1, "cpu")
        clean = torch.randn(n, k) * 2.0
        mixed_prediction_distribution = lam * clean + (1 - lam) * clean.flip(0)
        outputs = (torch.randn(n, k) * 2.0).requires_grad_()
        target_result = (torch.randn(n, k) * 2.0).requires_grad_()
        source_result = (torch.randn(n, k) * 2.0).requires_grad_()
        env = dict(criterion=criterion, kl_layer=kl_layer, F=F, new_samples=None, outputs=outputs,
                   new_targets=new_targets, target_result=target_result, source_result=source_result,
                   target_target=target_target, source_target=source_target,
                   mixed_prediction_distribution=mixed_prediction_distribution)
        exec(loss_src, env)
        env["loss"].backward()
        losses.append(dict(name=name, n=n, classes=k, lam=lam, smoothing=0.1,
                           labels=[int(v) for v in labels], clean=enc(clean), outputs=enc(outputs.detach()),
                           target_result=enc(target_result.detach()),
                           source_result=enc(source_result.detach()),
                           loss_cls=env["loss_cls"].item(), loss_fine=env["loss_fine"].item(),
                           loss_con=env["loss_con"].item(), loss=env["loss"].item(),
                           grad_outputs=enc(outputs.grad), grad_target=enc(target_result.grad)))
        print(name, "loss", float(env["loss"]))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/smmix.py",
                   "reference": f"github.com/ChenMnZ/SMMix@{COMMIT}", "loss_lines": loss_src,
                   "torch": torch.__version__, "timm": timm.__version__, "numpy": np.__version__,
                   "mixes": mixes, "losses": losses}, f, separators=(",", ":"))
    print(os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
