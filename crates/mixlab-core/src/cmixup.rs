//! C-Mixup partner sampling for regression (Yao et al., NeurIPS'22).
//!
//! Instead of a uniform partner, sample i mixes with j drawn from
//! `P(j | i) ∝ exp(−‖y_i − y_j‖² / (2σ²))` over the whole training set, i itself included (the
//! reference fits a one-point Gaussian KDE on `y_i` with `bandwidth = σ`, scores every label, and
//! normalises each row; its density constant cancels in the normalisation). Labels may be
//! vectors (Euclidean distance), as in the reference.
//!
//! The reference precomputes an N×N table. Here nothing quadratic is stored: the set is sorted once
//! by the first label coordinate, and for an anchor only the window where that coordinate is within
//! `σ·√(2·746)` is visited. Outside it every weight is `exp(−x)` with `x > 746`, which is exactly 0
//! in f64, so the window gives the same probabilities as the full row, bit for bit in the terms
//! that matter. The first coordinate bounds the full distance, so the window is exact for vector
//! labels too.

use crate::error::{Error, Result};
use rand::{Rng, RngExt};

/// `exp(−x)` is exactly 0 in f64 for every `x` above this (the smallest subnormal is `e^−744.4`).
const UNDERFLOW_EXPONENT: f64 = 746.0;

/// Kernel-weighted partner sampler over a fixed training set of regression targets.
#[derive(Clone, Debug)]
pub struct CMixupSampler {
    target_len: usize,
    bandwidth: f64,
    /// `1 / (2σ²)`.
    inv_two_var: f64,
    /// Half-width of the visited window on the first coordinate.
    reach: f64,
    /// Targets as f64 in sorted order (row-major, `target_len` per row).
    sorted: Vec<f64>,
    /// First coordinate of each sorted row, for binary search.
    keys: Vec<f64>,
    /// Original index of each sorted row.
    order: Vec<usize>,
    /// Sorted position of each original index.
    rank: Vec<usize>,
}

