"""Mixing plain NumPy arrays with any of mixlab's host methods."""

import json

import numpy as np

from ._config import Streamed, method_entry


def labels_array(labels, batch=None):
    """Integer labels as a contiguous int64 vector (ValueError for floats that are not whole numbers)."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class indices, got shape {y.shape}")
    if batch is not None and len(y) != batch:
        raise ValueError(f"labels must have one entry per sample: batch {batch}, got {len(y)} labels")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("labels must be whole class indices, got non-integer values")
    elif y.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    return np.ascontiguousarray(y, dtype=np.int64)


def batch_array(x):
    """A batch as a C-contiguous float32 or uint8 array (other dtypes are refused, not converted)."""
    a = np.asarray(x)
    if a.dtype not in (np.float32, np.uint8):
        raise ValueError(f"x must be float32 or uint8, got dtype {a.dtype}")
    if a.ndim not in (3, 4, 5):
        raise ValueError(f"x must have shape (batch, channels, *spatial) with 1 to 3 spatial dims, got {a.shape}")
    return np.ascontiguousarray(a)


class Mixer(Streamed):
    """A host mixer: one method or a weighted choice of several, with its own replayable stream.

        mixer = mixlab.numpy.Mixer("cutmix", num_classes=10, alpha=1.0, seed=0)
        x_mixed, targets = mixer(x, labels)             # x: (B, C, *spatial) float32 or uint8
        mixer = Mixer([("mixup", 0.5), ("cutmix", 0.5)], num_classes=10)

    `mode` picks which samples share one draw (`batch`, `pair`, `elem`; a `maskmix` batch shares only λ,
    each sample draws its own patches), `pairing` how partners are
    chosen (`flip`: j = B-1-i as timm; `roll`; `permute`: a random permutation), `prob` the chance a group
    is mixed at all; `seed`, `epoch` and `step` place the stream. Extra keyword arguments are the single method's hyper-parameters
    (`mixlab.method_defaults(name)` lists them).
    """

    def __init__(self, method="mixup", *, num_classes, prob=1.0, mode="batch", pairing="flip",
                 label_smoothing=0.0, seed=0, epoch=0, step=0, **params):
        if isinstance(method, (str, dict)):
            entries = [method_entry({**method_entry(method), **params})]
        else:
            if params:
                raise ValueError("hyper-parameters go inside each method's dict when several methods are given")
            entries = [method_entry(m) for m in method]
            if not entries:
                raise ValueError("at least one method is needed")
        self._start(entries, num_classes=num_classes, prob=prob, mode=mode, pairing=pairing,
                    label_smoothing=label_smoothing, seed=seed, epoch=epoch, step=step)

    def sample(self, shape, data=None):
        """The next batch's plan for a batch shape (B, C, *spatial) without touching any data."""
        if data is not None:
            data = np.ascontiguousarray(data, dtype=np.float32)
        return self._native.sample(list(shape), data)

    def plan(self, shape, data=None):
        """The next batch's plan as a JSON-compatible dict (partners, per-sample weights, λ, methods)."""
        return json.loads(self.sample(shape, data).to_json())

    def __call__(self, x, labels):
        """Mixes a batch: returns (mixed batch, soft targets (B, num_classes) float32)."""
        x = batch_array(x)
        mixed, targets, self.last_plan = self._native.mix(x, labels_array(labels, len(x)), self.num_classes)
        return mixed, targets


def mix(x, labels, method="mixup", *, num_classes, seed=0, epoch=0, step=0, **kwargs):
    """One batch mixed with the stream of (seed, epoch, step): `mix(x, y, "cutmix", num_classes=10, step=3)`."""
    return Mixer(method, num_classes=num_classes, seed=seed, epoch=epoch, step=step, **kwargs)(x, labels)


def plan(shape, method="mixup", *, seed=0, epoch=0, step=0, **kwargs):
    """The plan of (seed, epoch, step) for a batch shape, as a JSON-compatible dict."""
    return Mixer(method, num_classes=1, seed=seed, epoch=epoch, step=step, **kwargs).plan(shape)
