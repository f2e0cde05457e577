"""Parity with torchvision v2 MixUp and CutMix given mixlab's λ and box."""

import pytest
torch = pytest.importorskip("torch")  # parity tests need PyTorch; skipped where it is not installed

v2 = pytest.importorskip("torchvision.transforms.v2")

import mixlab.torch as mt  # noqa: E402
from conftest import boxes  # noqa: E402


@pytest.mark.parametrize("seed", range(6))
def test_mixup_matches_torchvision(monkeypatch, seed):
    torch.manual_seed(seed)
    x, y = torch.rand(5, 3, 10, 10), torch.randint(0, 4, (5,))
    ours = mt.MixUp(alpha=1.0, num_classes=4, seed=seed)
    xm, t = ours(x, y)
    lam = float(ours.last_plan.lam[0])
    monkeypatch.setattr(v2.MixUp, "make_params", lambda self, flat: dict(lam=lam))
    xt, tt = v2.MixUp(alpha=1.0, num_classes=4)(x, y)
    torch.testing.assert_close(xm, xt, rtol=0, atol=1e-6)
    torch.testing.assert_close(t, tt, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_cutmix_matches_torchvision(monkeypatch, seed):
    torch.manual_seed(seed)
    x, y = torch.rand(5, 3, 13, 11), torch.randint(0, 4, (5,))
    ours = mt.CutMix(alpha=1.0, num_classes=4, seed=seed)
    xm, t = ours(x, y)
    b = boxes(ours.last_plan)[0]
    lam = float(ours.last_plan.lam[0])
    if b is None:  # an empty box: the batch is kept
        b, lam = (0, 0, 0, 0), 1.0
    yl, yh, xl, xh = b
    monkeypatch.setattr(v2.CutMix, "make_params", lambda self, flat: dict(box=(xl, yl, xh, yh), lam_adjusted=lam))
    xt, tt = v2.CutMix(alpha=1.0, num_classes=4)(x, y)
    assert torch.equal(xm, xt)
    torch.testing.assert_close(t, tt, rtol=0, atol=1e-6)
