//! The losses of the two-tower runs beside geomix's: M3CoL's mixed contrastive term and SoftCLIP, and
//! CM³'s alignment with calibrated uniformity over spherically fused features
//! ([`mixlab_core::methods::crossmodal`] has their settings, sources and the fixes to the references).

use crate::embed::l2_normalise;
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use mixlab_core::methods::crossmodal::COS_CLAMP;

/// `−Σ_j targets_ij · log_softmax(logits)_ij`, averaged over rows.
fn soft_ce_rows(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    (log_softmax(logits, 1) * targets).sum_dim(1).neg().mean()
}

/// M3CoL's `mixco_nce`: the mixed embeddings `mix` (rows of `targets · e`) must find both their sources
/// among `fix`, scored by cosine over `temperature`, symmetrised with the transposed scores and targets.
pub fn mixco_loss(
    mix: Tensor<2>,
    fix: Tensor<2>,
    targets: Tensor<2>,
    temperature: f64,
) -> Tensor<1> {
    let cos = l2_normalise(mix)
        .matmul(l2_normalise(fix).transpose())
        .div_scalar(temperature);
    (soft_ce_rows(cos.clone(), targets.clone())
        + soft_ce_rows(cos.transpose(), targets.transpose()))
    .div_scalar(2.0)
}

/// SoftCLIP (M3CoL's `soft_clip_loss`): the cross-modal scores `p·tᵀ/τ` against the softmax of the target
/// modality's own similarities `t·tᵀ/τ`, rows and columns, both sides normalised first.
pub fn soft_clip_loss(preds: Tensor<2>, targs: Tensor<2>, temperature: f64) -> Tensor<1> {
    let (p, t) = (l2_normalise(preds), l2_normalise(targs));
    let soft = softmax(
        t.clone()
            .matmul(t.clone().transpose())
            .div_scalar(temperature),
        1,
    );
    let scores = p.matmul(t.transpose()).div_scalar(temperature);
    (soft_ce_rows(scores.clone(), soft.clone()) + soft_ce_rows(scores.transpose(), soft))
        .div_scalar(2.0)
}

/// Row-wise slerp of unit rows with a weight per row (`p`, N×1, on `a`): CM³'s two-modality fusion.
pub fn slerp_rows(a: Tensor<2>, b: Tensor<2>, p: Tensor<2>) -> Tensor<2> {
    let theta = (a.clone() * b.clone())
        .sum_dim(1)
        .clamp(-COS_CLAMP, COS_CLAMP)
        .acos();
    let sin = theta.clone().sin();
    let wa = (theta.clone() * p.clone()).sin() / sin.clone();
    let wb = (theta * p.neg().add_scalar(1.0)).sin() / sin;
    a * wa + b * wb
}

/// The spherical Bézier curve of N×D unit control rows at per-row t (N×1), de Casteljau over slerp (t = 0:
/// the first control, 1: the last).
pub fn bezier_rows(points: Vec<Tensor<2>>, t: Tensor<2>) -> Tensor<2> {
    let mut level = points;
    while level.len() > 1 {
        let w = t.clone().neg().add_scalar(1.0);
        level = level
            .windows(2)
            .map(|pair| slerp_rows(pair[0].clone(), pair[1].clone(), w.clone()))
            .collect();
    }
    level.remove(0)
}

/// The mean over pairs i < j of an N×N matrix.
fn pair_mean(m: Tensor<2>) -> Tensor<1> {
    let n = m.dims()[0];
    let dev = m.device();
    let mut upper = vec![0f32; n * n];
    for i in 0..n {
        for j in i + 1..n {
            upper[i * n + j] = 1.0;
        }
    }
    let upper = Tensor::<2>::from_data(TensorData::new(upper, [n, n]), &dev);
    (m * upper)
        .sum()
        .div_scalar((n * (n - 1) / 2).max(1) as f64)
}

/// Squared distances of unit rows: 2 − 2·x_i·x_j.
fn sq_dist(x: Tensor<2>) -> Tensor<2> {
    x.clone()
        .matmul(x.transpose())
        .mul_scalar(-2.0)
        .add_scalar(2.0)
}

/// The alignment-uniformity uniformity `log mean_{i<j} exp(−2‖x_i − x_j‖²)` of unit rows.
pub fn uniformity(x: Tensor<2>) -> Tensor<1> {
    pair_mean(sq_dist(x).mul_scalar(-2.0).exp()).log()
}

/// CM³'s calibrated uniformity `log mean_{i<j} exp(−2(‖x_i − x_j‖² − 2 + 2·sim_ij))`.
pub fn calibrated_uniformity(x: Tensor<2>, sim: Tensor<2>) -> Tensor<1> {
    pair_mean(
        (sq_dist(x).add_scalar(-2.0) + sim.mul_scalar(2.0))
            .mul_scalar(-2.0)
            .exp(),
    )
    .log()
}

