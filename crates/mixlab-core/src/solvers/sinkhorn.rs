//! Entropic optimal transport between two sets of points with uniform marginals, in the log domain, as
//! AlignMix's `SinkhornDistance` (`shashankvkt/AlignMixup_CVPR22 @ 0b9de8cb : cifar10_100/utils/OT.py`,
//! itself from gpeyre/SinkhornAutoDiff): cost `C_ij = ‖x_i − y_j‖²`, marginals `1/P` and `1/Q` (with the
//! reference's `+1e-8` inside the log), `M_ij = (−C_ij + u_i + v_j)/ε`,
//! `u ← ε·(ln μ − logsumexp_j M) + u`, then `v ← ε·(ln ν − logsumexp_i M) + v` with the new u, and the plan
//! `π = exp(M)`. The stopping rule is the reference's and couples the batch: after each iteration,
//! stop when the batch mean of `Σ_i |u_i − u_i^prev|` is below the threshold. Computed in f64 (the
//! reference runs in f32).

use crate::error::{Error, Result};
use rayon::prelude::*;

/// Plans for a batch of point-set pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkhornPlans {
    /// `n` row-major `P × Q` plans (each sums to ≈ 1: the marginals are probabilities).
    pub plans: Vec<f64>,
    /// Iterations run (at most `max_iter`).
    pub iterations: usize,
}

/// Solver settings: AlignMix's `eps = 0.1`, `max_iter = 100`, threshold `0.1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sinkhorn {
    /// Entropic regularisation ε (> 0).
    pub eps: f64,
    /// Iteration cap (≥ 1).
    pub max_iter: usize,
    /// Stop once the batch-mean L1 change of u falls below this (≥ 0; 0 runs `max_iter` iterations).
    pub threshold: f64,
}

fn logsumexp(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = v.clone().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.map(|x| (x - m).exp()).sum::<f64>().ln()
}

