//! SupReMix's loss: supervised contrastive regression on unit embeddings with mixed hard pairs (see
//! [`mixlab_core::methods::SupremixConfig`] for the method and where the mixtures come from).

use burn::prelude::*;
use mixlab_core::methods::RegMix;

/// Below this a masked similarity counts as −∞ in the softmax denominator.
const MASKED: f64 = -1e30;

/// Rows scaled to unit length.
fn unit(x: Tensor<2>) -> Tensor<2> {
    // Clamped before the square root: sqrt's gradient at 0 is infinite, and 0·∞ would give NaN for a zero row.
    let n = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .clamp_min(1e-24)
        .sqrt();
    x / n
}

fn index(v: impl Iterator<Item = usize>, dev: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = v.map(|i| i as i64).collect();
    let n = v.len();
    Tensor::<1, Int>::from_data(TensorData::new(v, [n]), dev)
}

/// SupCon over the batch and each anchor's own mixtures: for anchor i the candidates are every other batch
/// row and the mixtures it owns (`lam·z_a + (1 − lam)·z_b`, renormalised); positives are batch rows with
/// |y_j − y_i| ≤ `tolerance` and its hard-positive mixtures. The loss is the mean, over anchors with at least
/// one positive, of −(1/|P_i|) Σ_p log softmax_i(s/τ)_p; 0 (with a graph) when no anchor has a positive.
/// `z` need not be normalised (it is, here).
pub fn supremix_loss(
    z: Tensor<2>,
    y: &[f32],
    mixes: &[RegMix],
    tolerance: f64,
    temperature: f64,
) -> Tensor<1> {
    let dev = z.device();
    let b = y.len();
    let m = mixes.len();
    let z = unit(z);
    let mut sim = z.clone().matmul(z.clone().transpose());
    if m > 0 {
        let lam: Vec<f32> = mixes.iter().map(|x| x.lam).collect();
        let l = Tensor::<2>::from_data(TensorData::new(lam, [m, 1]), &dev);
        let za = z.clone().select(0, index(mixes.iter().map(|x| x.a), &dev));
        let zb = z.clone().select(0, index(mixes.iter().map(|x| x.b), &dev));
        let mixed = unit(za * l.clone() + zb * l.neg().add_scalar(1.0));
        sim = Tensor::cat(vec![sim, z.matmul(mixed.transpose())], 1);
    }
    let cols = b + m;
    let (mut valid, mut pos) = (vec![0f32; b * cols], vec![0f32; b * cols]);
    for i in 0..b {
        for j in (0..b).filter(|&j| j != i) {
            valid[i * cols + j] = 1.0;
            if f64::from((y[j] - y[i]).abs()) <= tolerance {
                pos[i * cols + j] = 1.0;
            }
        }
    }
    for (k, x) in mixes.iter().enumerate() {
        valid[x.owner * cols + b + k] = 1.0;
        if x.positive {
            pos[x.owner * cols + b + k] = 1.0;
        }
    }
    // Each anchor with positives weighs 1/(|P_i|·#anchors), so the sum below is the mean of per-anchor means.
    let counts: Vec<f32> = pos.chunks(cols).map(|r| r.iter().sum()).collect();
    let rows = counts.iter().filter(|&&c| c > 0.0).count();
    if rows == 0 {
        return sim.sum().mul_scalar(0.0);
    }
    for (r, &c) in pos.chunks_mut(cols).zip(&counts) {
        if c > 0.0 {
            r.iter_mut().for_each(|v| *v /= c * rows as f32);
        }
    }
    let valid = Tensor::<2>::from_data(TensorData::new(valid, [b, cols]), &dev);
    let weights = Tensor::<2>::from_data(TensorData::new(pos, [b, cols]), &dev);
    let s = sim.div_scalar(temperature);
    let masked = s.clone() * valid.clone() + (valid - 1.0).mul_scalar(-MASKED);
    let max = masked.clone().max_dim(1).detach();
    let lse = (masked - max.clone()).exp().sum_dim(1).log() + max;
    ((s - lse) * weights).sum().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Mix {
        owner: usize,
        a: usize,
        b: usize,
        lam: f32,
        positive: bool,
    }

    #[derive(Deserialize)]
    struct Case {
        z: Vec<Vec<f32>>,
        y: Vec<f32>,
        mixes: Vec<Mix>,
        tolerance: f64,
        temperature: f64,
        loss: f64,
    }

    #[derive(Deserialize)]
    struct Fixture {
        cases: Vec<Case>,
    }

    fn dev() -> Device {
        Device::flex()
    }

    fn run(c: &Case, dev: &Device) -> f64 {
        let d = c.z[0].len();
        let flat: Vec<f32> = c.z.iter().flatten().copied().collect();
        let z = Tensor::<2>::from_data(TensorData::new(flat, [c.y.len(), d]), dev);
        let mixes: Vec<RegMix> = c
            .mixes
            .iter()
            .map(|m| RegMix {
                owner: m.owner,
                a: m.a,
                b: m.b,
                lam: m.lam,
                positive: m.positive,
            })
            .collect();
        let v: f32 = supremix_loss(z, &c.y, &mixes, c.tolerance, c.temperature).into_scalar();
        f64::from(v)
    }

    #[test]
    fn matches_the_independent_reference_loop() {
        let f: Fixture =
            serde_json::from_str(include_str!("../tests/fixtures/supremix.json")).unwrap();
        let dev = dev();
        assert_eq!(f.cases.len(), 6);
        for (k, c) in f.cases.iter().enumerate() {
            let got = run(c, &dev);
            assert!(
                (got - c.loss).abs() <= 1e-4 * c.loss.abs().max(1.0),
                "case {k}: {got} vs {}",
                c.loss
            );
        }
    }

    #[test]
    fn hard_positives_change_the_loss_and_gradients_flow() {
        let f: Fixture =
            serde_json::from_str(include_str!("../tests/fixtures/supremix.json")).unwrap();
        let dev = dev();
        let mut c = f.cases.into_iter().next().unwrap();
        let with = run(&c, &dev);
        c.mixes.retain(|m| !m.positive);
        let without = run(&c, &dev);
        assert!((with - without).abs() > 1e-3, "{with} {without}");
        let ad = dev.clone().autodiff();
        let z = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], [3, 2]),
            &ad,
        )
        .require_grad();
        let loss = supremix_loss(z.clone(), &[0.0, 0.0, 1.0], &[], 0.0, 0.1);
        let g = z.grad(&loss.backward()).unwrap();
        let total: f32 = g.abs().sum().into_scalar();
        assert!(total.is_finite() && total > 1e-6, "{total}");
    }
}