/// CM³'s loss on unit rows `a`, `b` (positive pairs row by row) with fused unit features `fused`:
/// `mean ‖a_i − b_i‖² + γ/2 · (uniformity(a) + calibrated_uniformity(b, clamp(fused·fusedᵀ)))`;
/// `calibrate = false` uses the plain uniformity for `b` too.
pub fn cm3_loss(
    a: Tensor<2>,
    b: Tensor<2>,
    fused: Tensor<2>,
    gamma: f64,
    (min_sim, max_sim): (f64, f64),
    calibrate: bool,
) -> Tensor<1> {
    let align = (a.clone() - b.clone()).powi_scalar(2).sum_dim(1).mean();
    let ub = if calibrate {
        let sim = fused
            .clone()
            .matmul(fused.transpose())
            .clamp(min_sim, max_sim);
        calibrated_uniformity(b, sim)
    } else {
        uniformity(b)
    };
    align + (uniformity(a) + ub).mul_scalar(gamma / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_util::f32s;
    use serde_json::Value;

    fn t(v: Vec<f32>, rows: usize, dev: &Device) -> Tensor<2> {
        let cols = v.len() / rows;
        Tensor::from_data(TensorData::new(v, [rows, cols]), dev)
    }

    fn scalar(x: Tensor<1>) -> f64 {
        f64::from(x.into_data().try_to_vec::<f32>().unwrap()[0])
    }

    fn targets(perm: &[usize], betas: &[f32], dev: &Device) -> Tensor<2> {
        let n = perm.len();
        let m = mixlab_core::methods::crossmodal::mixco_targets(perm, betas).unwrap();
        t(m, n, dev)
    }

    #[test]
    fn losses_match_the_reference_code() {
        // tools/golden/m3col_cm3.py: the references' own functions on fixed inputs.
        let g: Value =
            serde_json::from_str(include_str!("../tests/fixtures/m3col_cm3.json")).unwrap();
        let dev = Device::default();
        let n = g["n"].as_u64().unwrap() as usize;
        let (a, b) = (t(f32s(&g["a"]), n, &dev), t(f32s(&g["b"]), n, &dev));
        let betas: Vec<f32> = g["betas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let perm = |k: &str| -> Vec<usize> {
            g[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect()
        };
        let close = |got: f64, k: &Value| {
            let want = k.as_f64().unwrap();
            assert!(
                (got - want).abs() < 2e-5 * (1.0 + want.abs()),
                "{got} vs {want}"
            );
        };
        // M3CoL: the mix is targets·a, the same matrix the loss scores against.
        let tm = targets(&perm("perm"), &betas, &dev);
        close(
            scalar(mixco_loss(tm.clone().matmul(a.clone()), b.clone(), tm, 0.1)),
            &g["mixco"],
        );
        let tf = targets(&perm("perm_fixed"), &betas, &dev);
        let fixed = scalar(mixco_loss(tf.clone().matmul(a.clone()), b.clone(), tf, 0.1));
        close(fixed, &g["mixco_fixed_added"]);
        assert!((fixed - g["mixco_fixed_reference"].as_f64().unwrap()).abs() > 1e-3);
        close(
            scalar(soft_clip_loss(a.clone(), b.clone(), 0.125)),
            &g["soft_clip"],
        );
        // CM³: the fusion and the loss with and without a clamp.
        let (an, bn) = (l2_normalise(a), l2_normalise(b));
        let p: Vec<f32> = g["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let fused = slerp_rows(an.clone(), bn.clone(), t(p.clone(), n, &dev));
        let want: Vec<f64> = g["fused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let got = fused.clone().into_data().try_to_vec::<f32>().unwrap();
        assert!(
            got.iter()
                .zip(&want)
                .all(|(x, y)| (f64::from(*x) - y).abs() < 1e-5)
        );
        // Two control points: the Bézier curve is the slerp at weight 1 − t on the first.
        let bz = bezier_rows(
            vec![an.clone(), bn.clone()],
            t(p.iter().map(|v| 1.0 - v).collect(), n, &dev),
        );
        let bz = bz.into_data().try_to_vec::<f32>().unwrap();
        assert!(bz.iter().zip(&got).all(|(x, y)| (x - y).abs() < 1e-5));
        for k in ["cm3", "cm3_clamped"] {
            let c = &g[k];
            let range = (
                c["min_sim"].as_f64().unwrap(),
                c["max_sim"].as_f64().unwrap(),
            );
            let gamma = c["gamma"].as_f64().unwrap();
            close(scalar(uniformity(an.clone())), &c["unif"]);
            let sim = fused
                .clone()
                .matmul(fused.clone().transpose())
                .clamp(range.0, range.1);
            close(scalar(calibrated_uniformity(bn.clone(), sim)), &c["unif_i"]);
            close(
                scalar(cm3_loss(
                    an.clone(),
                    bn.clone(),
                    fused.clone(),
                    gamma,
                    range,
                    true,
                )),
                &c["loss"],
            );
        }
    }
}