impl Sinkhorn {
    /// Transport plans between `x` (`n × p × d`) and `y` (`n × q × d`), pair by pair.
    pub fn plans(
        &self,
        x: &[f32],
        y: &[f32],
        n: usize,
        p: usize,
        q: usize,
        d: usize,
    ) -> Result<SinkhornPlans> {
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::param("sinkhorn eps", "finite and > 0", self.eps));
        }
        if self.max_iter == 0 {
            return Err(Error::param("sinkhorn max_iter", ">= 1", 0));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(Error::param(
                "sinkhorn threshold",
                "finite and >= 0",
                self.threshold,
            ));
        }
        if n == 0 || p == 0 || q == 0 || d == 0 {
            return Err(Error::param(
                "sinkhorn sizes n, p, q, d",
                ">= 1 each",
                format!("{n}, {p}, {q}, {d}"),
            ));
        }
        for (what, expected, got) in [
            ("sinkhorn x", n * p * d, x.len()),
            ("sinkhorn y", n * q * d, y.len()),
        ] {
            if expected != got {
                return Err(Error::SizeMismatch {
                    what,
                    expected,
                    got,
                });
            }
        }
        if let Some(bad) = x.iter().chain(y).find(|v| !v.is_finite()) {
            return Err(Error::param("sinkhorn points", "finite", bad));
        }
        // Pairs are independent apart from the stopping rule, so each iteration updates them in
        // parallel and adds their changes up in one fixed order (the same sum, hence the same stop, on
        // any number of threads).
        let cost: Vec<f64> = (0..n * p * q)
            .into_par_iter()
            .map(|k| {
                let (b, i, j) = (k / (p * q), (k / q) % p, k % q);
                let xi = &x[(b * p + i) * d..(b * p + i + 1) * d];
                let yj = &y[(b * q + j) * d..(b * q + j + 1) * d];
                xi.iter()
                    .zip(yj)
                    .map(|(&a, &c)| (f64::from(a) - f64::from(c)).powi(2))
                    .sum()
            })
            .collect();
        let eps = self.eps;
        let ln_mu = (1.0 / p as f64 + 1e-8).ln();
        let ln_nu = (1.0 / q as f64 + 1e-8).ln();
        let (mut u, mut v) = (vec![0.0f64; n * p], vec![0.0f64; n * q]);
        let m = |c: f64, ui: f64, vj: f64| (-c + ui + vj) / eps;
        let mut iterations = 0;
        for _ in 0..self.max_iter {
            let changes: Vec<Vec<f64>> = u
                .par_chunks_mut(p)
                .zip(v.par_chunks_mut(q))
                .zip(cost.par_chunks(p * q))
                .map(|((ub, vb), c)| {
                    let mut change = Vec::with_capacity(p);
                    for i in 0..p {
                        let ui = ub[i];
                        let lse = logsumexp((0..q).map(|j| m(c[i * q + j], ui, vb[j])));
                        let new = eps * (ln_mu - lse) + ui;
                        change.push((new - ui).abs());
                        ub[i] = new;
                    }
                    for j in 0..q {
                        let vj = vb[j];
                        let lse = logsumexp((0..p).map(|i| m(c[i * q + j], ub[i], vj)));
                        vb[j] = eps * (ln_nu - lse) + vj;
                    }
                    change
                })
                .collect();
            iterations += 1;
            // One running sum in pair-then-position order, as a sequential loop would add them.
            let total = changes.iter().flatten().fold(0.0, |acc, c| acc + c);
            if total / (n as f64) < self.threshold {
                break;
            }
        }
        let plans: Vec<f64> = (0..n * p * q)
            .into_par_iter()
            .map(|k| {
                let (b, i, j) = (k / (p * q), (k / q) % p, k % q);
                m(cost[k], u[b * p + i], v[b * q + j]).exp()
            })
            .collect();
        Ok(SinkhornPlans { plans, iterations })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn a_permuted_copy_is_recovered_and_the_marginals_hold() {
        // methods-dynamic.md §4.3 (f): y = x with its 16 positions permuted, 8-D Gaussian points.
        let mut rng = crate::rng::stream(1, crate::rng::Purpose::Init, 0, 0);
        let (p, d) = (16, 8);
        let x: Vec<f32> = (0..p * d)
            .map(|_| rng.random::<f32>() * 4.0 - 2.0)
            .collect();
        let mut perm: Vec<usize> = (0..p).collect();
        rand::seq::SliceRandom::shuffle(perm.as_mut_slice(), &mut rng);
        let y: Vec<f32> = (0..p)
            .flat_map(|j| x[perm[j] * d..(perm[j] + 1) * d].to_vec())
            .collect();
        let s = Sinkhorn {
            eps: 0.1,
            max_iter: 100,
            threshold: 0.1,
        };
        let out = s.plans(&x, &y, 1, p, p, d).unwrap();
        for (j, &source) in perm.iter().enumerate() {
            let col: Vec<f64> = (0..p).map(|i| out.plans[i * p + j]).collect();
            let best = (0..p).max_by(|&a, &b| col[a].total_cmp(&col[b])).unwrap();
            assert_eq!(best, source, "y_j is x_perm[j]");
            // The last update was v's: columns carry ν = 1/16 exactly up to the +1e-8.
            assert!((col.iter().sum::<f64>() - 1.0 / 16.0).abs() < 1e-7);
        }
        // A cap of 0 iterations or a bad ε is refused; ragged input too.
        assert!(
            Sinkhorn { max_iter: 0, ..s }
                .plans(&x, &y, 1, p, p, d)
                .is_err()
        );
        assert!(
            Sinkhorn { eps: 0.0, ..s }
                .plans(&x, &y, 1, p, p, d)
                .is_err()
        );
        assert!(s.plans(&x[1..], &y, 1, p, p, d).is_err());
        let mut nan = x.clone();
        nan[3] = f32::NAN;
        assert!(s.plans(&nan, &y, 1, p, p, d).is_err());
    }

    #[test]
    fn a_zero_threshold_runs_every_iteration_and_a_loose_one_stops_early() {
        let x = [0.0f32, 1.0, 2.0, 3.0];
        let y = [0.5f32, 2.5, 1.5, 3.5];
        let strict = Sinkhorn {
            eps: 1.0,
            max_iter: 7,
            threshold: 0.0,
        };
        assert_eq!(strict.plans(&x, &y, 1, 4, 4, 1).unwrap().iterations, 7);
        let loose = Sinkhorn {
            threshold: 1e9,
            ..strict
        };
        assert_eq!(loose.plans(&x, &y, 1, 4, 4, 1).unwrap().iterations, 1);
    }
}
