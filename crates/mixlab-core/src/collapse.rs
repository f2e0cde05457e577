//! Neural-collapse measures of a labelled feature set (Papyan, Han & Donoho, PNAS 2020).
//!
//! With class means μ_c, the global mean μ_G = mean of the class means (as in Papyan et al.'s and
//! Han et al.'s code; equal to the sample mean on balanced data), centred means m_c = μ_c − μ_G,
//! Σ_W = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ and Σ_B = (1/C) Σ_c m_c m_cᵀ:
//! - NC1 = tr(Σ_W Σ_B^†) / C;
//! - equinorm = std_c ‖m_c‖ / mean_c ‖m_c‖ (sample std, n − 1, as `torch.std` in the reference);
//! - equiangularity = mean over c ≠ c' of |cos(m_c, m_c') + 1/(C − 1)|;
//! - ETF distance = ‖G/‖G‖_F − (I − 11ᵀ/C)/√(C − 1)‖_F with G_cc' = m_c·m_c', i.e. the distance
//!   between the unit-Frobenius Gram of the centred means and that of a simplex ETF (tding1's
//!   `compute_ETF`, Wu & Papyan's `simplex_etf_error`).
//!
//! Σ_B has rank ≤ C − 1 (the centred means sum to zero), so its pseudo-inverse lives in the span of
//! the m_c. Rather than eigendecompose the dim×dim Σ_B, this module decomposes the C×C Gram
//! MᵀM/C (same non-zero eigenvalues λ_k; eigenvectors u_k = M v_k/√(Cλ_k)) with Jacobi in f64 and
//! computes tr(Σ_W Σ_B^†) = Σ_k u_kᵀ Σ_W u_k / λ_k without forming Σ_W. Eigenvalues at or below
//! `max(dim, C)·ε·λ_max` count as zero, the cut `scipy.linalg.pinv` and `torch.linalg.pinv` make.
//! Cost O(N·dim·C + C³), independent of dim².
//!
//! A class with no samples is an error: the reference code has no mean for it and fails.

use crate::error::{Error, Result};

/// Neural-collapse statistics of one feature set.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Collapse {
    /// NC1: tr(Σ_W Σ_B^†)/C (dimensionless; → 0 under collapse).
    pub nc1: f64,
    /// NC2 equinorm: coefficient of variation of the centred class-mean norms (→ 0).
    pub equinorm: f64,
    /// NC2 equiangularity: mean |cos + 1/(C−1)| over distinct class pairs (→ 0).
    pub equiangularity: f64,
    /// NC2: Frobenius distance of the normalised Gram of centred means to the simplex ETF's (→ 0).
    pub etf_distance: f64,
    /// tr(Σ_W), feature units squared.
    pub within_trace: f64,
    /// tr(Σ_B), feature units squared.
    pub between_trace: f64,
}

