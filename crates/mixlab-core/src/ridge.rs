//! Ridge regression in closed form: the linear head fitted on frozen embeddings (SupReMix's evaluation).
//!
//! Minimises ‖y − Xw − b‖² + α‖w‖² with an unpenalised intercept (scikit-learn's `Ridge(alpha)`): the columns
//! and targets are centred, `(XcᵀXc + αI) w = Xcᵀyc` is solved by Cholesky in f64, and `b = ȳ − x̄ᵀw`.

use crate::error::{Error, Result};

/// A fitted linear head: `outputs` targets from `dim` features.
#[derive(Clone, Debug, PartialEq)]
pub struct Ridge {
    /// Number of input features.
    pub dim: usize,
    /// Number of regression targets.
    pub outputs: usize,
    /// Row-major `dim × outputs`.
    pub weights: Vec<f64>,
    /// The unpenalised intercept, one per output: `ȳ − x̄ᵀw`.
    pub bias: Vec<f64>,
}

/// Fits the head on `n` rows of `x` (n × dim) and `y` (n × outputs).
pub fn fit(x: &[f32], dim: usize, y: &[f32], outputs: usize, alpha: f64) -> Result<Ridge> {
    if dim == 0 || outputs == 0 || x.is_empty() || !x.len().is_multiple_of(dim) {
        return Err(Error::param(
            "features",
            "a non-empty n × dim matrix",
            format!("{} values for dim {dim}", x.len()),
        ));
    }
    let n = x.len() / dim;
    if y.len() != n * outputs {
        return Err(Error::param(
            "targets",
            "n × outputs values",
            format!("{} for n = {n}, outputs = {outputs}", y.len()),
        ));
    }
    if !(alpha.is_finite() && alpha >= 0.0) {
        return Err(Error::param("ridge", "a finite number >= 0", alpha));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(Error::Incompatible(
            "ridge head: non-finite feature or target".into(),
        ));
    }
    let mean = |v: &[f32], w: usize| -> Vec<f64> {
        let mut m = vec![0f64; w];
        v.chunks(w)
            .for_each(|r| r.iter().zip(&mut m).for_each(|(&a, s)| *s += f64::from(a)));
        m.iter_mut().for_each(|s| *s /= n as f64);
        m
    };
    let (mx, my) = (mean(x, dim), mean(y, outputs));
    let mut a = vec![0f64; dim * dim];
    let mut rhs = vec![0f64; dim * outputs];
    let mut xc = vec![0f64; dim];
    for (xr, yr) in x.chunks(dim).zip(y.chunks(outputs)) {
        xr.iter()
            .zip(&mx)
            .zip(&mut xc)
            .for_each(|((&v, m), c)| *c = f64::from(v) - m);
        for p in 0..dim {
            for q in p..dim {
                a[p * dim + q] += xc[p] * xc[q];
            }
            for (o, (&t, m)) in yr.iter().zip(&my).enumerate() {
                rhs[p * outputs + o] += xc[p] * (f64::from(t) - m);
            }
        }
    }
    for p in 0..dim {
        a[p * dim + p] += alpha;
        for q in 0..p {
            a[p * dim + q] = a[q * dim + p];
        }
    }
    let l = cholesky(&a, dim).ok_or_else(|| {
        Error::Incompatible(format!(
            "ridge head: the features' covariance is singular (alpha {alpha}); use ridge > 0"
        ))
    })?;
    let mut weights = vec![0f64; dim * outputs];
    for o in 0..outputs {
        let b: Vec<f64> = (0..dim).map(|p| rhs[p * outputs + o]).collect();
        let w = solve(&l, dim, &b);
        (0..dim).for_each(|p| weights[p * outputs + o] = w[p]);
    }
    let bias = (0..outputs)
        .map(|o| {
            my[o]
                - (0..dim)
                    .map(|p| mx[p] * weights[p * outputs + o])
                    .sum::<f64>()
        })
        .collect();
    Ok(Ridge {
        dim,
        outputs,
        weights,
        bias,
    })
}

