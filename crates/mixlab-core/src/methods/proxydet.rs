//! ProxyDet's class-wise multi-modal mixup (Jeong et al., AAAI'24; `clovaai/ProxyDet @ 033c51cc`,
//! `ProxydetCascadeROIHeads.mixup`), transferred from open-vocabulary detection to classification with held-out
//! classes.
//!
//! The detector pairs, per batch, the L2-normalised mean region embedding of each base class present (its
//! "prototype") with the class's frozen CLIP text embedding. It mixes prototypes and text embeddings of random
//! class pairs with one λ ~ Beta(β, β), re-normalises both mixes, and pulls them together with an L1 loss:
//! the mixes are "proxy novel classes" between the base classes.
//!
//! In mixlab the model's output is a unit embedding; a cosine classifier over a fixed table of class embeddings
//! (the frozen text embeddings' stand-in: random unit rows drawn from the run's seed, see [`class_table`]) trains
//! it on the classes `0..k` with cross-entropy, and the proxy term is added with its weight. The embedding is
//! judged, as Metrix's is, by Recall@K on the classes `k..` that training never sees. The core draws λ and the
//! pairing; the trainer (mixlab-burn) builds prototypes and losses.

use super::embedding::{EmbeddingTask, check_dim, check_nonneg, check_pos};
use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::error::Result;
use crate::rng::{Purpose, stream};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// The distance between the mixed prototype and the mixed class embedding (the reference's `CMM.LOSS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CmmLoss {
    /// Mean absolute difference over classes and dimensions (`F.l1_loss`, the reference's choice).
    L1,
    /// Mean squared difference (`F.mse_loss`).
    L2,
}

/// ProxyDet's class-wise multi-modal mixup on a cosine classifier (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxydetConfig {
    /// Beta concentration of the one λ per batch (default 1.0, the reference's `MIXUP_BETA`).
    pub alpha: f64,
    /// Weight of the proxy term; `None` (the default) rescales the reference's 256 (L1 on unit vectors in
    /// CLIP's 512 dimensions) to the embedding width as 256·√(dim/512), since the mean absolute coordinate
    /// of a difference of unit vectors shrinks as 1/√dim. 0 trains the cosine classifier alone, the baseline.
    pub cmm_weight: Option<f64>,
    /// Distance of the mixes (default L1).
    pub cmm_loss: CmmLoss,
    /// Logit scale of the cosine classifier (default 50, Detic's `norm_temperature`, which ProxyDet's
    /// zero-shot classifier inherits).
    pub scale: f64,
    /// Embedding width (default 64).
    pub dim: usize,
    /// Training classes (default: the first half).
    pub train_classes: Option<usize>,
    /// Learn the class table with the model, starting from the fixed one (default false: the table stays
    /// fixed, as ProxyDet's frozen text embeddings do).
    pub learned_table: bool,
}

impl Default for ProxydetConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            cmm_weight: None,
            cmm_loss: CmmLoss::L1,
            scale: 50.0,
            dim: 64,
            train_classes: None,
            learned_table: false,
        }
    }
}

/// One batch's pairing of the classes present: prototype `i` is mixed with prototype `partner[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyPairs {
    /// The mixing weight of each class's own prototype.
    pub lam: f32,
    /// A permutation of the present classes (fixed points allowed, as `torch.randperm` gives them).
    pub partner: Vec<usize>,
}

impl ProxydetConfig {
    /// The embedding task.
    pub fn task(&self) -> EmbeddingTask {
        EmbeddingTask {
            dim: self.dim,
            train_classes: self.train_classes,
        }
    }

    /// The weight of the proxy term at this embedding width (see [`cmm_weight`](Self::cmm_weight)).
    pub fn effective_weight(&self) -> f64 {
        self.cmm_weight
            .unwrap_or(256.0 * (self.dim as f64 / 512.0).sqrt())
    }