/// Measures neural collapse of `features` (N rows of `dim` values, row-major) with class `labels`
/// in `0..classes`. Every class must have at least one sample; `classes >= 2`.
pub fn neural_collapse(
    features: &[f32],
    dim: usize,
    labels: &[usize],
    classes: usize,
) -> Result<Collapse> {
    if dim == 0 {
        return Err(Error::param("dim", ">= 1", dim));
    }
    if classes < 2 {
        return Err(Error::param("classes", ">= 2", classes));
    }
    if features.len() != labels.len() * dim {
        return Err(Error::SizeMismatch {
            what: "features (labels × dim values)",
            expected: labels.len() * dim,
            got: features.len(),
        });
    }
    if let Some((at, v)) = features.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::param(
            "features",
            "finite",
            format!("{v} at position {at}"),
        ));
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(Error::LabelOutOfRange {
            label,
            index,
            classes,
        });
    }
    let n = labels.len();

    let mut means = vec![0.0f64; classes * dim];
    let mut counts = vec![0usize; classes];
    for (h, &y) in features.chunks_exact(dim).zip(labels) {
        counts[y] += 1;
        for (m, &v) in means[y * dim..(y + 1) * dim].iter_mut().zip(h) {
            *m += f64::from(v);
        }
    }
    if let Some(c) = counts.iter().position(|&k| k == 0) {
        return Err(Error::param(
            "labels",
            "to give every class at least one sample",
            format!("class {c} of {classes} has none"),
        ));
    }
    for (m, &k) in means.chunks_exact_mut(dim).zip(&counts) {
        m.iter_mut().for_each(|v| *v /= k as f64);
    }
    let mut global = vec![0.0f64; dim];
    for m in means.chunks_exact(dim) {
        global.iter_mut().zip(m).for_each(|(g, v)| *g += v);
    }
    global.iter_mut().for_each(|g| *g /= classes as f64);
    // Centred means, one row per class.
    let centred: Vec<f64> = means
        .chunks_exact(dim)
        .flat_map(|m| m.iter().zip(&global).map(|(a, b)| a - b))
        .collect();

    let mut gram = vec![0.0f64; classes * classes];
    for a in 0..classes {
        for b in a..classes {
            let g = dot(row(&centred, dim, a), row(&centred, dim, b));
            gram[a * classes + b] = g;
            gram[b * classes + a] = g;
        }
    }
    let norms: Vec<f64> = (0..classes).map(|c| gram[c * classes + c].sqrt()).collect();
    if let Some(c) = norms.iter().position(|&v| v == 0.0) {
        return Err(Error::param(
            "features",
            "to give every class a mean apart from the global mean",
            format!("class {c} sits on it"),
        ));
    }

    let cf = classes as f64;
    let mean_norm = norms.iter().sum::<f64>() / cf;
    let var_norm = norms.iter().map(|v| (v - mean_norm).powi(2)).sum::<f64>() / (cf - 1.0);
    let equinorm = var_norm.sqrt() / mean_norm;

    let mut coherence = 0.0;
    let gram_fro = gram.iter().map(|g| g * g).sum::<f64>().sqrt();
    let etf_scale = 1.0 / (cf - 1.0).sqrt();
    let mut etf_sq = 0.0;
    for a in 0..classes {
        for b in 0..classes {
            let g = gram[a * classes + b];
            if a != b {
                coherence += (g / (norms[a] * norms[b]) + 1.0 / (cf - 1.0)).abs();
            }
            let etf = (if a == b { 1.0 } else { 0.0 } - 1.0 / cf) * etf_scale;
            etf_sq += (g / gram_fro - etf).powi(2);
        }
    }
    let equiangularity = coherence / (cf * (cf - 1.0));

    // Eigenpairs of MᵀM/C, the non-zero spectrum of Σ_B.
    let mut between = gram.iter().map(|g| g / cf).collect::<Vec<_>>();
    let between_trace = (0..classes).map(|c| between[c * classes + c]).sum();
    let (eigvals, eigvecs) = jacobi_eigen(&mut between, classes);
    let lam_max = eigvals.iter().cloned().fold(0.0, f64::max);
    let cut = dim.max(classes) as f64 * f64::EPSILON * lam_max;
    // Unit eigenvectors of Σ_B in feature space for the kept eigenvalues, as rows.
    let mut kept_vals = Vec::new();
    let mut basis = Vec::new();
    for (k, &lam) in eigvals.iter().enumerate() {
        if lam <= cut {
            continue;
        }
        let scale = 1.0 / (cf * lam).sqrt();
        let start = basis.len();
        basis.resize(start + dim, 0.0);
        for c in 0..classes {
            let w = eigvecs[c * classes + k] * scale;
            for (u, m) in basis[start..].iter_mut().zip(row(&centred, dim, c)) {
                *u += w * m;
            }
        }
        kept_vals.push(lam);
    }

    let mut proj_sq = vec![0.0f64; kept_vals.len()];
    let mut within_trace = 0.0;
    let mut resid = vec![0.0f64; dim];
    for (h, &y) in features.chunks_exact(dim).zip(labels) {
        for ((r, &v), m) in resid.iter_mut().zip(h).zip(row(&means, dim, y)) {
            *r = f64::from(v) - m;
        }
        within_trace += dot(&resid, &resid);
        for (p, u) in proj_sq.iter_mut().zip(basis.chunks_exact(dim)) {
            *p += dot(&resid, u).powi(2);
        }
    }
    let nf = n as f64;
    let nc1 = proj_sq
        .iter()
        .zip(&kept_vals)
        .map(|(p, lam)| p / nf / lam)
        .sum::<f64>()
        / cf;

    Ok(Collapse {
        nc1,
        equinorm,
        equiangularity,
        etf_distance: etf_sq.sqrt(),
        within_trace: within_trace / nf,
        between_trace,
    })
}

