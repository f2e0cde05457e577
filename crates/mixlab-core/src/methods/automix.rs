//! AutoMix (Liu et al., ECCV'22, "AutoMix: Unveiling the Power of Mixup"): a small attention module, the
//! MixBlock, reads a momentum encoder's mid-level feature map of each image and its partner and outputs a
//! pixel mask; it is trained to minimise the momentum encoder's mixup loss on the images it mixes, while
//! the online network trains on masks drawn for another pairing, detached.
//!
//! Follows OpenMixup (`Westlake-AI/openmixup @ 37e13724`), the authors' code:
//! `openmixup/models/classifiers/automix.py` (`AutoMixup.forward_train`, `pixel_mixup`, `forward_q`,
//! `forward_k`, `momentum_update`), `openmixup/models/heads/pmix_block.py` (`PixelMixBlock.forward`,
//! `mask_loss`), `openmixup/core/hooks/momentum_hook.py` (`CosineScheduleHook`) and the CIFAR config
//! `configs/classification/cifar100/automix/basic/r18_l2_a2_near_L1_01_mlr5e_2.py`:
//! - two draws `λ_mb, λ_bb ~ Beta(2, 2)` and two permutations; the MixBlock mask for the first pairing is
//!   trained, the one for the second is detached (and replaced by the constant λ_bb when λ_bb or 1 − λ_bb
//!   is at most `lam_margin` = 0.08);
//! - MixBlock: `q = Wq·f`, `k = Wq·f[idx]` (one 1×1 conv to C/2 channels for both), `v = Wv·f[idx]` (1×1 conv
//!   to 1 channel), `P = softmax(qᵀk/√(C/2))`, mask `m = sigmoid(up(P·v))` (nearest upsampling to the image),
//!   the partner's weight; `x̃ = (1 − m)·x + m·x[idx]`; initialised N(0, 0.01²), bias 0;
//! - losses: the online network's one-hot CE on the clean batch and mixup CE (a second, "mix" head) on the
//!   detached-mask batch; the momentum encoder's mix head's mixup CE on the trained-mask batch (it trains the
//!   MixBlock through the frozen encoder's activations); the mask loss
//!   `0.1·max(|1 − mean(m) − λ_mb| − 0.1, 0)` ([`MASK_LOSS`]);
//! - after each step the momentum encoder (backbone, one-hot head and mix head) moves toward the online
//!   network with `m` from [`AutomixConfig::momentum_at`]: `base` for the first 10 % of the steps, then the
//!   cosine `end − (end − base)·(cos(π·t/T) + 1)/2` toward `end` = 0.999999.
//!
//! SAMix (Li et al., "Boosting Discriminative Visual Representation Learning with Scenario-Agnostic
//! Mixup", `--method samix`, the same config) is AutoMix with OpenMixup's SAMix CIFAR config
//! (`configs/classification/cifar100/samix/basic/r18_l2_a2_bili_val_dp0_mul_x_cat_L1_var_01_mlr5e_2.py`): the
//! pair's features scaled by `1 + λ'` and `1 + (1 − λ')` ([`AutomixConfig::rescale_lam`]), q and k from the
//! concatenated pair by two convs, a conv-BN-ELU-conv value net to C/2 and 1 channels, bilinear upsampling,
//! and the mask loss minus twice the mask's variance. Its mix-head loss with `neg_weight = 0.5` reweights
//! only classes whose target is 0, which a soft-target cross-entropy multiplies by 0: it is the plain
//! mixup cross-entropy, and mixlab uses that.
//!
//! Differences: the feature map is the model's at the mixing point `mask_layer` (ResNet: after stage 3,
//! OpenMixup's `mask_layer=2`; mixlab's CNN: its second-to-last conv block), the mask is upsampled by the
//! image over the map (OpenMixup: `2**mask_layer`, the same on its CIFAR ResNet); one λ per batch, as the
//! reference (the mixer's granularity must be `batch`); the momentum copy also averages BatchNorm's running
//! statistics, which the momentum encoder never uses (it runs in training mode, on batch statistics); the
//! run is evaluated with the online network's one-hot head (OpenMixup reports every head). The draw below is
//! λ_mb (a blend); the Burn strategy `automix` forms the masks.

use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Weight and margin of the MixBlock's mask loss (`mask_loss=0.1`, `mask_loss_margin=0.1`).
pub const MASK_LOSS: (f64, f64) = (0.1, 0.1);

/// OpenMixup's `CosineScheduleHook` with `adjust_scope = [warmup_share, 1]` and constant warm-up: `base`
/// before step `⌊total·warmup_share⌋`, then `end − (end − base)·(cos(π·iter/total) + 1)/2`.
pub fn cosine_momentum(base: f64, end: f64, warmup_share: f64, iter: usize, total: usize) -> f64 {
    if iter < (total as f64 * warmup_share) as usize {
        return base;
    }
    end - (end - base) * ((std::f64::consts::PI * iter as f64 / total.max(1) as f64).cos() + 1.0)
        / 2.0
}