impl Ridge {
    /// Predictions (n × outputs) for rows of `x` (n × dim).
    pub fn predict(&self, x: &[f32]) -> Result<Vec<f32>> {
        if !x.len().is_multiple_of(self.dim) {
            return Err(Error::param(
                "features",
                "rows of the fitted width",
                format!("{} values for dim {}", x.len(), self.dim),
            ));
        }
        let mut out = Vec::with_capacity(x.len() / self.dim * self.outputs);
        for r in x.chunks(self.dim) {
            for o in 0..self.outputs {
                let v = self.bias[o]
                    + r.iter()
                        .enumerate()
                        .map(|(p, &v)| f64::from(v) * self.weights[p * self.outputs + o])
                        .sum::<f64>();
                out.push(v as f32);
            }
        }
        Ok(out)
    }
}

/// Lower-triangular L with A = LLᵀ, or `None` when A is not (numerically) positive definite.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0f64; d * d];
    let scale = (0..d).map(|i| a[i * d + i].abs()).fold(0f64, f64::max);
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                let v = a[i * d + i] - s;
                // NaN fails this too.
                if v.is_nan() || v <= 1e-12 * scale.max(1e-300) {
                    return None;
                }
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// Solves LLᵀw = b.
fn solve(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    let mut z = vec![0f64; d];
    for i in 0..d {
        z[i] = (b[i] - (0..i).map(|k| l[i * d + k] * z[k]).sum::<f64>()) / l[i * d + i];
    }
    let mut w = vec![0f64; d];
    for i in (0..d).rev() {
        w[i] = (z[i] - (i + 1..d).map(|k| l[k * d + i] * w[k]).sum::<f64>()) / l[i * d + i];
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_linear_map_without_penalty() {
        // y = 2·x0 − 3·x1 + 0.5·x2 + 4 and y2 = −x1 + 1 on 40 points in general position.
        let mut rng = crate::rng::stream(3, crate::rng::Purpose::Split, 0, 0);
        use rand::RngExt;
        let x: Vec<f32> = (0..120).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let y: Vec<f32> = x
            .chunks(3)
            .flat_map(|r| [2.0 * r[0] - 3.0 * r[1] + 0.5 * r[2] + 4.0, -r[1] + 1.0])
            .collect();
        let h = fit(&x, 3, &y, 2, 0.0).unwrap();
        let want = [2.0, 0.0, -3.0, -1.0, 0.5, 0.0];
        for (w, t) in h.weights.iter().zip(want) {
            assert!((w - t).abs() < 1e-4, "{:?}", h.weights);
        }
        assert!((h.bias[0] - 4.0).abs() < 1e-4 && (h.bias[1] - 1.0).abs() < 1e-4);
        let p = h.predict(&x).unwrap();
        assert!(p.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-4));
    }

    #[test]
    fn one_feature_matches_the_closed_form_shrinkage() {
        // w = Σ xc·yc / (Σ xc² + α), b = ȳ − w·x̄.
        let x = [1.0f32, 2.0, 4.0, 7.0];
        let y = [3.0f32, 1.0, 6.0, 5.0];
        let (mx, my) = (3.5f64, 3.75f64);
        let sxy: f64 = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| (f64::from(a) - mx) * (f64::from(b) - my))
            .sum();
        let sxx: f64 = x.iter().map(|&a| (f64::from(a) - mx).powi(2)).sum();
        let h = fit(&x, 1, &y, 1, 2.5).unwrap();
        let w = sxy / (sxx + 2.5);
        assert!((h.weights[0] - w).abs() < 1e-12);
        assert!((h.bias[0] - (my - w * mx)).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(fit(&[1.0, 2.0, 3.0], 2, &[1.0], 1, 0.1).is_err());
        assert!(fit(&[1.0, 2.0], 1, &[1.0], 1, 0.1).is_err());
        assert!(fit(&[1.0, f32::NAN], 1, &[1.0, 2.0], 1, 0.1).is_err());
        assert!(fit(&[1.0, 2.0], 1, &[1.0, 2.0], 1, -1.0).is_err());
        // Constant feature, no penalty: singular.
        let e = fit(&[1.0, 1.0, 1.0], 1, &[1.0, 2.0, 3.0], 1, 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("singular"), "{e}");
        assert!(fit(&[1.0, 1.0, 1.0], 1, &[1.0, 2.0, 3.0], 1, 0.1).is_ok());
    }
}
