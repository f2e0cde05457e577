//! Methods whose meaning goes beyond one input-level draw: the core draws their λ (and, for DecoupleMix, the
//! whole input-level mix of its base method); the trainer (mixlab-burn) does the rest — the layer to mix at
//! (ManifoldMix, C-Mixup), the partner chosen by label similarity over the training set (C-Mixup), and the
//! loss (DecoupleMix, RankMixup). Their hyper-parameters live here so that they are validated, serialised and
//! named like every other method.

use super::{Draw, DrawCtx, MethodConfig, MixMethod, check_alpha, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A blend with λ ~ Beta(α, α), the label weight λ.
pub(super) fn blend<R: Rng + ?Sized>(alpha: f64, rng: &mut R) -> Result<Draw> {
    let lam = sample_beta(alpha, alpha, rng)? as f32;
    Ok(Draw {
        weight: SampleWeight::Blend { lam },
        lam_label: lam,
    })
}

fn check_layers(layers: &[usize]) -> Result<()> {
    if layers.is_empty() {
        return Err(Error::param(
            "layers",
            "a non-empty list of mixing points",
            "[]",
        ));
    }
    Ok(())
}

/// Manifold Mixup (Verma et al., ICML'19): mixup of hidden features at a mixing point drawn uniformly per
/// step from `layers` (0 = the input), labels mixed alike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManifoldmixConfig {
    /// Beta concentration α (default 2.0, as OpenMixup's manifoldmix configs).
    pub alpha: f64,
    /// Mixing points to draw from (default `[0, 1, 2]`, OpenMixup's `layer=(0, 3)`); each must be below the
    /// model's number of mixing points, which the trainer checks.
    pub layers: Vec<usize>,
}

impl Default for ManifoldmixConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            layers: vec![0, 1, 2],
        }
    }
}

impl MixMethod for ManifoldmixConfig {
    const NAME: &'static str = "manifoldmix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        check_layers(&self.layers)
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        blend(self.alpha, rng)
    }
}

/// C-Mixup (Yao et al., NeurIPS'22) for regression: the partner of sample i is drawn from the whole training
/// set with P(j | i) ∝ exp(−‖y_i − y_j‖² / (2σ²)) (see [`crate::cmixup`]); λ ~ Beta(α, α); mixing at a point
/// drawn from `layers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CmixupConfig {
    /// Beta concentration α (default 2.0, the reference's `mix_alpha` for Airfoil).
    pub alpha: f64,
    /// Kernel bandwidth σ on the (raw) targets (default 1.0; the reference uses 1.75 for Airfoil, 0.05
    /// exchange-rate, 4.0 communities-crime, 1.0 skillcraft).
    pub bandwidth: f64,
    /// Mixing points (default `[0]`, the input; the reference's manifold variant mixes after the first block,
    /// `[1]`).
    pub layers: Vec<usize>,
}

impl Default for CmixupConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            bandwidth: 1.0,
            layers: vec![0],
        }
    }
}

impl MixMethod for CmixupConfig {
    const NAME: &'static str = "c-mixup";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        if !(self.bandwidth.is_finite() && self.bandwidth > 0.0) {
            return Err(Error::param(
                "bandwidth",
                "a finite number > 0",
                self.bandwidth,
            ));
        }
        check_layers(&self.layers)
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        blend(self.alpha, rng)
    }
}

/// DecoupleMix (Liu et al., NeurIPS'23): any input-level `base` method, trained with the mixup
/// cross-entropy plus η × the decoupled term (each mixed class scored with the other mixed class removed from
/// the softmax denominator). The loss is in mixlab-burn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecouplemixConfig {
    /// Weight η of the decoupled term (default 0.1).
    pub eta: f64,
    /// The input-level method that mixes the samples (default mixup with α = 1).
    pub base: Box<MethodConfig>,
}

impl Default for DecouplemixConfig {
    fn default() -> Self {
        Self {
            eta: 0.1,
            base: Box::new(MethodConfig::Mixup(Default::default())),
        }
    }
}

impl MixMethod for DecouplemixConfig {
    const NAME: &'static str = "decouplemix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if !(self.eta.is_finite() && self.eta >= 0.0) {
            return Err(Error::param("eta", "a finite number >= 0", self.eta));
        }
        if !self.base.method().is_input_level() || matches!(*self.base, MethodConfig::None) {
            return Err(Error::param(
                "base",
                "an input-level mixing method (mixup, cutmix, fmix, ...)",
                self.base.method().name(),
            ));
        }
        self.base.validate(shape)
    }

    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        self.base.draw(ctx, rng)
    }
}

/// Which RankMixup objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RankLoss {
    /// Mixup ranking loss: hinge on the top logit of each mixed sample against its raw sample's.
    Mrl,
    /// Mixup NDCG: the raw sample and several mixes ranked by label weight, NDCG of their confidences.
    Mndcg,
}

/// RankMixup (Noh et al., ICCV'23): cross-entropy on the raw batch plus `rank_weight` × a ranking loss that asks
/// mixed samples to be less confident than raw ones (MRL) or confidences to follow the mixes' label weights
/// (M-NDCG). Each mix draws one λ ~ Beta(α, α) and one permutation for the batch; the loss is in mixlab-burn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankmixupConfig {
    /// Beta concentration α (default 2.0, the reference's CIFAR `mixup_alpha`).
    pub alpha: f64,
    /// MRL or M-NDCG (default MRL).
    pub loss: RankLoss,
    /// MRL margin on the logit gap (default 2.0, the reference's CIFAR config; 1.0 for Tiny-ImageNet).
    pub margin: f64,
    /// Weight of the ranking term (default 0.1; the reference's loss `alpha`). Not called `weight`: a method's
    /// fields sit beside the mixer's selection `weight` in configs.
    pub rank_weight: f64,
    /// Mixes per sample (default: 1 for MRL, which needs exactly one; 3 for M-NDCG).
    pub mixes: Option<usize>,
}

