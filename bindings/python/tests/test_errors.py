"""Bad input raises ValueError naming the rule and the value; nothing crashes the interpreter."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mixlab
import mixlab.numpy as mn
import mixlab.torch as mt

X = np.zeros((4, 3, 8, 8), dtype=np.float32)
Y = np.array([0, 1, 2, 1])


@pytest.mark.parametrize(
    "make, call, words",
    [
        (lambda: mn.Mixer(num_classes=3), lambda m: m(X.astype(np.float64), Y), "float32 or uint8"),
        (lambda: mn.Mixer(num_classes=3), lambda m: m(X[0, 0], Y), "shape"),
        (lambda: mn.Mixer(num_classes=3), lambda m: m(X, np.array([0, 1, 2, 3])), "labels must be in [0, 3)"),
        (lambda: mn.Mixer(num_classes=3), lambda m: m(X, np.array([0, 1, -1, 2])), "got -1"),
        (lambda: mn.Mixer(num_classes=3), lambda m: m(X, np.array([0.5, 1, 2, 1])), "whole class indices"),
        (lambda: mn.Mixer(num_classes=3), lambda m: m(X, Y[:3]), "one entry per sample"),
        (lambda: mn.Mixer("mixup", num_classes=3, alpha=-1.0), None, "alpha"),
        (lambda: mn.Mixer("mixup", num_classes=3, alpha=float("nan")), None, "alpha"),
        (lambda: mn.Mixer("nosuchmix", num_classes=3), None, "unknown host method 'nosuchmix'"),
        (lambda: mn.Mixer("mixup", num_classes=0), None, "num_classes"),
        (lambda: mn.Mixer("mixup", num_classes=3, prob=1.5), None, "prob must be in [0, 1]"),
        (lambda: mn.Mixer("mixup", num_classes=3, mode="pairs"), None, "mode must be one of"),
        (lambda: mn.Mixer("mixup", num_classes=3, label_smoothing=1.0), None, "label_smoothing"),
        (lambda: mn.Mixer([("mixup", 0.0)], num_classes=3), None, "weight"),
        (lambda: mt.Mixup(mixup_alpha=0.0, cutmix_alpha=0.0), None, "one of mixup_alpha"),
        (lambda: mt.Mixup(mixup_alpha=-0.5), None, "mixup_alpha must be a number >= 0"),
        (lambda: mt.Mixup(num_classes=3), lambda m: m(torch.from_numpy(X), torch.tensor([0, 1, 5, 1])), "labels must be in [0, 3)"),
        (lambda: mt.Mixup(num_classes=3), lambda m: m(torch.zeros(4, 8), torch.tensor(Y)), "shape"),
        (lambda: mt.FastCollateMixup(num_classes=3), lambda m: m([(X[0], 0)]), "uint8"),
        (lambda: mt.FastCollateMixup(num_classes=3),
         lambda m: m([(np.zeros((3, 4, 4), np.uint8), 0), (np.zeros((3, 4, 5), np.uint8), 1)]),
         "samples must share one shape"),
        (lambda: mt.FastCollateMixup(num_classes=3), lambda m: m([]), "empty batch"),
    ],
)
def test_bad_input_is_a_value_error(make, call, words):
    with pytest.raises(ValueError) as e:
        m = make()
        call(m)
    assert words in str(e.value)


def test_model_in_the_loop_methods_are_refused_by_the_native_side():
    with pytest.raises(ValueError, match="needs the model or the training set in the loop"):
        mixlab._native.Mixer('{"methods": [{"weight": 1.0, "method": "puzzlemix"}]}')
    with pytest.raises(ValueError, match="mixer config"):
        mixlab._native.Mixer("{not json")


def test_calibration_input_errors():
    p = np.full((3, 2), 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match="one label per row"):
        mixlab.ece(p, np.array([0, 1]))
    with pytest.raises(ValueError, match="2-D"):
        mixlab.ece(p[0], np.array([0]))
    with pytest.raises(ValueError):
        mixlab.ece(p, np.array([0, 1, 0]), bins=0)
    with pytest.raises(ValueError):
        mixlab.fit_temperature(np.array([[np.nan, 0.0]], dtype=np.float32), np.array([0]))
