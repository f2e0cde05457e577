"""PyTorch front end: timm's `Mixup` and `FastCollateMixup` signatures, torchvision's `MixUp`/`CutMix`,
and any other host method by name.

    mixup_fn = mixlab.torch.Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1, num_classes=1000)
    x, y = mixup_fn(x, y)       # soft targets (B, num_classes) for a soft-target cross-entropy

As timm's, the mixers mix `x` in place and return it. Contiguous float32 and uint8 tensors on the CPU are
mixed by the native pass on the tensor's own memory, with the GIL released. Tensors on another device or of
another dtype get the same plan (sampled on the host) applied with torch operations where they live,
`out = w·x + (1 − w)·x[partner]` with the plan's weight map, and copied back; a tensor that needs gradients
gets a new tensor instead. Differences from timm, each deliberate: odd batch sizes are allowed (the middle
sample of a flipped batch is its own partner and stays unmixed), and the random draws come from mixlab's
(seed, epoch, step) stream, not NumPy's global state, so runs replay.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ._config import Streamed, method_entry
from .numpy import labels_array

__all__ = ["Mixup", "FastCollateMixup", "MixUp", "CutMix", "apply_plan", "soft_target_cross_entropy"]


def _timm_methods(mixup_alpha, cutmix_alpha, cutmix_minmax, switch_prob, correct_lam):
    if cutmix_minmax is not None:
        if len(cutmix_minmax) != 2:
            raise ValueError(f"cutmix_minmax must be (min, max), got {cutmix_minmax!r}")
        cutmix_alpha = 1.0  # as timm: minmax boxes ignore α
    if not (0.0 <= switch_prob <= 1.0):
        raise ValueError(f"switch_prob must be in [0, 1], got {switch_prob!r}")
    for name, a in (("mixup_alpha", mixup_alpha), ("cutmix_alpha", cutmix_alpha)):
        if not (isinstance(a, (int, float)) and a >= 0):
            raise ValueError(f"{name} must be a number >= 0, got {a!r}")
    mixup = {"method": "mixup", "alpha": float(mixup_alpha)}
    cutmix = {"method": "cutmix", "alpha": float(cutmix_alpha), "correct_lam": bool(correct_lam), "box_rule": "timm"}
    if cutmix_minmax is not None:
        cutmix["minmax"] = [float(v) for v in cutmix_minmax]
    if mixup_alpha > 0 and cutmix_alpha > 0:
        pairs = [(mixup, 1.0 - switch_prob), (cutmix, switch_prob)]
        return [method_entry(m, w) for m, w in pairs if w > 0]
    if mixup_alpha > 0:
        return [method_entry(mixup)]
    if cutmix_alpha > 0:
        return [method_entry(cutmix)]
    raise ValueError("one of mixup_alpha > 0, cutmix_alpha > 0 or cutmix_minmax is needed")


def apply_plan(plan, x):
    """Applies a plan to a tensor where it lives: `w·x + (1 − w)·p`, p the partners (resized where the
    plan pastes a resized partner). Integer tensors are mixed in float32 and rounded back."""
    out_dtype = x.dtype
    xf = x if x.is_floating_point() else x.float()
    rank = x.dim() - 2
    w = torch.from_numpy(plan.weight_map()).to(device=x.device, dtype=xf.dtype).unsqueeze(1)
    partner = torch.from_numpy(plan.partner).to(x.device)
    p = xf.index_select(0, partner)
    for i, start, end, interp in plan.resized():
        st, en = start[3 - rank:], end[3 - rank:]
        size = [e - s for s, e in zip(st, en)]
        if interp == "nearest":
            r = F.interpolate(xf[partner[i]].unsqueeze(0), size=size, mode="nearest")
        else:
            mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[rank]
            r = F.interpolate(xf[partner[i]].unsqueeze(0), size=size, mode=mode, align_corners=False)
        p[(i, slice(None)) + tuple(slice(s, e) for s, e in zip(st, en))] = r[0]
    out = xf * w + p * (1 - w)
    if out_dtype != xf.dtype:
        out = torch.round(out).clamp_(0, 255).to(out_dtype) if out_dtype == torch.uint8 else out.to(out_dtype)
    return out


def soft_target_cross_entropy(logits, target):
    """timm's SoftTargetCrossEntropy: mean over the batch of −Σ target · log_softmax(logits)."""
    return torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1).mean()


