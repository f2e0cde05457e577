//! MixMatch (Berthelot et al., NeurIPS'19), semi-supervised: labels are guessed for unlabelled samples by
//! averaging the model's predictions over K augmentations and sharpening them; labelled and unlabelled
//! samples are then mixed together with mixup (λ' = max(λ, 1 − λ), so each mixed sample stays closer to
//! its own member) and trained with cross-entropy on the labelled part and a squared error on the
//! unlabelled part, ramped up linearly. An exponential moving average of the weights is evaluated.
//!
//! Follows the official code (google-research/mixmatch @ 77bf67dd, `mixmatch.py`, `libml/layers.py`): K = 2,
//! T = 0.5, λ per sample from Beta(α, α), `W = concat(X, U₁, …, U_K)` with labels `(onehot, q, …, q)` mixed
//! with a shuffled copy of W, `L_u` the mean over samples and classes of `(q − softmax)²`, weight
//! `w_match · min(1, step / rampup)`, EMA 0.999. Its α is `beta = 0.5` in the flags; the paper and the
//! audio comparison (Labbeti/SSLH) use 0.75, the default here. The step runs in mixlab-burn's
//! MixMatch strategy; differences from the reference are listed there.

use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The loss on the unlabelled part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UnlabelledLoss {
    /// The official squared error (Brier), averaged over samples and classes.
    #[default]
    Brier,
    /// Soft cross-entropy against the guessed labels (SSLH's audio adaptation, with weight 1).
    Ce,
}

/// MixMatch hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixmatchConfig {
    /// Beta concentration α of λ (default 0.75, the paper's).
    pub alpha: f64,
    /// Augmentations per unlabelled sample, K (default 2).
    pub augmentations: usize,
    /// Sharpening temperature T (default 0.5).
    pub temperature: f64,
    /// Weight of the unlabelled loss after ramp-up (default 100, the official `w_match` with Brier).
    pub unlabelled_weight: f64,
    /// The unlabelled loss (default Brier).
    pub unlabelled_loss: UnlabelledLoss,
    /// Steps of the linear ramp-up of the unlabelled weight (default 16 384: the official 1 024 kimg at
    /// batch 64).
    pub rampup_steps: usize,
    /// Momentum of the evaluated weight average (default 0.999; 0 evaluates the trained weights).
    pub ema: f64,
}

impl Default for MixmatchConfig {
    fn default() -> Self {
        Self {
            alpha: 0.75,
            augmentations: 2,
            temperature: 0.5,
            unlabelled_weight: 100.0,
            unlabelled_loss: UnlabelledLoss::Brier,
            rampup_steps: 16384,
            ema: 0.999,
        }
    }
}

impl MixMethod for MixmatchConfig {
    const NAME: &'static str = "mixmatch";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        if !(1..=16).contains(&self.augmentations) {
            return Err(Error::param(
                "augmentations",
                "in 1..=16",
                self.augmentations,
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::param(
                "temperature",
                "a finite number > 0",
                self.temperature,
            ));
        }
        if !(self.unlabelled_weight.is_finite() && self.unlabelled_weight >= 0.0) {
            return Err(Error::param(
                "unlabelled_weight",
                "a finite number >= 0",
                self.unlabelled_weight,
            ));
        }
        check_range("ema", self.ema, 0.0, 0.99999, "in [0, 1)")
    }

    /// The task's plan keeps every labelled sample: the strategy mixes the labelled and unlabelled
    /// samples together itself.
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Ok(Draw {
            weight: SampleWeight::Keep,
            lam_label: 1.0,
        })
    }
}

/// `p^(1/T) / Σ p^(1/T)` per row of `p` (rows of `classes` probabilities), in place.
pub fn sharpen(p: &mut [f32], classes: usize, temperature: f64) -> Result<()> {
    if classes == 0 || !p.len().is_multiple_of(classes) {
        return Err(Error::SizeMismatch {
            what: "probabilities (a multiple of the classes)",
            expected: classes,
            got: p.len(),
        });
    }
    for row in p.chunks_exact_mut(classes) {
        let pow: Vec<f64> = row
            .iter()
            .map(|&v| f64::from(v).max(0.0).powf(1.0 / temperature))
            .collect();
        let sum: f64 = pow.iter().sum();
        for (r, v) in row.iter_mut().zip(pow) {
            *r = if sum > 0.0 {
                (v / sum) as f32
            } else {
                1.0 / classes as f32
            };
        }
    }
    Ok(())
}

/// λ' = max(λ, 1 − λ): the mixed sample's weight on its own member.
pub fn own_weight(lam: f64) -> f64 {
    lam.max(1.0 - lam)
}

