//! AdaMixUp (Guo, Mao, Zhang, AAAI'19, "MixUp as Locally Linear Out-of-Manifold Regularization"): a policy
//! network looks at a noisy average of each pair and outputs a softmax triple `(a, b, c)`; λ is drawn from
//! `[a, a + b]` by reparameterisation, `λ = a + u·b`, `u ~ U(0, 1)`, so the policy learns through the
//! mixed images and labels. An intrusion discriminator on the classifier's trunk learns to tell mixed
//! images from real ones, and its loss trains the policy too, so that mixes stay off the data manifold.
//!
//! Follows the official code (github.com/SITE5039/AdaMixUp @ 9e47ba03, `GitHub.AdaMixup.AAAI.MNIST.Cifar.py`:
//! `ResNet_Cifar_AdaMixup.build_graph`, `get_data_adaMixup`):
//! - the batch is split in halves: the first is mixed with its partners (`images[permutation]` of the
//!   whole batch), the second is "unseen" and only shown to the discriminator;
//! - gate input `(m₁⊙x₁ + m₂⊙x₂)/2`, `m ~ TruncatedNormal(0, 1)` per pixel (TensorFlow's: redrawn beyond
//!   2σ); the policy has the classifier's architecture with its own weights, then linear layers to 100
//!   and to 3 (`gate_linear`, `gate_linear2`, normal init std 1e-3), softmax;
//! - the classifier trains on the mixed half and the clean half (`concat(x_mix, x₁)`) with the mixed
//!   and clean one-hot labels; the discriminator (`linear001` to the classes, `linear2` to 2, normal init
//!   std 1e-3) reads the classifier's trunk features of `x_unseen`, `x₁` (label 1) and `x_mix` (label 0);
//! - loss = CE(classifier) + CE(discriminator), one optimiser over every part.
//!
//! Differences: the reference shuffles both training sets before the forward, which changes no loss
//! (mean CE; BatchNorm statistics are order-free) and is skipped; an odd batch puts the extra sample in the
//! unseen half; the policy's 100-wide layer is the policy model's own head (mixlab's initialisation) rather
//! than a linear layer after the pooled features (the same function class: features → 100, linear).
//! The draw below is a placeholder (λ = ½, the centre of the untrained policy's `[⅓, ⅔]`): the Burn strategy
//! `adamixup` forms the mix.

use super::{Draw, DrawCtx, MixMethod};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// AdaMixUp hyper-parameters (defaults: the official code).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamixupConfig {
    /// Width of the policy's hidden linear layer (default 100, `gate_linear`).
    pub policy_width: usize,
    /// Weight of the intrusion discriminator's loss (default 1).
    pub intrusion_weight: f64,
}

impl Default for AdamixupConfig {
    fn default() -> Self {
        Self {
            policy_width: 100,
            intrusion_weight: 1.0,
        }
    }
}

impl MixMethod for AdamixupConfig {
    const NAME: &'static str = "adamixup";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        if self.policy_width == 0 {
            return Err(Error::param("adamixup policy_width", ">= 1", 0));
        }
        if !(self.intrusion_weight.is_finite() && self.intrusion_weight >= 0.0) {
            return Err(Error::param(
                "adamixup intrusion_weight",
                "a finite number >= 0",
                self.intrusion_weight,
            ));
        }
        Ok(())
    }

    /// A placeholder blend at λ = ½: the policy network sets λ during training.
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Ok(Draw {
            weight: SampleWeight::Blend { lam: 0.5 },
            lam_label: 0.5,
        })
    }
}

/// λ of each pair from the policy's softmax triples `abc` (n × 3, row-major) and uniform draws `u`:
/// `λ = a + u·b`.
pub fn policy_lambda(abc: &[f32], u: &[f32]) -> Result<Vec<f32>> {
    if abc.len() != 3 * u.len() {
        return Err(Error::SizeMismatch {
            what: "adamixup policy outputs",
            expected: 3 * u.len(),
            got: abc.len(),
        });
    }
    Ok(abc
        .chunks_exact(3)
        .zip(u)
        .map(|(t, &u)| t[0] + u * t[1])
        .collect())
}

/// A draw from TensorFlow's `truncated_normal(0, 1)`: a standard normal redrawn until it lies within
/// two standard deviations.
pub fn truncated_normal<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    loop {
        // Box–Muller; u1 in (0, 1] so the log is finite.
        let u1 = 1.0 - rng.random::<f64>();
        let u2 = rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        if z.abs() <= 2.0 {
            return z as f32;
        }
    }
}

/// The intrusion discriminator's labels for `unseen` unseen, `mixing` clean and `mixing` mixed samples,
/// in that order: 1 (real) for the first two groups, 0 (mixed) for the last.
pub fn intrusion_labels(unseen: usize, mixing: usize) -> Vec<usize> {
    let mut y = vec![1; unseen + mixing];
    y.extend(std::iter::repeat_n(0, mixing));
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn an_untrained_policy_draws_from_the_middle_third() {
        // Zero logits: (a, b, c) = (⅓, ⅓, ⅓), so λ ∈ [⅓, ⅔], and λ ≤ a + b = 1 − c < 1.
        let third = 1.0f32 / 3.0;
        let lam = policy_lambda(&[third; 9], &[0.0, 0.5, 1.0]).unwrap();
        assert_eq!(lam, [third, third + 0.5 * third, 2.0 * third]);
        let lam = policy_lambda(&[0.7, 0.2, 0.1], &[1.0]).unwrap();
        assert!(lam[0] <= 1.0 - 0.1 + 1e-7);
        assert!(policy_lambda(&[0.5; 4], &[0.5]).is_err());
    }

    #[test]
    fn the_discriminator_sees_twice_as_many_real_samples_and_noise_is_truncated() {
        // A batch of 128: 64 unseen + 64 clean real, 64 mixed.
        let y = intrusion_labels(64, 64);
        assert_eq!(y.iter().filter(|&&v| v == 1).count(), 128);
        assert_eq!(y.iter().filter(|&&v| v == 0).count(), 64);
        assert!(y[..128].iter().all(|&v| v == 1));
        let mut rng = stream(1, Purpose::Mix, 0, 0);
        let z: Vec<f32> = (0..20_000).map(|_| truncated_normal(&mut rng)).collect();
        assert!(z.iter().all(|v| v.abs() <= 2.0));
        let mean = z.iter().sum::<f32>() / z.len() as f32;
        // The standard normal truncated at ±2 has mean 0 and variance 1 − 4φ(2)/(2Φ(2) − 1) ≈ 0.7737.
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / z.len() as f32;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 0.7737).abs() < 0.02, "{var}");
        assert!(
            AdamixupConfig {
                policy_width: 0,
                ..Default::default()
            }
            .validate(&SampleShape::d1(1, 4).unwrap())
            .is_err()
        );
    }
}
