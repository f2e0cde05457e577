//! AdAutoMix (Qin et al., ICLR'24, "Adversarial AutoMixup"): AutoMix's learned mixer made adversarial and
//! mixing three images. A mask generator (`AdaptiveMask`) reads a momentum encoder's feature maps of the
//! three sources; on alternate steps it **maximises** the momentum encoder's mixup loss on the images it
//! mixes (weighted by β, with a cosine term between the mixed and the source predictions), on the other
//! steps it minimises it as AutoMix's MixBlock does.
//!
//! Follows the official code (github.com/JinXins/Adversarial-AutoMixup @ 9d6fd12,
//! `openmixup/models/classifiers/AdAutoMix.py`, dropped into OpenMixup) and OpenMixup's port
//! (`Westlake-AI/openmixup @ 37e13724`: `openmixup/models/classifiers/adautomix.py`,
//! `openmixup/models/heads/adaptive_mask.py`, config
//! `configs/classification/cifar100/adautomix/basic/r18_l2_a1_bili_mlr5e_2.py`):
//! - three λ ~ Beta(1, 1) normalised to sum 1; three permutations for the generator's mix and three more
//!   for the online network's;
//! - `AdaptiveMask`: `q_i = relu(Wq·f_i)`, `k_i = relu(Wk·f_i)` (mmcv's `ConvModule` with its default
//!   ReLU), `v_i = Wv·f_i`; `A_i = softmax(Σ_{j≠i} q_i·k_jᵀ/√(C/2))`, `m_i = A_i·v_i`; bilinear upsampling,
//!   then a softmax over the three sources at every pixel; `x̃ = Σ_i m_i·x[idx_i]`;
//! - online network: one-hot CE on the clean batch, re-weighted half and half with the CE of the linear
//!   three-way mixup `Σ λ_i·x[idx_i]` (`mixup_radio = 0.5`), plus the CE of the mix head on the
//!   detached-mask batch (the constant masks λ_i when λ₀ is within `lam_margin` of 0 or 1);
//! - generator: the momentum encoder's mix-head CE on its batch; on every `adv_interval`-th step (the
//!   first, the third, …) `−β·CE + (1 − β)·cos` with `cos = mean_n Σ_i λ_i·cos(p_mix, p_i)`, `p_i` the
//!   momentum encoder's mix-head logits of source i (β = 0.3);
//! - the momentum encoder (backbone, one-hot head, mix head) follows with AutoMix's schedule.
//!
//! Where the two disagree: OpenMixup's port tests the margin as `margin >= λ₀ or margin < 1 − λ₀`, true
//! unless λ₀ > 0.97, so its online network almost never sees a generated mask; the official code has
//! `margin >= λ₀ or margin > 1 − λ₀`, the margin test, which mixlab follows. Both add `(1 − β)·cos`:
//! minimising it pushes the mixed prediction away from its sources' (the README speaks of keeping their
//! meaning); mixlab keeps the code's sign. Differences: the feature map is the model's at `mask_layer`
//! (as AutoMix); the momentum copy also averages BatchNorm statistics it never uses; evaluation uses the
//! online network's one-hot head. The draw below is a placeholder blend (λ = ⅓-weighted sources are drawn
//! by the Burn strategy `adautomix` from the step's stream).

use super::automix::cosine_momentum;
use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// AdAutoMix hyper-parameters (defaults: the CIFAR config of both codes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdautomixConfig {
    /// Beta concentration α of the three λ draws (default 1).
    pub alpha: f64,
    /// The mixing point whose map the generator reads (as `automix`'s `mask_layer`).
    pub mask_layer: Option<usize>,
    /// Momentum of the encoder at the start (default 0.999).
    pub momentum: f64,
    /// Momentum reached at the end of training (default 0.999999).
    pub end_momentum: f64,
    /// Share of the steps at the start that keep `momentum` (default 0.1).
    pub warmup_share: f64,
    /// Within this of 0 or 1, λ₀ makes the online network's masks the constants λ_i (default 0.03).
    pub lam_margin: f64,
    /// Weight of the linear three-way mixup in the online network's re-weighted one-hot loss (0.5).
    pub mixup_ratio: f64,
    /// β of the adversarial generator loss (default 0.3).
    pub beta: f64,
    /// Every this many steps the generator's loss is adversarial (default 2).
    pub adv_interval: usize,
    /// Generator channel reduction for q and k (default 2).
    pub reduction: usize,
}

