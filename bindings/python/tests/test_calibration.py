"""Calibration against plain NumPy re-derivations of the same definitions."""

import numpy as np
import pytest

import mixlab


def ece_reference(probs, labels, bins=15):
    """gpleiss's temperature_scaling ECE: bins (b/B, (b+1)/B], |acc − conf| weighted by the bin's share."""
    conf = probs.max(1).astype(np.float64)
    correct = probs.argmax(1) == labels
    total = 0.0
    edges = np.linspace(0, 1, bins + 1)
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


@pytest.mark.parametrize("seed", range(5))
def test_ece_and_nll_match_numpy(seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(500, 7)).astype(np.float32) * 3
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
    labels = rng.integers(0, 7, 500)
    assert mixlab.ece(probs, labels) == pytest.approx(ece_reference(probs, labels), abs=1e-6)
    assert mixlab.ece(probs, labels, bins=10) == pytest.approx(ece_reference(probs, labels, 10), abs=1e-6)
    nll = -np.log(probs[np.arange(500), labels].astype(np.float64)).mean()
    assert mixlab.nll(probs, labels) == pytest.approx(nll, rel=1e-5)
    bins = mixlab.reliability_bins(probs, labels)
    assert len(bins) == 15 and sum(b["count"] for b in bins) == 500
    np.testing.assert_allclose(mixlab.softmax(logits), probs, atol=1e-6)


def test_temperature_minimises_the_nll():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 2000)
    logits = rng.normal(size=(2000, 5)).astype(np.float32)
    logits[np.arange(2000), labels] += 2.0
    logits *= 4.0  # overconfident
    t = mixlab.fit_temperature(logits, labels)

    def nll_at(temp):
        z = logits / temp
        z = z - z.max(1, keepdims=True)
        return -(z[np.arange(2000), labels] - np.log(np.exp(z).sum(1))).mean()

    grid = np.linspace(0.5, 10, 2000)
    best = grid[np.argmin([nll_at(g) for g in grid])]
    assert t == pytest.approx(best, abs=0.01)
    t2, scaled = mixlab.temperature_scale(logits, labels)
    assert t2 == t and mixlab.ece(scaled, labels) < mixlab.ece(mixlab.softmax(logits), labels)