fn row(m: &[f64], dim: usize, r: usize) -> &[f64] {
    &m[r * dim..(r + 1) * dim]
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Cyclic Jacobi eigendecomposition of the symmetric n×n row-major `a` (destroyed). Returns the
/// eigenvalues and the eigenvectors as columns of an n×n row-major matrix. Converges quadratically;
/// the sweep cap is a guard, not a tuning knob.
fn jacobi_eigen(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    debug_assert_eq!(a.len(), n * n);
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let total: f64 = a.iter().map(|x| x * x).sum();
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q] * a[p * n + q])
            .sum();
        if off <= total * 1e-32 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                a[p * n + q] = 0.0;
                a[q * n + p] = 0.0;
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};
    use rand::RngExt;

    #[test]
    fn jacobi_reconstructs_a_symmetric_matrix() {
        let n = 6;
        let mut rng = stream(1, Purpose::Init, 0, 0);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in i..n {
                let x: f64 = rng.random_range(-1.0..1.0);
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        let orig = a.clone();
        let (vals, vecs) = jacobi_eigen(&mut a, n);
        for i in 0..n {
            for j in 0..n {
                let rec: f64 = (0..n)
                    .map(|k| vecs[i * n + k] * vals[k] * vecs[j * n + k])
                    .sum();
                assert!((rec - orig[i * n + j]).abs() < 1e-12);
                let ortho: f64 = (0..n).map(|k| vecs[k * n + i] * vecs[k * n + j]).sum();
                assert!((ortho - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }

    /// A perfect simplex ETF with no within-class spread: every measure is 0.
    #[test]
    fn collapsed_simplex_scores_zero() {
        // Four classes at the vertices of a regular tetrahedron in 3-D (centred, equal norms).
        let verts = [
            [1.0f32, 1.0, 1.0],
            [1.0, -1.0, -1.0],
            [-1.0, 1.0, -1.0],
            [-1.0, -1.0, 1.0],
        ];
        let mut feats = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..3 {
            for (c, v) in verts.iter().enumerate() {
                feats.extend(v.iter().map(|x| x * 2.0 + 0.5));
                labels.push(c);
            }
        }
        let m = neural_collapse(&feats, 3, &labels, 4).unwrap();
        assert!(m.nc1.abs() < 1e-12, "{m:?}");
        assert!(m.equinorm.abs() < 1e-12);
        assert!(m.equiangularity.abs() < 1e-12);
        assert!(m.etf_distance.abs() < 1e-12);
        assert_eq!(m.within_trace, 0.0);
    }

    #[test]
    fn nc1_matches_an_explicit_inverse_on_a_two_class_problem() {
        // Two classes in 1-D: Σ_B = m², Σ_W = within variance, NC1 = Σ_W / Σ_B / 2.
        let feats = [0.0f32, 2.0, 10.0, 12.0, 14.0];
        let labels = [0, 0, 1, 1, 1];
        let m = neural_collapse(&feats, 1, &labels, 2).unwrap();
        let (mu0, mu1) = (1.0f64, 12.0f64);
        let g = (mu0 + mu1) / 2.0;
        let sb = ((mu0 - g).powi(2) + (mu1 - g).powi(2)) / 2.0;
        let sw = (1.0 + 1.0 + 4.0 + 0.0 + 4.0) / 5.0;
        assert!((m.nc1 - sw / sb / 2.0).abs() < 1e-14, "{m:?}");
        assert!((m.within_trace - sw).abs() < 1e-14);
        assert!((m.between_trace - sb).abs() < 1e-14);
        // Two centred means are always antipodal with equal norms: NC2 holds trivially.
        assert!(m.equinorm.abs() < 1e-14 && m.equiangularity.abs() < 1e-14);
    }

    #[test]
    fn more_within_spread_raises_nc1() {
        let mut rng = stream(4, Purpose::Init, 0, 0);
        let (dim, classes, per) = (5, 3, 20);
        let centres: Vec<f32> = (0..classes * dim)
            .map(|_| rng.random_range(-3.0..3.0))
            .collect();
        let noise: Vec<f32> = (0..classes * per * dim)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let labels: Vec<usize> = (0..classes * per).map(|i| i % classes).collect();
        let make = |s: f32| -> Vec<f32> {
            (0..classes * per * dim)
                .map(|k| centres[labels[k / dim] * dim + k % dim] + s * noise[k])
                .collect()
        };
        let a = neural_collapse(&make(0.1), dim, &labels, classes)
            .unwrap()
            .nc1;
        let b = neural_collapse(&make(1.0), dim, &labels, classes)
            .unwrap()
            .nc1;
        assert!(a > 0.0 && b > a * 10.0, "{a} {b}");
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let f = [0.0f32, 1.0, 2.0, 3.0];
        assert!(neural_collapse(&f, 0, &[0, 1], 2).is_err());
        assert!(neural_collapse(&f, 2, &[0, 1], 1).is_err());
        assert!(matches!(
            neural_collapse(&f, 2, &[0, 1, 1], 2),
            Err(Error::SizeMismatch { .. })
        ));
        assert!(matches!(
            neural_collapse(&f, 2, &[0, 2], 2),
            Err(Error::LabelOutOfRange { label: 2, .. })
        ));
        let err = neural_collapse(&f, 2, &[0, 0], 2).unwrap_err();
        assert!(err.to_string().contains("class 1 of 2 has none"), "{err}");
        let err = neural_collapse(&[0.0, f32::NAN, 2.0, 3.0], 2, &[0, 1], 2).unwrap_err();
        assert!(err.to_string().contains("NaN at position 1"), "{err}");
        assert!(neural_collapse(&[1.0, 1.0, 1.0, 1.0], 2, &[0, 1], 2).is_err());
    }
}