impl Default for RankmixupConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            loss: RankLoss::Mrl,
            margin: 2.0,
            rank_weight: 0.1,
            mixes: None,
        }
    }
}

impl RankmixupConfig {
    /// Mixes per sample after defaults.
    pub fn num_mixes(&self) -> usize {
        self.mixes.unwrap_or(match self.loss {
            RankLoss::Mrl => 1,
            RankLoss::Mndcg => 3,
        })
    }
}

impl MixMethod for RankmixupConfig {
    const NAME: &'static str = "rankmixup";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        if !(self.margin.is_finite() && self.margin >= 0.0) {
            return Err(Error::param("margin", "a finite number >= 0", self.margin));
        }
        if !(self.rank_weight.is_finite() && self.rank_weight >= 0.0) {
            return Err(Error::param(
                "rank_weight",
                "a finite number >= 0",
                self.rank_weight,
            ));
        }
        match (self.loss, self.num_mixes()) {
            (_, 0) => Err(Error::param("mixes", ">= 1", 0)),
            (RankLoss::Mrl, k) if k != 1 => Err(Error::param(
                "mixes",
                "1 for the MRL loss (one mix per raw sample)",
                k,
            )),
            (_, k) if k > 16 => Err(Error::param("mixes", "at most 16", k)),
            _ => Ok(()),
        }
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        blend(self.alpha, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::test_util::draw;

    fn shape() -> SampleShape {
        SampleShape::new(3, &[8, 8]).unwrap()
    }

    #[test]
    fn bad_hyper_parameters_are_refused_with_the_rule() {
        let s = shape();
        let e = CmixupConfig {
            bandwidth: 0.0,
            ..Default::default()
        }
        .validate(&s)
        .unwrap_err()
        .to_string();
        assert!(e.contains("bandwidth") && e.contains("> 0"), "{e}");
        assert!(
            CmixupConfig {
                bandwidth: f64::NAN,
                ..Default::default()
            }
            .validate(&s)
            .is_err()
        );
        let e = ManifoldmixConfig {
            layers: vec![],
            ..Default::default()
        }
        .validate(&s)
        .unwrap_err()
        .to_string();
        assert!(e.contains("layers"), "{e}");
        let e = DecouplemixConfig {
            eta: -0.5,
            ..Default::default()
        }
        .validate(&s)
        .unwrap_err()
        .to_string();
        assert!(e.contains("eta") && e.contains("-0.5"), "{e}");
        let nested = DecouplemixConfig {
            base: Box::new(MethodConfig::Decouplemix(DecouplemixConfig::default())),
            ..Default::default()
        };
        assert!(nested.validate(&s).is_err());
        let none = DecouplemixConfig {
            base: Box::new(MethodConfig::None),
            ..Default::default()
        };
        assert!(none.validate(&s).is_err());
        let e = RankmixupConfig {
            margin: -1.0,
            ..Default::default()
        }
        .validate(&s)
        .unwrap_err()
        .to_string();
        assert!(e.contains("margin") && e.contains("-1"), "{e}");
        let e = RankmixupConfig {
            mixes: Some(3),
            ..Default::default()
        }
        .validate(&s)
        .unwrap_err()
        .to_string();
        assert!(e.contains("mixes") && e.contains("MRL"), "{e}");
        let ndcg = RankmixupConfig {
            loss: RankLoss::Mndcg,
            ..Default::default()
        };
        assert_eq!(ndcg.num_mixes(), 3);
        assert!(ndcg.validate(&s).is_ok());
    }

    #[test]
    fn lambda_follows_beta_alpha() {
        // Beta(2, 2) has mean 1/2 and variance 1/20.
        let c = CmixupConfig::default();
        let lams: Vec<f64> = (0..4000)
            .map(|seed| f64::from(draw(&c, &shape(), seed).lam_label))
            .collect();
        let mean = lams.iter().sum::<f64>() / lams.len() as f64;
        let var = lams.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lams.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert!((var - 0.05).abs() < 0.006, "{var}");
    }

    #[test]
    fn decouplemix_draws_exactly_as_its_base() {
        let s = shape();
        let base = MethodConfig::Cutmix(Default::default());
        let d = DecouplemixConfig {
            eta: 0.1,
            base: Box::new(base.clone()),
        };
        for seed in 0..20 {
            let ctx = DrawCtx {
                shape: &s,
                partner_data: None,
            };
            let a = d
                .draw(
                    &ctx,
                    &mut crate::rng::stream(seed, crate::rng::Purpose::Mix, 0, 0),
                )
                .unwrap();
            let b = base
                .draw(
                    &ctx,
                    &mut crate::rng::stream(seed, crate::rng::Purpose::Mix, 0, 0),
                )
                .unwrap();
            assert_eq!(a, b);
        }
        // A batch of DecoupleMix over MaskMix draws as MaskMix does: each sample its own patches.
        let mask = MethodConfig::Maskmix(Default::default());
        let over = MethodConfig::Decouplemix(DecouplemixConfig {
            eta: 0.1,
            base: Box::new(mask.clone()),
        });
        let ctx = DrawCtx {
            shape: &s,
            partner_data: None,
        };
        let draw = |m: &MethodConfig| {
            m.draw_group(
                &ctx,
                6,
                &mut crate::rng::stream(3, crate::rng::Purpose::Mix, 0, 0),
            )
            .unwrap()
        };
        assert_eq!(draw(&over), draw(&mask));
    }
}