impl CMixupSampler {
    /// Builds the sampler over `targets` (N rows of `target_len` values, row-major) with kernel
    /// bandwidth σ = `bandwidth` in label units (the reference's `--kde_bandwidth`).
    pub fn new(targets: &[f32], target_len: usize, bandwidth: f64) -> Result<Self> {
        if !(bandwidth.is_finite() && bandwidth > 0.0) {
            return Err(Error::param("bandwidth", "finite and > 0", bandwidth));
        }
        if target_len == 0 {
            return Err(Error::param("target_len", ">= 1", target_len));
        }
        if targets.is_empty() {
            return Err(Error::param(
                "targets",
                "a non-empty training set",
                "0 values",
            ));
        }
        if !targets.len().is_multiple_of(target_len) {
            return Err(Error::SizeMismatch {
                what: "targets length as a multiple of target_len",
                expected: targets.len().div_ceil(target_len) * target_len,
                got: targets.len(),
            });
        }
        if let Some((at, v)) = targets.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::param(
                "targets",
                "finite",
                format!("{v} at position {at}"),
            ));
        }
        let n = targets.len() / target_len;
        let mut order: Vec<usize> = (0..n).collect();
        // Stable sort: ties keep index order, so the layout is a pure function of the input.
        order.sort_by(|&a, &b| targets[a * target_len].total_cmp(&targets[b * target_len]));
        let mut rank = vec![0; n];
        let mut sorted = Vec::with_capacity(targets.len());
        for (pos, &i) in order.iter().enumerate() {
            rank[i] = pos;
            sorted.extend(
                targets[i * target_len..(i + 1) * target_len]
                    .iter()
                    .map(|&v| f64::from(v)),
            );
        }
        let keys = sorted.iter().step_by(target_len).copied().collect();
        Ok(Self {
            target_len,
            bandwidth,
            inv_two_var: 1.0 / (2.0 * bandwidth * bandwidth),
            reach: bandwidth * (2.0 * UNDERFLOW_EXPONENT).sqrt(),
            sorted,
            keys,
            order,
            rank,
        })
    }

    /// Number of training targets N.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Always false: construction rejects an empty set.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Values per target.
    pub fn target_len(&self) -> usize {
        self.target_len
    }

    /// Kernel bandwidth σ.
    pub fn bandwidth(&self) -> f64 {
        self.bandwidth
    }

    fn check_anchor(&self, anchor: usize) -> Result<()> {
        if anchor >= self.len() {
            return Err(Error::param(
                "anchor",
                "an index into the training set",
                format!("{anchor} (set has {} targets)", self.len()),
            ));
        }
        Ok(())
    }

    /// Sorted positions `lo..hi` that can carry non-zero weight for the anchor at sorted position `p`.
    fn window(&self, p: usize) -> (usize, usize) {
        let key = self.keys[p];
        let lo = self.keys.partition_point(|&k| k < key - self.reach);
        let hi = self.keys.partition_point(|&k| k <= key + self.reach);
        (lo, hi)
    }

    /// Unnormalised kernel weight between sorted rows `p` and `q`.
    fn weight(&self, p: usize, q: usize) -> f64 {
        let d = self.target_len;
        let a = &self.sorted[p * d..(p + 1) * d];
        let b = &self.sorted[q * d..(q + 1) * d];
        let sq: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
        (-sq * self.inv_two_var).exp()
    }

    /// The full sampling row `P(· | anchor)` in original index order (sums to 1; the anchor itself
    /// has the largest weight). O(N) memory; for inspection and tests, not for the training loop.
    pub fn probabilities(&self, anchor: usize) -> Result<Vec<f64>> {
        self.check_anchor(anchor)?;
        let p = self.rank[anchor];
        let (lo, hi) = self.window(p);
        let mut row = vec![0.0; self.len()];
        let mut total = 0.0;
        for q in lo..hi {
            let w = self.weight(p, q);
            row[self.order[q]] = w;
            total += w;
        }
        // total >= 1 (the anchor's own weight), so the division is safe.
        for v in &mut row {
            *v /= total;
        }
        Ok(row)
    }

    /// One partner per anchor, `j ~ P(· | anchor)`, drawn with one uniform number each.
    pub fn partners<R: Rng + ?Sized>(&self, anchors: &[usize], rng: &mut R) -> Result<Vec<usize>> {
        for &a in anchors {
            self.check_anchor(a)?;
        }
        let mut weights = Vec::new();
        let mut out = Vec::with_capacity(anchors.len());
        for &a in anchors {
            let p = self.rank[a];
            let (lo, hi) = self.window(p);
            weights.clear();
            weights.extend((lo..hi).map(|q| self.weight(p, q)));
            let total: f64 = weights.iter().sum();
            let u = rng.random::<f64>() * total;
            // Inverse CDF; rounding can leave u at or above the last partial sum, so fall back to
            // the last position with non-zero weight.
            let mut acc = 0.0;
            let mut pick = None;
            let mut last_nonzero = p - lo;
            for (k, &w) in weights.iter().enumerate() {
                if w > 0.0 {
                    last_nonzero = k;
                }
                acc += w;
                if u < acc {
                    pick = Some(k);
                    break;
                }
            }
            out.push(self.order[lo + pick.unwrap_or(last_nonzero)]);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    /// Reference row computed the slow way: every pair, original order.
    fn naive_row(targets: &[f32], d: usize, sigma: f64, i: usize) -> Vec<f64> {
        let n = targets.len() / d;
        let w: Vec<f64> = (0..n)
            .map(|j| {
                let sq: f64 = (0..d)
                    .map(|k| {
                        let e = f64::from(targets[i * d + k]) - f64::from(targets[j * d + k]);
                        e * e
                    })
                    .sum();
                (-sq / (2.0 * sigma * sigma)).exp()
            })
            .collect();
        let s: f64 = w.iter().sum();
        w.into_iter().map(|x| x / s).collect()
    }

    #[test]
    fn probabilities_match_the_kernel_formula_and_include_self() {
        let y = [3.0f32, -1.0, 2.5, 2.5, 10.0, 0.0, 4.0];
        let s = CMixupSampler::new(&y, 1, 1.3).unwrap();
        for i in 0..y.len() {
            let got = s.probabilities(i).unwrap();
            let want = naive_row(&y, 1, 1.3, i);
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-15, "{i}: {got:?} vs {want:?}");
            }
            let max = got.iter().cloned().fold(0.0, f64::max);
            assert_eq!(got[i], max, "self has the peak weight");
            assert!((got.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn vector_labels_use_euclidean_distance() {
        let y = [0.0f32, 0.0, 0.0, 1.0, 1.0, 1.0, 3.0, -2.0, 0.5, 0.5];
        let s = CMixupSampler::new(&y, 2, 0.8).unwrap();
        for i in 0..5 {
            let got = s.probabilities(i).unwrap();
            let want = naive_row(&y, 2, 0.8, i);
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn window_cut_drops_only_exact_zeros() {
        // Spread far beyond the window: values at distance > reach must have zero weight anyway.
        let y: Vec<f32> = (0..400).map(|k| (k as f32) * 0.37 - 50.0).collect();
        let s = CMixupSampler::new(&y, 1, 0.25).unwrap();
        for i in [0, 17, 200, 399] {
            let got = s.probabilities(i).unwrap();
            let want = naive_row(&y, 1, 0.25, i);
            assert_eq!(got, want, "anchor {i}");
        }
    }

    #[test]
    fn empirical_frequencies_match_the_formula() {
        let y = [0.0f32, 0.5, 1.0, 1.2, 2.5, 4.0];
        let s = CMixupSampler::new(&y, 1, 1.0).unwrap();
        let mut rng = stream(11, Purpose::Mix, 0, 0);
        let draws = 60_000;
        for anchor in [0, 3, 5] {
            let p = s.probabilities(anchor).unwrap();
            let got = s.partners(&vec![anchor; draws], &mut rng).unwrap();
            let mut counts = [0usize; 6];
            for j in got {
                counts[j] += 1;
            }
            // Pearson chi-square over cells with expected count >= 5; 5 d.o.f. at p = 0.001 is 20.5.
            let chi2: f64 = counts
                .iter()
                .zip(&p)
                .filter(|(_, q)| **q * draws as f64 >= 5.0)
                .map(|(&c, q)| {
                    let e = q * draws as f64;
                    (c as f64 - e).powi(2) / e
                })
                .sum();
            assert!(
                chi2 < 20.5,
                "anchor {anchor}: chi2 {chi2}, counts {counts:?}, p {p:?}"
            );
            // Cells too unlikely to test are essentially never hit.
            for (c, q) in counts.iter().zip(&p) {
                if *q < 1e-9 {
                    assert_eq!(*c, 0);
                }
            }
        }
    }

    #[test]
    fn huge_bandwidth_is_uniform_and_tiny_bandwidth_picks_the_nearest() {
        let y = [5.0f32, 1.0, 3.0, 9.0, 2.0];
        let wide = CMixupSampler::new(&y, 1, 1e6).unwrap();
        for i in 0..5 {
            for v in wide.probabilities(i).unwrap() {
                assert!((v - 0.2).abs() < 1e-9);
            }
        }
        // σ tiny: all mass on self (the nearest label is the anchor's own).
        let narrow = CMixupSampler::new(&y, 1, 1e-3).unwrap();
        let mut rng = stream(3, Purpose::Mix, 0, 0);
        let anchors = [0, 1, 2, 3, 4, 4, 3, 2, 1, 0];
        assert_eq!(narrow.partners(&anchors, &mut rng).unwrap(), anchors);
        // With a duplicate label, the mass splits between the two equal labels only.
        let dup = CMixupSampler::new(&[1.0, 7.0, 1.0], 1, 1e-3).unwrap();
        assert_eq!(dup.probabilities(0).unwrap(), vec![0.5, 0.0, 0.5]);
    }

    #[test]
    fn same_seed_same_partners_and_different_seed_differs() {
        let y: Vec<f32> = (0..300).map(|k| ((k * 37) % 101) as f32 * 0.1).collect();
        let s = CMixupSampler::new(&y, 1, 0.7).unwrap();
        let anchors: Vec<usize> = (0..300).collect();
        let a = s
            .partners(&anchors, &mut stream(5, Purpose::Mix, 1, 2))
            .unwrap();
        let b = s
            .partners(&anchors, &mut stream(5, Purpose::Mix, 1, 2))
            .unwrap();
        let c = s
            .partners(&anchors, &mut stream(6, Purpose::Mix, 1, 2))
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|&j| j < 300));
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let y = [1.0f32, 2.0, 3.0, 4.0];
        for bw in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                CMixupSampler::new(&y, 1, bw),
                Err(Error::InvalidParam {
                    name: "bandwidth",
                    ..
                })
            ));
        }
        assert!(CMixupSampler::new(&[], 1, 1.0).is_err());
        assert!(CMixupSampler::new(&y, 0, 1.0).is_err());
        assert!(matches!(
            CMixupSampler::new(&y, 3, 1.0),
            Err(Error::SizeMismatch { got: 4, .. })
        ));
        let err = CMixupSampler::new(&[1.0, f32::NAN], 1, 1.0).unwrap_err();
        assert!(err.to_string().contains("NaN at position 1"), "{err}");
        let s = CMixupSampler::new(&y, 2, 1.0).unwrap();
        assert_eq!((s.len(), s.target_len()), (2, 2));
        assert!(s.probabilities(2).is_err());
        let mut rng = stream(0, Purpose::Mix, 0, 0);
        assert!(s.partners(&[0, 2], &mut rng).is_err());
    }
}
