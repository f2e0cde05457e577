"""Masks and boxes through a plan: the mixed mask names, at every pixel a sample fills whole, the sample and
position the mixed pixel came from; boxes are clipped to what survives."""

import numpy as np
import pytest

import mixlab.numpy as mn

METHODS = ["mixup", "cutmix", "fmix", "resizemix", "gridmix", "smoothmix", "maskmix", "saliencymix"]


@pytest.mark.parametrize("method", METHODS)
def test_masks_follow_the_pixels(method):
    b, h, w = 6, 16, 16
    n = h * w
    codes = np.arange(b * n, dtype=np.int64).reshape(b, h, w)
    x = codes.astype(np.float32).reshape(b, 1, h, w)
    mixer = mn.Mixer(method, num_classes=2, mode="elem", seed=3)
    mixed, _ = mixer(x, np.zeros(b, dtype=np.int64))
    plan = mixer.last_plan
    mm = plan.mix_masks(codes)
    wmap = plan.weight_map()
    hard = (wmap == 1.0) | ((wmap == 0.0) & ~_linear_rows(plan, b, h, w))
    assert mm.shape == codes.shape and mm.dtype == np.int64
    np.testing.assert_array_equal(mixed[:, 0][hard], mm[hard].astype(np.float32))
    # Where a sample keeps more than half, its own label shows.
    own = wmap >= 0.5
    np.testing.assert_array_equal(mm[own], codes[own])


def _linear_rows(plan, b, h, w):
    out = np.zeros((b, h, w), dtype=bool)
    for i, _start, _end, interp in plan.resized():
        out[i] = interp == "linear"
    return out


def test_boxes_survive_a_cutmix_box():
    mixer = mn.Mixer("cutmix", num_classes=2, seed=0, mode="elem")
    x = np.zeros((2, 1, 8, 8), dtype=np.float32)
    mixer(x, np.array([0, 1]))
    plan = mixer.last_plan
    whole = ([0, 0, 0], [1, 8, 8])
    out = plan.mix_boxes([[(*whole, 1)], [(*whole, 2)]], min_visible=0.0)
    assert len(out) == 2
    for i, boxes in enumerate(out):
        share = float(plan.weight_map()[i].mean())
        weights = {c: wt for _s, _e, c, wt in boxes}
        own, partner = (1, 2) if i == 0 else (2, 1)
        if share > 0.0:
            assert weights[own] == pytest.approx(share, abs=1e-6)
        if share < 1.0:
            assert weights[partner] == pytest.approx(1.0 - share, abs=1e-6)
    with pytest.raises(ValueError, match="inside the sample"):
        plan.mix_boxes([[([0, 0, 0], [1, 9, 8], 1)], []])
    with pytest.raises(ValueError, match="masks must have shape"):
        plan.mix_masks(np.zeros((2, 8, 7), dtype=np.int64))
