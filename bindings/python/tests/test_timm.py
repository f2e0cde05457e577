"""Parity with timm's Mixup and FastCollateMixup given mixlab's λ and boxes (timm's draws are patched to
return the ones mixlab's plan made; everything else is timm's own code)."""

import numpy as np
import pytest
torch = pytest.importorskip("torch")  # parity tests need PyTorch; skipped where it is not installed

timm_mixup = pytest.importorskip("timm.data.mixup")

import mixlab.torch as mt  # noqa: E402
from conftest import boxes  # noqa: E402


def replay_in_timm(monkeypatch, plan, mode):
    """Makes timm draw what `plan` drew: per-batch or per-element λ and cutmix choice, and the boxes."""
    lam = plan.lam.astype(np.float64)
    bxs = boxes(plan)
    pasted = [b is not None for b in bxs]
    queue = [(b, float(lam[i])) for i, b in enumerate(bxs) if b is not None]
    if mode == "batch":
        monkeypatch.setattr(timm_mixup.Mixup, "_params_per_batch", lambda self: (float(lam[0]), pasted[0]))
        queue = queue[:1]
    else:
        n = len(lam) // 2 if mode == "pair" else len(lam)
        monkeypatch.setattr(
            timm_mixup.Mixup,
            "_params_per_elem",
            lambda self, b: (plan.lam[:n].copy(), np.array(pasted[:n])),
        )
    calls = iter(queue)

    def bbox(img_shape, lam, ratio_minmax=None, correct_lam=True, count=None):
        box, corrected = next(calls)
        return box, corrected

    monkeypatch.setattr(timm_mixup, "cutmix_bbox_and_lam", bbox)


@pytest.mark.parametrize("mode", ["batch", "pair", "elem"])
@pytest.mark.parametrize("seed", range(6))
def test_mixup_matches_timm(monkeypatch, mode, seed):
    torch.manual_seed(seed)
    x = torch.rand(8, 3, 16, 12)
    y = torch.randint(0, 10, (8,))
    ours = mt.Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, mode=mode, label_smoothing=0.1, num_classes=10, seed=seed)
    xm, t = ours(x.clone(), y)
    replay_in_timm(monkeypatch, ours.last_plan, mode)
    theirs = timm_mixup.Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, mode=mode, label_smoothing=0.1, num_classes=10)
    xt, tt = theirs(x.clone(), y)
    torch.testing.assert_close(xm, xt, rtol=0, atol=1e-6)
    torch.testing.assert_close(t, tt.float(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("mode", ["batch", "pair", "elem"])
@pytest.mark.parametrize("seed", range(4))
def test_fast_collate_matches_timm(monkeypatch, mode, seed):
    rng = np.random.default_rng(seed)
    batch = [(rng.integers(0, 256, (3, 16, 16), dtype=np.uint8), int(rng.integers(0, 5))) for _ in range(6)]
    ours = mt.FastCollateMixup(mixup_alpha=1.0, cutmix_alpha=1.0, mode=mode, label_smoothing=0.0, num_classes=5,
                               seed=seed)
    xm, t = ours([(a.copy(), b) for a, b in batch])
    replay_in_timm(monkeypatch, ours.last_plan, mode)
    theirs = timm_mixup.FastCollateMixup(mixup_alpha=1.0, cutmix_alpha=1.0, mode=mode, label_smoothing=0.0,
                                         num_classes=5)
    xt, tt = theirs([(a.copy(), b) for a, b in batch])
    assert xm.dtype == torch.uint8
    assert torch.equal(xm, xt)
    torch.testing.assert_close(t, tt.float(), rtol=0, atol=1e-6)


def test_defaults_and_disabled_mixing_follow_timm():
    ours = mt.Mixup(num_classes=7)
    theirs = timm_mixup.Mixup(num_classes=7)
    assert ours.config["methods"][0]["method"] == "mixup" and ours.config["methods"][0]["alpha"] == theirs.mixup_alpha
    assert ours.label_smoothing == theirs.label_smoothing
    ours.mixup_enabled = theirs.mixup_enabled = False
    x, y = torch.rand(4, 1, 5, 5), torch.tensor([0, 6, 2, 2])
    xo, to = ours(x, y)
    xt, tt = theirs(x.clone(), y)
    assert torch.equal(xo, xt)
    torch.testing.assert_close(to, tt)


def test_multi_label_targets_mix_like_timm(monkeypatch):
    x = torch.rand(4, 3, 8, 8)
    dense = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    ours = mt.Mixup(mixup_alpha=1.0, num_classes=3, multi_label=True, label_smoothing=0.2, seed=2)
    _, t = ours(x, dense)
    replay_in_timm(monkeypatch, ours.last_plan, "batch")
    _, tt = timm_mixup.Mixup(mixup_alpha=1.0, num_classes=3, multi_label=True, label_smoothing=0.2)(x.clone(), dense)
    torch.testing.assert_close(t, tt, rtol=0, atol=1e-6)
