//! AlignMix (Venkataramanan et al., CVPR'22): mix the **last feature maps** of two images after aligning
//! their spatial positions by entropic optimal transport, so that one image's parts land on the other's.
//!
//! Follows the official CIFAR code (`shashankvkt/AlignMixup_CVPR22 @ 0b9de8cb`,
//! `cifar10_100/models/resnet18_classifier.py`: `Resnet_classifier.forward`, `mixup_aligned`;
//! `cifar10_100/utils/OT.py`; `cifar10_100/main.py`):
//! - λ ~ Beta(α, α) once per batch (`alpha = 2`), a random permutation as partners, labels `(y_a, y_b, λ)`;
//! - each step, with probability ½ (`input_prob`), plain input mixup; otherwise the aligned mix of the last
//!   feature map `A` (N×C×S, S = h·w) with its partner's `A'`: `P = Sinkhorn(Aᵀ, A'ᵀ)` (ε = 0.1, 100
//!   iterations, threshold 0.1, [`crate::solvers::sinkhorn`]), detached, `R = P·S`; then with probability ½
//!   each ([`AlignDirection`]) `mix = λ·A + (1 − λ)·A'Rᵀ`, or `mix = λ·AR + (1 − λ)·A'`;
//! - the loss is `λ·CE(y_a) + (1 − λ)·CE(y_b)`, i.e. soft-target cross-entropy against the plan's targets.
//!
//! OpenMixup always aligns and never takes the input branch: `input_prob = 0`. Features are not
//! normalised (as the reference), so with ε = 0.1 the plan is close to a hard assignment.
//! The step's random draws, in order: the plan (λ, partners), the branch, the direction.

use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::solvers::sinkhorn::Sinkhorn;
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// AlignMix hyper-parameters, the official CIFAR defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlignmixConfig {
    /// Beta concentration α of λ (default 2).
    pub alpha: f64,
    /// Probability of a step taking plain input mixup instead of the aligned mix (default 0.5; OpenMixup 0).
    pub input_prob: f64,
    /// Sinkhorn's entropic regularisation ε (default 0.1).
    pub eps: f64,
    /// Sinkhorn's iteration cap (default 100).
    pub max_iter: usize,
    /// Sinkhorn's stopping threshold on the batch-mean L1 change of its dual u (default 0.1).
    pub threshold: f64,
}

impl Default for AlignmixConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            input_prob: 0.5,
            eps: 0.1,
            max_iter: 100,
            threshold: 0.1,
        }
    }
}

/// Which image is re-arranged onto the other's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlignDirection {
    /// `λ·A + (1 − λ)·A'Rᵀ`: the partner's features moved to the sample's positions (reference branch 0).
    PartnerToSample,
    /// `λ·AR + (1 − λ)·A'`: the sample's features moved to the partner's positions (reference branch 1).
    SampleToPartner,
}

impl AlignmixConfig {
    /// The solver these settings describe.
    pub fn sinkhorn(&self) -> Sinkhorn {
        Sinkhorn {
            eps: self.eps,
            max_iter: self.max_iter,
            threshold: self.threshold,
        }
    }

    /// Whether this step mixes the inputs (true) or aligns the last feature maps; one draw.
    pub fn draw_input_branch<R: Rng + ?Sized>(&self, rng: &mut R) -> bool {
        rng.random::<f64>() < self.input_prob
    }

    /// The direction of an aligned step; one draw.
    pub fn draw_direction<R: Rng + ?Sized>(rng: &mut R) -> AlignDirection {
        if rng.random::<bool>() {
            AlignDirection::SampleToPartner
        } else {
            AlignDirection::PartnerToSample
        }
    }

    /// The assignment matrices `R = P·S` (n row-major S×S, f32: row i is a position of the sample, column j
    /// one of its partner's) for features `n × c × s` and each sample's partner.
    pub fn assignments(
        &self,
        features: &[f32],
        n: usize,
        c: usize,
        s: usize,
        partner: &[usize],
    ) -> Result<(Vec<f32>, usize)> {
        if features.len() != n * c * s {
            return Err(Error::SizeMismatch {
                what: "alignmix features (N x C x S)",
                expected: n * c * s,
                got: features.len(),
            });
        }
        if partner.len() != n || partner.iter().any(|&j| j >= n) {
            return Err(Error::param(
                "alignmix partners",
                "one per sample, each below the batch size",
                format!("{partner:?}"),
            ));
        }
        // Points are positions: transpose each C×S map to S×C.
        let points = |i: usize| -> Vec<f32> {
            let f = &features[i * c * s..(i + 1) * c * s];
            (0..s)
                .flat_map(|pos| (0..c).map(move |ch| f[ch * s + pos]))
                .collect()
        };
        let x: Vec<f32> = (0..n).flat_map(points).collect();
        let y: Vec<f32> = partner.iter().flat_map(|&j| points(j)).collect();
        let out = self.sinkhorn().plans(&x, &y, n, s, s, c)?;
        Ok((
            out.plans.iter().map(|&p| (p * s as f64) as f32).collect(),
            out.iterations,
        ))
    }

