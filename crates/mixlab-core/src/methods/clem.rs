//! Regression as sequence generation with CLEM, "curriculum learning with embedding mixup" (Ma et al.,
//! "Generative Regression Based Watch Time Prediction", arXiv 2412.20211). No public code exists and only the
//! abstract and summaries could be read, so everything below is our reading, each open choice named:
//!
//! - **Tokenizer** ([`QuantileCode`]): a target is mapped through the empirical CDF of the training targets
//!   (piecewise linear between the sorted distinct values: monotone, so bijective on the training range) to
//!   u ∈ [0, 1], and u is written as `digits` base-`vocab` digits, most significant first. Decoding takes the
//!   centre of the finest bin and maps it back through the inverse CDF. The quantile map is the paper's
//!   "data-driven vocabulary via quantiles"; the round-trip error is below one finest bin (1/vocab^digits
//!   of the CDF), the "near-lossless reconstruction".
//! - **Decoder**: the regressor's network encodes the features into the first hidden state of a GRU that
//!   emits the digits one by one (a BOS token first); inference decodes greedily.
//! - **CLEM**: in training, the input embedding after step t is `α·E[y_t] + (1 − α)·ê_t`, with ê_t the
//!   embedding of the model's own prediction at step t: `softmax(z_t/τ)·E` (`soft`, default) or `E[argmax z_t]`
//!   (`hard`). ê is detached (no gradient into the previous step's logits through the mix; recorded here
//!   because the paper does not say). α(s) moves from 1 (teacher forcing) to `alpha_min` over the run's
//!   steps: linear, exponential `alpha_min^(s/S)`, or Bengio et al.'s inverse sigmoid `k/(k + e^{s/k})`.
//! - **Loss**: token cross-entropy, mean over the digits; no value-regression term.
//!
//! `curriculum = false` is the control: teacher forcing throughout (α = 1).

use super::{Draw, DrawCtx, MixMethod};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How α decays from 1 to `alpha_min` over the training steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlphaSchedule {
    /// `1 − (1 − α_min)·s/S`.
    Linear,
    /// `α_min^(s/S)` (needs α_min > 0).
    Exponential,
    /// `max(α_min, k/(k + e^{s/k}))` with `k` = [`ClemConfig::k`] (scheduled sampling's inverse sigmoid).
    InverseSigmoid,
}

/// Which embedding of its own prediction the decoder is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Predicted {
    /// The probability-weighted mean embedding `softmax(z/τ)·E`.
    Soft,
    /// The embedding of the arg-max token.
    Hard,
}

/// CLEM's settings (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClemConfig {
    /// Digit alphabet size (default 10).
    pub vocab: usize,
    /// Digits per value (default 3: 1 000 CDF bins).
    pub digits: usize,
    /// Width of the token embeddings and of the GRU state, which is the network's output (default 64).
    pub dim: usize,
    /// Mix embeddings on the curriculum (default true); false trains with teacher forcing throughout.
    pub curriculum: bool,
    /// The decay of α (default linear).
    pub schedule: AlphaSchedule,
    /// The α the schedule ends at (default 0: free generation at the end).
    pub alpha_min: f64,
    /// The inverse sigmoid's k, in steps (default 100).
    pub k: f64,
    /// Soft or hard predicted embeddings (default soft).
    pub predicted: Predicted,
    /// Temperature of the soft predicted embedding (default 1).
    pub tau: f64,
}

impl Default for ClemConfig {
    fn default() -> Self {
        Self {
            vocab: 10,
            digits: 3,
            dim: 64,
            curriculum: true,
            schedule: AlphaSchedule::Linear,
            alpha_min: 0.0,
            k: 100.0,
            predicted: Predicted::Soft,
            tau: 1.0,
        }
    }
}

