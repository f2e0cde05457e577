"""Calibration maths: ECE (equal-width bins with gpleiss's `(b/B, (b+1)/B]` rule, 15 by default),
adaptive ECE, NLL, reliability bins and temperature scaling. Inputs are NumPy arrays or CPU tensors."""

import numpy as np

from . import _native
from .numpy import labels_array


def _rows(name, a):
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples, classes), got shape {a.shape}")
    if a.dtype.kind != "f":
        raise ValueError(f"{name} must be floating point, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _labels(y):
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    return labels_array(y)


def ece(probs, labels, bins=15):
    """Expected calibration error of probabilities (rows sum to 1) against integer labels."""
    return _native.ece(_rows("probs", probs), _labels(labels), bins)


def adaptive_ece(probs, labels, bins=15):
    """ECE with equal-mass bins."""
    return _native.adaptive_ece(_rows("probs", probs), _labels(labels), bins)


def nll(probs, labels):
    """Mean negative log-likelihood of the labels."""
    return _native.nll(_rows("probs", probs), _labels(labels))


def reliability_bins(probs, labels, bins=15):
    """Equal-width bins as dicts: lower, upper, count, mean_conf, accuracy."""
    return _native.reliability_bins(_rows("probs", probs), _labels(labels), bins)


def softmax(logits, temperature=1.0):
    """Row-wise softmax of logits / temperature (float32)."""
    return _native.softmax(_rows("logits", logits), float(temperature))


def fit_temperature(logits, labels):
    """The temperature minimising the NLL of softmax(logits / T) on held-out logits."""
    return _native.fit_temperature(_rows("logits", logits), _labels(labels))


def temperature_scale(val_logits, val_labels, logits=None):
    """Fits T on validation logits; returns (T, softmax(logits / T)) for `logits` (default: the validation ones)."""
    t = fit_temperature(val_logits, val_labels)
    return t, softmax(val_logits if logits is None else logits, t)