impl Default for AdautomixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            mask_layer: None,
            momentum: 0.999,
            end_momentum: 0.999999,
            warmup_share: 0.1,
            lam_margin: 0.03,
            mixup_ratio: 0.5,
            beta: 0.3,
            adv_interval: 2,
            reduction: 2,
        }
    }
}

impl AdautomixConfig {
    /// The encoder's momentum at step `iter` of `total` (AutoMix's schedule).
    pub fn momentum_at(&self, iter: usize, total: usize) -> f64 {
        cosine_momentum(
            self.momentum,
            self.end_momentum,
            self.warmup_share,
            iter,
            total,
        )
    }

    /// Whether the online network trains on the constant masks λ_i (the official margin test on λ₀).
    pub fn constant_masks(&self, lam0: f64) -> bool {
        self.lam_margin >= lam0 || self.lam_margin > 1.0 - lam0
    }

    /// Whether the generator's loss at step `iter` (0-based over the run) is the adversarial one.
    pub fn adversarial(&self, iter: usize) -> bool {
        iter.is_multiple_of(self.adv_interval.max(1))
    }
}

impl MixMethod for AdautomixConfig {
    const NAME: &'static str = "adautomix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        check_alpha("adautomix alpha", self.alpha)?;
        check_range("adautomix momentum", self.momentum, 0.0, 1.0, "in [0, 1]")?;
        check_range(
            "adautomix end_momentum",
            self.end_momentum,
            self.momentum,
            1.0,
            "in [momentum, 1]",
        )?;
        check_range(
            "adautomix warmup_share",
            self.warmup_share,
            0.0,
            1.0,
            "in [0, 1]",
        )?;
        check_range(
            "adautomix lam_margin",
            self.lam_margin,
            0.0,
            0.5,
            "in [0, 0.5]",
        )?;
        check_range(
            "adautomix mixup_ratio",
            self.mixup_ratio,
            0.0,
            1.0,
            "in [0, 1]",
        )?;
        check_range("adautomix beta", self.beta, 0.0, 1.0, "in [0, 1]")?;
        if self.adv_interval == 0 || self.reduction == 0 {
            return Err(Error::param(
                "adautomix adv_interval and reduction",
                ">= 1",
                format!("{} and {}", self.adv_interval, self.reduction),
            ));
        }
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        Ok(())
    }

    /// A placeholder blend at λ = ½ (the strategy draws the three λ and the permutations).
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Ok(Draw {
            weight: SampleWeight::Blend { lam: 0.5 },
            lam_label: 0.5,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_test_is_the_official_one_and_adversarial_steps_alternate() {
        let c = AdautomixConfig::default();
        // Constant masks only near 0 or 1 (OpenMixup's port: unless λ₀ > 0.97).
        assert!(c.constant_masks(0.02) && c.constant_masks(0.98));
        assert!(!c.constant_masks(0.5) && !c.constant_masks(0.2));
        assert!(c.adversarial(0) && !c.adversarial(1) && c.adversarial(2));
        assert_eq!(
            c.momentum_at(500, 1000),
            crate::methods::AutomixConfig::default().momentum_at(500, 1000)
        );
        let bad = AdautomixConfig {
            adv_interval: 0,
            ..Default::default()
        };
        assert!(bad.validate(&SampleShape::d2(1, 8, 8).unwrap()).is_err());
    }
}