/// The unlabelled weight at step `step` (0-based): `w · min(1, step / rampup)`.
pub fn ramp(cfg: &MixmatchConfig, step: usize) -> f64 {
    let r = if cfg.rampup_steps == 0 {
        1.0
    } else {
        (step as f64 / cfg.rampup_steps as f64).min(1.0)
    };
    cfg.unlabelled_weight * r
}

/// The official `interleave_offsets(batch, nu)`: where the `nu + 1` interleaved groups of a batch start
/// (golden-tested against the reference function, `tools/golden/mixmatch.py`).
/// mixlab runs the mixed batch through the model in one forward instead of interleaving; this pins the
/// reference's grouping for the golden check.
pub fn interleave_offsets(batch: usize, nu: usize) -> Vec<usize> {
    let groups = nu + 1;
    let mut sizes = vec![batch / groups; groups];
    // The remainder goes to the last groups, as the reference's `groups[-x - 1] += 1`.
    for s in sizes
        .iter_mut()
        .rev()
        .take(batch - (batch / groups) * groups)
    {
        *s += 1;
    }
    let mut offsets = vec![0];
    for s in sizes {
        offsets.push(offsets.last().copied().unwrap_or(0) + s);
    }
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_values_of_the_reference() {
        // methods-dynamic.md §6(f), computed from the official functions.
        let mut p = vec![0.6f32, 0.3, 0.1];
        sharpen(&mut p, 3, 0.5).unwrap();
        for (a, e) in p.iter().zip([0.782609f32, 0.195652, 0.021739]) {
            assert!((a - e).abs() < 1e-6, "{p:?}");
        }
        assert_eq!(interleave_offsets(64, 2), vec![0, 21, 42, 64]);
        assert_eq!(interleave_offsets(100, 2), vec![0, 33, 66, 100]);
        for l in [0.0, 0.2, 0.5, 0.9, 1.0] {
            assert!(own_weight(l) >= 0.5);
        }
        let cfg = MixmatchConfig {
            rampup_steps: 100,
            ..Default::default()
        };
        assert_eq!(
            (ramp(&cfg, 0), ramp(&cfg, 50), ramp(&cfg, 500)),
            (0.0, 50.0, 100.0)
        );
    }

    /// tools/golden/mixmatch.py: the official `guess_label` (K = 2 logit sets, T = 0.5) and
    /// `interleave_offsets`, run from the reference's own code.
    #[test]
    fn label_guessing_matches_the_reference_code() {
        let g: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/mixmatch_golden.json"))
                .unwrap();
        let n = |k: &str| g[k].as_u64().unwrap() as usize;
        let (k, rows, classes) = (n("k"), n("n"), n("classes"));
        let logits: Vec<f32> = g["logits"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        let mut q = vec![0f32; rows * classes];
        for a in 0..k {
            let p = crate::calib::softmax(
                &logits[a * rows * classes..(a + 1) * rows * classes],
                classes,
                1.0,
            )
            .unwrap();
            q.iter_mut().zip(p).for_each(|(o, v)| *o += v / k as f32);
        }
        sharpen(&mut q, classes, g["temperature"].as_f64().unwrap()).unwrap();
        for (a, e) in q.iter().zip(g["p_target"].as_array().unwrap()) {
            assert!((f64::from(*a) - e.as_f64().unwrap()).abs() < 1e-6, "{q:?}");
        }
        for case in g["interleave"].as_array().unwrap() {
            let (b, nu) = (
                case[0].as_u64().unwrap() as usize,
                case[1].as_u64().unwrap() as usize,
            );
            let want: Vec<usize> = case[2]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(interleave_offsets(b, nu), want, "({b}, {nu})");
        }
    }

    #[test]
    fn bad_hyper_parameters_are_refused() {
        let s = SampleShape::new(1, &[16]).unwrap();
        assert!(MixmatchConfig::default().validate(&s).is_ok());
        for bad in [
            MixmatchConfig {
                alpha: -0.75,
                ..Default::default()
            },
            MixmatchConfig {
                augmentations: 0,
                ..Default::default()
            },
            MixmatchConfig {
                temperature: 0.0,
                ..Default::default()
            },
            MixmatchConfig {
                unlabelled_weight: f64::NAN,
                ..Default::default()
            },
            MixmatchConfig {
                ema: 1.0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate(&s).is_err(), "{bad:?}");
        }
        assert!(sharpen(&mut [0.5, 0.5, 0.1], 2, 0.5).is_err());
    }
}
