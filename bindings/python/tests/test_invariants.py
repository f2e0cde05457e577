"""What every host method must satisfy, through the Python API: targets are distributions, prob 0 is the
identity, odd batches work, streams replay and survive pickling, and the torch device path equals the
native fused pass."""

import pickle

import numpy as np
import pytest

import mixlab
import mixlab.numpy as mn

SHAPES = {1: (7, 2, 40), 2: (7, 3, 16, 16), 3: (7, 2, 8, 8, 8)}


def batch(rank, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(SHAPES[rank], dtype=np.float32)
    return (x * 255).astype(np.uint8) if dtype == np.uint8 else x


def runs(method, rank):
    """False where the method refuses the rank (with a ValueError, checked here)."""
    try:
        mn.Mixer(method, num_classes=3).sample(SHAPES[rank], batch(rank, np.float32))
        return True
    except ValueError as e:
        assert "does not support" in str(e)
        return False


@pytest.mark.parametrize("method", mixlab.host_methods())
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_targets_are_distributions_and_odd_batches_work(method, rank, dtype):
    if not runs(method, rank):
        pytest.skip(f"{method} refuses {rank}-D samples")
    x = batch(rank, dtype)
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    m = mn.Mixer(method, num_classes=3, seed=4, label_smoothing=0.1)
    for _ in range(3):
        xm, t = m(x, y)
        assert xm.shape == x.shape and xm.dtype == x.dtype
        np.testing.assert_allclose(t.sum(axis=1), 1.0, atol=1e-6)
        assert (t >= 0).all()
        # With flip pairing the middle sample of an odd batch is its own partner: unchanged, one-hot.
        assert np.array_equal(xm[3], x[3])
        assert t[3].argmax() == y[3] and t[3].max() == pytest.approx(0.9 + 0.1 / 3)


@pytest.mark.parametrize("method", mixlab.host_methods())
def test_prob_zero_is_the_identity(method):
    x = batch(2, np.float32)
    xm, t = mn.Mixer(method, num_classes=3, prob=0.0)(x, np.zeros(7, dtype=np.int64))
    assert np.array_equal(xm, x)
    assert np.array_equal(t, np.eye(3, dtype=np.float32)[np.zeros(7, dtype=int)])


@pytest.mark.parametrize("method", mixlab.host_methods())
def test_same_seed_same_batches_and_pickles_keep_the_stream(method):
    x, y = batch(2, np.float32), np.arange(7) % 3
    a = mn.Mixer(method, num_classes=3, seed=11)
    first = a(x, y)
    b = pickle.loads(pickle.dumps(a))
    c = mn.Mixer(method, num_classes=3, seed=11)
    c(x, y)
    nxt_a, nxt_b, nxt_c = a(x, y), b(x, y), c(x, y)
    assert np.array_equal(nxt_a[0], nxt_b[0]) and np.array_equal(nxt_b[0], nxt_c[0])
    assert np.array_equal(nxt_a[1], nxt_c[1])
    fresh = mn.Mixer(method, num_classes=3, seed=11)
    assert np.array_equal(fresh(x, y)[0], first[0])
    fresh.set_epoch(1)
    assert fresh.step == 0 and fresh.epoch == 1


@pytest.mark.parametrize("method", mixlab.host_methods())
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_device_path_equals_the_native_pass(method, rank):
    torch = pytest.importorskip("torch")
    import mixlab.torch as mt

    if not runs(method, rank):
        pytest.skip(f"{method} refuses {rank}-D samples")
    x = torch.from_numpy(batch(rank, np.float32, seed=rank))
    y = torch.arange(7) % 3
    fast = mt.Mixup(method=method, num_classes=3, seed=5, label_smoothing=0.0)
    slow = mt.Mixup(method=method, num_classes=3, seed=5, label_smoothing=0.0)
    for _ in range(3):
        xf, tf = fast(x.clone(), y)
        xs, ts = slow(x.double(), y)  # float64: the torch path
        assert xs.dtype == torch.float64
        torch.testing.assert_close(xs.float(), xf, rtol=0, atol=1e-5)
        torch.testing.assert_close(ts, tf, rtol=0, atol=1e-6)


def test_uint8_device_path_rounds_like_the_native_pass():
    torch = pytest.importorskip("torch")
    import mixlab.torch as mt

    x = torch.from_numpy(batch(2, np.uint8))
    y = torch.arange(7) % 3
    a, b = mt.Mixup(num_classes=3, seed=1), mt.Mixup(num_classes=3, seed=1)
    xa, _ = a(x.clone(), y)
    plan = b._native.sample(list(x.shape))
    xb = mt.apply_plan(plan, x)
    assert xb.dtype == torch.uint8
    assert (xa.int() - xb.int()).abs().max() <= 1  # f32 rounding of the blend on either side


def test_plan_is_json_compatible_and_replays():
    p1 = mn.plan((6, 3, 8, 8), "cutmix", seed=2, step=5)
    p2 = mn.plan((6, 3, 8, 8), "cutmix", seed=2, step=5)
    assert p1 == p2 and len(p1["partner"]) == 6 and p1["weights"][0]["kind"] in ("paste", "keep")
    x = batch(2, np.float32)[:6]
    xm, _ = mn.mix(x, np.zeros(6, dtype=np.int64), "cutmix", num_classes=2, seed=2, step=5)
    m = mn.Mixer("cutmix", num_classes=2, seed=2)
    m.step = 5
    assert np.array_equal(m.sample(x.shape).apply(x), xm)
    assert np.array_equal(mn.Mixer("cutmix", num_classes=2, seed=2, step=5)(x, np.zeros(6, dtype=np.int64))[0], xm)


def test_weighted_methods_and_hyper_parameters():
    m = mn.Mixer([("mixup", 0.3), {"method": "cutmix", "alpha": 0.5, "weight": 0.7}], num_classes=4)
    cfg = m.config["methods"]
    assert [c["method"] for c in cfg] == ["mixup", "cutmix"] and cfg[1]["alpha"] == 0.5
    assert mn.Mixer("fmix", num_classes=4, decay_power=2.0).config["methods"][0]["decay_power"] == 2.0


def test_mixup_mixes_in_place_as_timm_does_and_torchvision_classes_do_not():
    torch = pytest.importorskip("torch")
    import mixlab.torch as mt

    y = torch.tensor([0, 1, 2, 0])
    keep = torch.rand(4, 3, 8, 8)
    for x in (keep.clone(), keep.clone().double()):  # the native pass and the torch path
        out, _ = mt.Mixup(mixup_alpha=1.0, num_classes=3, seed=1)(x, y)
        assert out is x and not torch.equal(x.float(), keep)
    x = keep.clone()
    out, _ = mt.MixUp(alpha=1.0, num_classes=3, seed=1)(x, y)
    assert out is not x and torch.equal(x, keep)
    x = keep.clone().requires_grad_()
    out, _ = mt.Mixup(num_classes=3, seed=1)(x, y)
    assert out is not x and torch.equal(x.detach(), keep) and out.requires_grad