    /// The aligned mix on the host (the device path in mixlab-burn computes the same): features `n × c × s`,
    /// assignments from [`Self::assignments`], λ per sample.
    pub fn mix_host(
        features: &[f32],
        dims: [usize; 3],
        partner: &[usize],
        assign: &[f32],
        lam: &[f32],
        direction: AlignDirection,
    ) -> Vec<f32> {
        let [n, c, s] = dims;
        let mut out = vec![0.0f32; n * c * s];
        for i in 0..n {
            let a = &features[i * c * s..(i + 1) * c * s];
            let b = &features[partner[i] * c * s..(partner[i] + 1) * c * s];
            let r = &assign[i * s * s..(i + 1) * s * s];
            let l = lam[i];
            for ch in 0..c {
                for pos in 0..s {
                    let v = match direction {
                        // (A'Rᵀ)[ch, pos] = Σ_j A'[ch, j]·R[pos, j]
                        AlignDirection::PartnerToSample => {
                            let moved: f32 = (0..s).map(|j| b[ch * s + j] * r[pos * s + j]).sum();
                            l * a[ch * s + pos] + (1.0 - l) * moved
                        }
                        // (AR)[ch, pos] = Σ_i A[ch, i]·R[i, pos]
                        AlignDirection::SampleToPartner => {
                            let moved: f32 = (0..s).map(|k| a[ch * s + k] * r[k * s + pos]).sum();
                            l * moved + (1.0 - l) * b[ch * s + pos]
                        }
                    };
                    out[(i * c + ch) * s + pos] = v;
                }
            }
        }
        out
    }
}

impl MixMethod for AlignmixConfig {
    const NAME: &'static str = "alignmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        check_alpha("alignmix alpha", self.alpha)?;
        check_range(
            "alignmix input_prob",
            self.input_prob,
            0.0,
            1.0,
            "in [0, 1]",
        )?;
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::param(
                "alignmix eps",
                "a finite number > 0",
                self.eps,
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::param("alignmix max_iter", ">= 1", 0));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(Error::param(
                "alignmix threshold",
                "a finite number >= 0",
                self.threshold,
            ));
        }
        // It aligns the positions of a CNN's last 2-D feature map.
        if shape.spatial().len() != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.spatial().len(),
            });
        }
        Ok(())
    }

    /// λ ~ Beta(α, α) as a blend: the input branch mixes with it as mixup does.
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let lam = sample_beta(self.alpha, self.alpha, rng)? as f32;
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_partners_align_to_themselves_and_bad_settings_are_refused() {
        // Two samples, 3 channels, 4 positions; each is its own partner: R ≈ I (the loose stopping rule
        // leaves about 1 % on a near position), so both directions give about A.
        let f: Vec<f32> = (0..24)
            .map(|i| ((i * 7) % 5) as f32 - 2.0 + i as f32 * 0.3)
            .collect();
        let cfg = AlignmixConfig::default();
        let (r, its) = cfg.assignments(&f, 2, 3, 4, &[0, 1]).unwrap();
        assert!(its >= 1);
        for i in 0..2 {
            for p in 0..4 {
                for q in 0..4 {
                    let want = if p == q { 1.0 } else { 0.0 };
                    assert!(
                        (r[i * 16 + p * 4 + q] - want).abs() < 1e-2,
                        "R[{i}][{p}][{q}] in {r:?} after {its}"
                    );
                }
            }
        }
        for d in [
            AlignDirection::PartnerToSample,
            AlignDirection::SampleToPartner,
        ] {
            let m = AlignmixConfig::mix_host(&f, [2, 3, 4], &[0, 1], &r, &[0.3, 0.8], d);
            for (a, b) in m.iter().zip(&f) {
                assert!((a - b).abs() < 0.05, "{a} vs {b}");
            }
        }
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        assert!(cfg.validate(&shape).is_ok());
        assert!(cfg.validate(&SampleShape::d1(1, 8).unwrap()).is_err());
        for bad in [
            AlignmixConfig {
                alpha: -1.0,
                ..cfg.clone()
            },
            AlignmixConfig {
                input_prob: 1.5,
                ..cfg.clone()
            },
            AlignmixConfig {
                eps: 0.0,
                ..cfg.clone()
            },
            AlignmixConfig {
                max_iter: 0,
                ..cfg.clone()
            },
            AlignmixConfig {
                threshold: f64::NAN,
                ..cfg.clone()
            },
        ] {
            assert!(bad.validate(&shape).is_err(), "{bad:?}");
        }
        assert!(cfg.assignments(&f, 2, 3, 4, &[0, 2]).is_err());
        assert!(cfg.assignments(&f[1..], 2, 3, 4, &[0, 1]).is_err());
    }
}
