"""Mixer configs in mixlab's JSON vocabulary, checked before they reach the native side."""

import json
import math

from . import _native

MODES = ("batch", "pair", "elem")
PAIRINGS = ("flip", "roll", "permute")


def _number(name, value, lo=None, hi=None, rule=None):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and lo is not None:
        ok = value >= lo
    if ok and hi is not None:
        ok = value <= hi
    if not ok:
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return float(value)


def method_entry(spec, weight=1.0):
    """One weighted method: a name, a (name, weight) pair, or a dict with `method` (and `weight`, params)."""
    if isinstance(spec, str):
        entry = {"method": spec}
    elif isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], (str, dict)):
        entry = method_entry(spec[0])
        weight = spec[1]
    elif isinstance(spec, dict):
        entry = dict(spec)
        weight = entry.pop("weight", weight)
    else:
        raise ValueError(f"a method must be a name, a (name, weight) pair or a dict, got {spec!r}")
    name = entry.get("method")
    if name not in _native.host_methods():
        raise ValueError(f"unknown host method {name!r}; host methods: {', '.join(_native.host_methods())}")
    for key, value in entry.items():
        flat = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, float) and not math.isfinite(v) for v in flat):
            raise ValueError(f"{name} {key} must be finite, got {value!r}")
    entry["weight"] = _number("method weight", weight, rule="a finite number > 0")
    if entry["weight"] <= 0:
        raise ValueError(f"method weight must be a finite number > 0, got {weight!r}")
    return entry


def mixer_json(methods, *, prob=1.0, mode="batch", pairing="flip", label_smoothing=0.0):
    """The native config for a list of method entries."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing must be one of {', '.join(PAIRINGS)}, got {pairing!r}")
    config = {
        "methods": methods,
        "prob": _number("prob", prob, 0.0, 1.0, "in [0, 1]"),
        "granularity": mode,
        "pairing": pairing,
        "label_smoothing": _number("label_smoothing", label_smoothing, 0.0, None, "in [0, 1)"),
    }
    if config["label_smoothing"] >= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
    return json.dumps(config)


def check_classes(num_classes):
    if not (isinstance(num_classes, int) and not isinstance(num_classes, bool) and num_classes >= 1):
        raise ValueError(f"num_classes must be an integer >= 1, got {num_classes!r}")
    return num_classes


def check_seed(name, value):
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64):
        raise ValueError(f"{name} must be an integer in [0, 2^64), got {value!r}")
    return value


class Streamed:
    """What every mixer shares: the native mixer in `_native`, its config and its place in the stream."""

    def _start(self, entries, *, num_classes, prob, mode, pairing, label_smoothing, seed, epoch, step):
        """Checks the options and builds the native mixer at (seed, epoch, step)."""
        self.num_classes = check_classes(num_classes)
        self._native = _native.Mixer(
            mixer_json(entries, prob=prob, mode=mode, pairing=pairing, label_smoothing=label_smoothing),
            check_seed("seed", seed),
            check_seed("epoch", epoch),
            check_seed("step", step),
        )
        self.last_plan = None

    @property
    def config(self):
        """The full config (every default filled in) as a dict."""
        return json.loads(self._native.config_json)

    @property
    def epoch(self):
        return self._native.epoch

    @property
    def step(self):
        """The next batch's step within the epoch (settable, to resume a stream)."""
        return self._native.step

    @step.setter
    def step(self, step):
        self._native.step = check_seed("step", step)

    def set_epoch(self, epoch):
        """Moves the stream to an epoch's first step (call once per epoch, as with a DistributedSampler)."""
        self._native.set_epoch(check_seed("epoch", epoch))

    def __getstate__(self):
        # Pickles (DataLoader workers) carry the config and the stream position, not the last plan.
        return {**self.__dict__, "last_plan": None}