impl ClemConfig {
    /// α at training step `s` of `total` (1 throughout without the curriculum).
    pub fn alpha_at(&self, s: usize, total: usize) -> f64 {
        if !self.curriculum {
            return 1.0;
        }
        let frac = s as f64 / total.max(1) as f64;
        let a = match self.schedule {
            AlphaSchedule::Linear => 1.0 - (1.0 - self.alpha_min) * frac,
            AlphaSchedule::Exponential => self.alpha_min.powf(frac),
            AlphaSchedule::InverseSigmoid => self.k / (self.k + (s as f64 / self.k).exp()),
        };
        a.clamp(self.alpha_min, 1.0)
    }
}

impl MixMethod for ClemConfig {
    const NAME: &'static str = "clem";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        if !(2..=256).contains(&self.vocab) {
            return Err(Error::param(
                "vocab",
                "a digit alphabet of 2..=256",
                self.vocab,
            ));
        }
        if !(1..=8).contains(&self.digits) {
            return Err(Error::param("digits", "1..=8 digits", self.digits));
        }
        super::embedding::check_dim(self.dim)?;
        super::check_range("alpha_min", self.alpha_min, 0.0, 1.0, "a number in [0, 1]")?;
        if self.schedule == AlphaSchedule::Exponential && self.alpha_min <= 0.0 {
            return Err(Error::param(
                "alpha_min",
                "a number in (0, 1] for the exponential schedule",
                self.alpha_min,
            ));
        }
        if !(self.k.is_finite() && self.k >= 1.0) {
            return Err(Error::param("k", "a finite number >= 1", self.k));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(Error::param("tau", "a finite number > 0", self.tau));
        }
        Ok(())
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        // Nothing is mixed at the input: CLEM mixes the decoder's token embeddings.
        Ok(Draw {
            weight: SampleWeight::Keep,
            lam_label: 1.0,
        })
    }
}

/// The value ↔ digits code (see the module docs): the training targets' empirical CDF, written in base
/// `vocab` with `digits` digits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantileCode {
    /// The distinct training targets, ascending (the CDF's knots).
    knots: Vec<f64>,
    vocab: usize,
    digits: usize,
}