/// AutoMix hyper-parameters (defaults: OpenMixup's CIFAR config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutomixConfig {
    /// Beta concentration α of both λ draws (default 2).
    pub alpha: f64,
    /// The model's mixing point whose feature map the MixBlock reads; `None`: ResNet after stage 3, a CNN
    /// after its second-to-last conv block (its first, with one block).
    pub mask_layer: Option<usize>,
    /// Momentum of the encoder at the start (default 0.999).
    pub momentum: f64,
    /// Momentum reached at the end of training (default 0.999999).
    pub end_momentum: f64,
    /// Share of the steps at the start that keep `momentum` before the cosine ramp (default 0.1).
    pub warmup_share: f64,
    /// Below this λ_bb (or 1 − λ_bb) the online network trains on plain mixup (default 0.08).
    pub lam_margin: f64,
    /// MixBlock channel reduction for q and k (default 2).
    pub reduction: usize,
    /// SAMix only: the k of `rescale_lam_mult`, which bends λ before it scales the pair's features
    /// (default 0.25, the CIFAR config).
    pub lam_mul_k: f64,
}

impl Default for AutomixConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            mask_layer: None,
            momentum: 0.999,
            end_momentum: 0.999999,
            warmup_share: 0.1,
            lam_margin: 0.08,
            reduction: 2,
            lam_mul_k: 0.25,
        }
    }
}

impl AutomixConfig {
    /// The encoder's momentum at step `iter` (0-based, over all epochs) of `total`: `CosineScheduleHook`
    /// with `adjust_scope = [warmup_share, 1]` and constant warm-up.
    pub fn momentum_at(&self, iter: usize, total: usize) -> f64 {
        cosine_momentum(
            self.momentum,
            self.end_momentum,
            self.warmup_share,
            iter,
            total,
        )
    }

    /// SAMix's `rescale_lam_mult`: `(4/3·λ³ − 2λ² + k'λ)/(k' − 2/3)` with `k' = lam_mul_k + 1`, a curve
    /// through (0, 0), (½, ½) and (1, 1).
    pub fn rescale_lam(&self, lam: f64) -> f64 {
        let k = self.lam_mul_k + 1.0;
        (4.0 / 3.0 * lam.powi(3) - 2.0 * lam * lam + k * lam) / (k - 2.0 / 3.0)
    }

    /// Whether λ_bb is too close to 0 or 1 for a learned mask (the online network then mixes plainly).
    pub fn plain_mixup(&self, lam: f64) -> bool {
        self.lam_margin >= lam || self.lam_margin >= 1.0 - lam
    }
}

impl MixMethod for AutomixConfig {
    const NAME: &'static str = "automix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        check_alpha("automix alpha", self.alpha)?;
        check_range("automix momentum", self.momentum, 0.0, 1.0, "in [0, 1]")?;
        check_range(
            "automix end_momentum",
            self.end_momentum,
            self.momentum,
            1.0,
            "in [momentum, 1]",
        )?;
        check_range(
            "automix warmup_share",
            self.warmup_share,
            0.0,
            1.0,
            "in [0, 1]",
        )?;
        check_range(
            "automix lam_margin",
            self.lam_margin,
            0.0,
            0.5,
            "in [0, 0.5]",
        )?;
        if !(self.lam_mul_k.is_finite() && (0.0..=10.0).contains(&self.lam_mul_k)) {
            return Err(Error::param(
                "automix lam_mul_k",
                "in [0, 10]",
                self.lam_mul_k,
            ));
        }
        if self.reduction == 0 {
            return Err(Error::param("automix reduction", ">= 1", 0));
        }
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        Ok(())
    }

    /// λ_mb ~ Beta(α, α) as a blend (the trained mask's pairing is the plan's partner).
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
    fn momentum_is_constant_then_a_cosine_to_the_end() {
        let c = AutomixConfig::default();
        assert_eq!(c.momentum_at(0, 1000), 0.999);
        assert_eq!(c.momentum_at(99, 1000), 0.999);
        assert!(c.momentum_at(100, 1000) > 0.999);
        assert!((c.momentum_at(1000, 1000) - 0.999999).abs() < 1e-15);
        assert!(c.plain_mixup(0.05) && c.plain_mixup(0.95) && !c.plain_mixup(0.5));
        assert!(c.plain_mixup(0.08));
        // rescale_lam_mult with k = 0.25 (methods-dynamic's computed values).
        for (l, want) in [
            (0.0, 0.0),
            (0.1, 0.182286),
            (0.3, 0.396),
            (0.5, 0.5),
            (0.7, 0.604),
            (1.0, 1.0),
        ] {
            assert!((c.rescale_lam(l) - want).abs() < 1e-6, "{l}");
        }
        let bad = AutomixConfig {
            end_momentum: 0.5,
            ..Default::default()
        };
        assert!(bad.validate(&SampleShape::d2(1, 8, 8).unwrap()).is_err());
        assert!(c.validate(&SampleShape::d1(1, 8).unwrap()).is_err());
    }
}