class _TorchMixer(Streamed):
    """The shared machinery: a native mixer, the label side and the two apply paths."""

    def __init__(self, entries, *, prob, mode, pairing, label_smoothing, num_classes, seed, epoch, step=0):
        self._start(entries, num_classes=num_classes, prob=prob, mode=mode, pairing=pairing,
                    label_smoothing=label_smoothing, seed=seed, epoch=epoch, step=step)
        self.label_smoothing = float(label_smoothing)
        self._needs_data = any(m["method"] == "saliencymix" for m in entries)

    def _labels(self, target, batch):
        if not torch.is_tensor(target):
            target = torch.as_tensor(target)
        return labels_array(target.detach().cpu().numpy(), batch)

    def _mix(self, x, target, multi_label=False, inplace=True):
        if not torch.is_tensor(x):
            raise ValueError(f"x must be a torch tensor, got {type(x).__name__}")
        if x.dim() not in (3, 4, 5):
            raise ValueError(f"x must have shape (batch, channels, *spatial) with 1 to 3 spatial dims, got {tuple(x.shape)}")
        batch = len(x)
        if multi_label:
            dense = torch.as_tensor(target)
            if dense.dim() != 2 or dense.shape != (batch, self.num_classes):
                raise ValueError(f"multi-label targets must have shape ({batch}, {self.num_classes}), got {tuple(dense.shape)}")
            labels = np.zeros(batch, dtype=np.int64)
        else:
            labels = self._labels(target, batch)
        native = x.device.type == "cpu" and x.dtype in (torch.float32, torch.uint8) and not x.requires_grad
        inplace = inplace and not x.requires_grad
        if native and inplace and x.is_contiguous():
            # timm mixes x in place; so does this, with the native pass on the tensor's own memory.
            targets, plan = self._native.mix_inplace(x.numpy(), labels, self.num_classes)
            mixed, targets = x, torch.from_numpy(targets)
        elif native:
            mixed, targets, plan = self._native.mix(x.contiguous().numpy(), labels, self.num_classes)
            mixed, targets = torch.from_numpy(mixed), torch.from_numpy(targets)
            if inplace:
                mixed = x.copy_(mixed)
        else:
            data = x.detach().float().cpu().contiguous().numpy() if self._needs_data else None
            plan = self._native.sample(list(x.shape), data)
            mixed = apply_plan(plan, x)
            if inplace:
                mixed = x.copy_(mixed)
            targets = torch.from_numpy(plan.soft_targets(labels, self.num_classes, self.label_smoothing))
        if multi_label:
            s = self.label_smoothing
            y1 = dense.float() * (1.0 - s) + 0.5 * s
            lam = torch.from_numpy(plan.lam).to(y1.device).unsqueeze(1)
            partner = torch.from_numpy(plan.partner).to(y1.device)
            targets = y1 * lam + y1.index_select(0, partner) * (1.0 - lam)
        self.last_plan = plan
        return mixed, targets.to(x.device)