impl QuantileCode {
    /// The code of the training targets `y` (finite, at least two distinct values).
    pub fn fit(y: &[f32], vocab: usize, digits: usize) -> Result<Self> {
        if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
            return Err(Error::param("target", "finite regression targets", bad));
        }
        let mut knots: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
        knots.sort_by(f64::total_cmp);
        knots.dedup();
        if knots.len() < 2 {
            return Err(Error::Incompatible(
                "a token code needs at least two distinct training targets".into(),
            ));
        }
        Ok(Self {
            knots,
            vocab,
            digits,
        })
    }

    /// The number of finest bins, vocab^digits.
    pub fn bins(&self) -> usize {
        self.vocab.pow(self.digits as u32)
    }

    /// CDF position u ∈ [0, 1] of `y` (clamped to the training range): knot i sits at i/(n − 1), linear
    /// between knots.
    pub fn cdf(&self, y: f64) -> f64 {
        let k = &self.knots;
        let n = k.len();
        if y <= k[0] {
            return 0.0;
        }
        if y >= k[n - 1] {
            return 1.0;
        }
        let i = k.partition_point(|&v| v <= y) - 1;
        (i as f64 + (y - k[i]) / (k[i + 1] - k[i])) / (n - 1) as f64
    }

    /// The inverse of [`cdf`](Self::cdf) on [0, 1].
    pub fn inverse(&self, u: f64) -> f64 {
        let k = &self.knots;
        let n = k.len();
        let t = u.clamp(0.0, 1.0) * (n - 1) as f64;
        let i = (t.floor() as usize).min(n - 2);
        k[i] + (t - i as f64) * (k[i + 1] - k[i])
    }

    /// The digits of `y`, most significant first.
    pub fn encode(&self, y: f64) -> Vec<usize> {
        let bins = self.bins();
        let mut b = ((self.cdf(y) * bins as f64).floor() as usize).min(bins - 1);
        let mut d = vec![0; self.digits];
        for slot in d.iter_mut().rev() {
            *slot = b % self.vocab;
            b /= self.vocab;
        }
        d
    }

    /// The value of `digits` (each below vocab): the inverse CDF at the centre of their finest bin.
    pub fn decode(&self, digits: &[usize]) -> f64 {
        let b = digits.iter().fold(0usize, |acc, &d| acc * self.vocab + d);
        self.inverse((b as f64 + 0.5) / self.bins() as f64)
    }

    /// The width in target units of the finest bin around `y`: the round trip's error bound there.
    pub fn bin_width_at(&self, y: f64) -> f64 {
        let bins = self.bins() as f64;
        let b = (self.cdf(y) * bins).floor().min(bins - 1.0);
        self.inverse((b + 1.0) / bins) - self.inverse(b / bins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};
    use rand::RngExt;

    #[test]
    fn the_code_round_trips_within_a_bin_and_keeps_order() {
        let mut rng = stream(1, Purpose::Split, 0, 0);
        // Skewed targets, like watch times: most mass low, a long tail.
        let y: Vec<f32> = (0..500)
            .map(|_| (rng.random_range(0.0f32..1.0)).powi(3) * 100.0)
            .collect();
        let code = QuantileCode::fit(&y, 10, 3).unwrap();
        let mut prev = (0usize, Vec::new());
        let mut sorted = y.clone();
        sorted.sort_by(f32::total_cmp);
        for &v in &sorted {
            let d = code.encode(v as f64);
            assert!(d.iter().all(|&x| x < 10));
            let back = code.decode(&d);
            let w = code.bin_width_at(v as f64);
            assert!(
                (back - v as f64).abs() <= w + 1e-9,
                "{v} -> {d:?} -> {back} (bin {w})"
            );
            // Monotone: a larger value never gets a smaller code.
            let b = d.iter().fold(0, |a, &x| a * 10 + x);
            assert!(b >= prev.0, "{v}: {d:?} after {:?}", prev.1);
            prev = (b, d);
        }
        // The extremes land in the first and last bins; out-of-range values clamp.
        assert_eq!(code.encode(-5.0), vec![0, 0, 0]);
        assert_eq!(code.encode(1e9), vec![9, 9, 9]);
        // Quantile bins: the dense low range gets fine bins, the tail coarse ones.
        assert!(code.bin_width_at(sorted[10] as f64) < code.bin_width_at(sorted[490] as f64));
    }

    #[test]
    fn bad_targets_and_settings_are_refused() {
        assert!(QuantileCode::fit(&[1.0, f32::NAN], 10, 2).is_err());
        assert!(QuantileCode::fit(&[2.0, 2.0], 10, 2).is_err());
        let s = SampleShape::new(1, &[5]).unwrap();
        assert!(ClemConfig::default().validate(&s).is_ok());
        for bad in [
            ClemConfig {
                vocab: 1,
                ..Default::default()
            },
            ClemConfig {
                digits: 0,
                ..Default::default()
            },
            ClemConfig {
                alpha_min: 1.5,
                ..Default::default()
            },
            ClemConfig {
                schedule: AlphaSchedule::Exponential,
                ..Default::default()
            },
            ClemConfig {
                tau: 0.0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate(&s).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn schedules_start_at_teacher_forcing_and_end_at_alpha_min() {
        for schedule in [
            AlphaSchedule::Linear,
            AlphaSchedule::Exponential,
            AlphaSchedule::InverseSigmoid,
        ] {
            let c = ClemConfig {
                schedule,
                alpha_min: 0.05,
                k: 50.0,
                ..Default::default()
            };
            assert!(c.alpha_at(0, 10_000) > 0.97, "{schedule:?}");
            assert!(
                (c.alpha_at(10_000, 10_000) - 0.05).abs() < 1e-9,
                "{schedule:?}"
            );
            let a: Vec<f64> = (0..=100).map(|s| c.alpha_at(s * 100, 10_000)).collect();
            assert!(a.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{schedule:?}");
        }
        let off = ClemConfig {
            curriculum: false,
            ..Default::default()
        };
        assert_eq!(off.alpha_at(9_999, 10_000), 1.0);
    }
}
