"""mixlab: mixup-family data augmentation and calibration, computed by mixlab's Rust core.

    import mixlab.torch
    mixup_fn = mixlab.torch.Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, num_classes=1000)
    x, y = mixup_fn(x, y)          # timm's semantics; soft targets for SoftTargetCrossEntropy

`mixlab.numpy` mixes plain arrays (float32 or uint8, 1-D, 2-D or 3-D samples) with any host method by name;
`mixlab.calibration` has ECE (15 equal-width bins by default, gpleiss's edge rule), reliability bins and
temperature scaling. Every mixer keeps its own (seed, epoch, step) stream: rebuilt with the same seed, it
replays the same batches.
"""

from ._native import Plan, host_methods, method_defaults
from .calibration import adaptive_ece, ece, fit_temperature, nll, reliability_bins, softmax, temperature_scale
from .numpy import Mixer

__all__ = [
    "Mixer",
    "Plan",
    "adaptive_ece",
    "ece",
    "fit_temperature",
    "host_methods",
    "method_defaults",
    "nll",
    "reliability_bins",
    "softmax",
    "temperature_scale",
]
__version__ = "0.1.0"