    /// λ and the pairing of `present` classes for one batch: λ first, then the permutation, from `rng`.
    pub fn pairs<R: Rng + ?Sized>(&self, present: usize, rng: &mut R) -> Result<ProxyPairs> {
        let lam = sample_beta(self.alpha, self.alpha, rng)? as f32;
        let mut partner: Vec<usize> = (0..present).collect();
        partner.shuffle(rng);
        Ok(ProxyPairs { lam, partner })
    }
}

/// The fixed class embeddings of a run: `classes` rows of `dim` standard normal draws from the run's
/// initialisation stream, each scaled to unit length. They stand in for ProxyDet's frozen CLIP text
/// embeddings; in 64 dimensions random rows are nearly orthogonal (|cos| ≈ 0.12 typical), so no class starts
/// closer to another.
pub fn class_table(classes: usize, dim: usize, seed: u64) -> Vec<f32> {
    // Init stream 7: the model draws from index 0 and the strategies' own modules from 1 to 6.
    let mut rng = stream(seed, Purpose::Init, 7, 0);
    let mut t = Vec::with_capacity(classes * dim);
    for _ in 0..classes {
        let row: Vec<f64> = (0..dim)
            .map(|_| rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng))
            .collect();
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
        t.extend(row.iter().map(|v| (v / norm) as f32));
    }
    t
}

impl MixMethod for ProxydetConfig {
    const NAME: &'static str = "proxydet";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        if let Some(w) = self.cmm_weight {
            check_nonneg("cmm_weight", w)?;
        }
        check_pos("scale", self.scale)?;
        check_dim(self.dim)
    }

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
    fn bad_settings_are_refused_with_the_rule() {
        let s = SampleShape::new(1, &[4]).unwrap();
        for bad in [
            ProxydetConfig {
                alpha: -1.0,
                ..Default::default()
            },
            ProxydetConfig {
                cmm_weight: Some(f64::NAN),
                ..Default::default()
            },
            ProxydetConfig {
                scale: 0.0,
                ..Default::default()
            },
            ProxydetConfig {
                dim: 1,
                ..Default::default()
            },
        ] {
            assert!(bad.validate(&s).is_err(), "{bad:?}");
        }
        assert!(ProxydetConfig::default().validate(&s).is_ok());
    }

    #[test]
    fn the_weight_keeps_the_references_256_at_512_dimensions() {
        let at = |dim| ProxydetConfig {
            dim,
            ..Default::default()
        };
        assert_eq!(at(512).effective_weight(), 256.0);
        assert!((at(128).effective_weight() - 128.0).abs() < 1e-12);
        let set = ProxydetConfig {
            cmm_weight: Some(3.0),
            ..Default::default()
        };
        assert_eq!(set.effective_weight(), 3.0);
    }

    #[test]
    fn the_class_table_is_unit_rows_fixed_by_the_seed() {
        let t = class_table(5, 64, 3);
        assert_eq!(t.len(), 5 * 64);
        for r in t.chunks(64) {
            let n: f32 = r.iter().map(|v| v * v).sum();
            assert!((n - 1.0).abs() < 1e-5);
        }
        assert_eq!(t, class_table(5, 64, 3));
        assert_ne!(t, class_table(5, 64, 4));
        // Nearly orthogonal: every pair well below the cosine of two classes a model would confuse.
        for i in 0..5 {
            for j in 0..i {
                let c: f32 = (0..64).map(|d| t[i * 64 + d] * t[j * 64 + d]).sum();
                assert!(c.abs() < 0.5, "rows {i} and {j}: cos {c}");
            }
        }
    }

    #[test]
    fn pairs_are_a_permutation_and_lambda_follows_beta() {
        let c = ProxydetConfig::default();
        let mut rng = stream(1, Purpose::Mix, 0, 0);
        let mut mean = 0.0;
        for _ in 0..2000 {
            let p = c.pairs(5, &mut rng).unwrap();
            let mut s = p.partner.clone();
            s.sort();
            assert_eq!(s, vec![0, 1, 2, 3, 4]);
            assert!((0.0..=1.0).contains(&p.lam));
            mean += p.lam as f64 / 2000.0;
        }
        // Beta(1, 1) is uniform: mean 1/2, standard error 0.0065.
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
    }
}