class Mixup(_TorchMixer):
    """timm's `Mixup` with its arguments and defaults; `method=` swaps mixup/cutmix for any host method
    (a name, a (name, weight) list, or dicts with hyper-parameters), `pairing` picks partners (timm flips
    the batch), `seed`/`epoch`/`step` place the stream. `mixup_enabled = False` turns mixing off as in timm."""

    def __init__(self, mixup_alpha=1.0, cutmix_alpha=0.0, cutmix_minmax=None, prob=1.0, switch_prob=0.5,
                 mode="batch", correct_lam=True, label_smoothing=0.1, num_classes=1000, multi_label=False,
                 *, method=None, pairing="flip", seed=0, epoch=0, step=0, **params):
        if method is None:
            if params:
                raise ValueError(f"unknown arguments {sorted(params)} (hyper-parameters need method=)")
            entries = _timm_methods(mixup_alpha, cutmix_alpha, cutmix_minmax, switch_prob, correct_lam)
        elif isinstance(method, (str, dict)):
            entries = [method_entry({**method_entry(method), **params})]
        else:
            entries = [method_entry(m) for m in method]
        super().__init__(entries, prob=prob, mode=mode, pairing=pairing, label_smoothing=label_smoothing,
                         num_classes=num_classes, seed=seed, epoch=epoch, step=step)
        self.mode = mode
        self.multi_label = bool(multi_label)
        self.mixup_enabled = True

    def __call__(self, x, target):
        if not self.mixup_enabled:
            s = self.label_smoothing
            if self.multi_label:
                return x, torch.as_tensor(target).float() * (1.0 - s) + 0.5 * s
            labels = torch.from_numpy(self._labels(target, len(x))).to(x.device)
            off = s / self.num_classes
            return x, torch.full((len(x), self.num_classes), off, device=x.device).scatter_(
                1, labels.view(-1, 1), 1.0 - s + off)
        return self._mix(x, target, self.multi_label)


class FastCollateMixup(Mixup):
    """timm's `FastCollateMixup`: a DataLoader `collate_fn` for uint8 images (NumPy CHW arrays or tensors)
    that returns a mixed uint8 batch and soft targets; mixup rounds to the nearest integer as timm does.
    timm's `half` modes are not offered."""

    def __call__(self, batch, _=None):
        if "half" in self.mode:
            raise ValueError("mode 'half' is not supported; use 'batch', 'pair' or 'elem'")
        if not batch:
            raise ValueError("an empty batch cannot be collated")
        images = [b[0].numpy() if torch.is_tensor(b[0]) else np.asarray(b[0]) for b in batch]
        bad = next((im.dtype for im in images if im.dtype != np.uint8), None)
        if bad is not None:
            raise ValueError(f"images must be uint8, got dtype {bad}")
        target = [b[1] for b in batch]
        if self.multi_label:
            x = torch.from_numpy(np.stack(images))
            return self._mix(x, torch.as_tensor(np.asarray(target)), True)
        labels = labels_array(np.asarray(target), len(batch))
        mixed, targets, self.last_plan = self._native.collate(images, labels, self.num_classes)
        return torch.from_numpy(mixed), torch.from_numpy(targets)


class MixUp(_TorchMixer):
    """torchvision v2 `MixUp(alpha, num_classes)`: one λ per batch, each sample mixed with the previous
    one (`roll(1, 0)`), one-hot targets; a new tensor, as torchvision returns."""

    def __init__(self, *, alpha=1.0, num_classes, seed=0, epoch=0):
        super().__init__([method_entry({"method": "mixup", "alpha": alpha})], prob=1.0, mode="batch",
                         pairing="roll", label_smoothing=0.0, num_classes=num_classes, seed=seed, epoch=epoch)

    def __call__(self, x, labels):
        return self._mix(x, labels, inplace=False)


class CutMix(_TorchMixer):
    """torchvision v2 `CutMix(alpha, num_classes)`: one box per batch (torchvision's box rule), pasted from
    the previous sample, λ corrected to the box area; a new tensor, as torchvision returns."""

    def __init__(self, *, alpha=1.0, num_classes, seed=0, epoch=0):
        entry = method_entry({"method": "cutmix", "alpha": alpha, "box_rule": "torchvision", "correct_lam": True})
        super().__init__([entry], prob=1.0, mode="batch", pairing="roll", label_smoothing=0.0,
                         num_classes=num_classes, seed=seed, epoch=epoch)

    def __call__(self, x, labels):
        return self._mix(x, labels, inplace=False)
