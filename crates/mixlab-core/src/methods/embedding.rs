//! Methods that train an embedding rather than a classifier: Metrix (mixup for deep metric learning) and
//! MI-Mix (DNABERT-S's manifold instance mixup), which train on some classes and are judged by retrieval
//! (Recall@K) on classes never seen in training, and SupReMix (supervised contrastive regression with mixed
//! hard pairs), judged by a linear head's regression error. The core draws their λ and SupReMix's pairs; the
//! trainer (mixlab-burn) builds the embeddings, the mixes and the losses.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// Which pair loss an embedding is trained with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricLoss {
    /// Contrastive loss on Euclidean distances of unit embeddings: positives pulled to 0, negatives pushed
    /// past `neg_margin` (Metrix's `ContrastiveLoss(neg_margin = 0.5)`).
    Contrastive,
    /// Multi-similarity loss with its miner on cosine similarities (Wang et al., CVPR'19).
    MultiSimilarity,
}

/// Where Metrix mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MixLevel {
    /// Mix the input samples.
    Input,
    /// Mix the features after the model's first block (mixing point 1).
    Feature,
    /// Mix the output embeddings.
    Embedding,
}

impl MixLevel {
    /// The model mixing point this level mixes at; `None` = after the last layer.
    pub fn mix_point(self) -> Option<usize> {
        match self {
            MixLevel::Input => Some(0),
            MixLevel::Feature => Some(1),
            MixLevel::Embedding => None,
        }
    }
}

/// What an embedding method trains and evaluates on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddingTask {
    /// Embedding width (the model's outputs).
    pub dim: usize,
    /// Classes `0..train_classes` train; the rest are retrieved at evaluation. `None` = the first half
    /// (rounded up), the CUB-200 / Cars-196 convention.
    pub train_classes: Option<usize>,
}

impl EmbeddingTask {
    /// The number of training classes for a dataset of `classes` classes, checked: at least two classes on
    /// each side (one retrieved class would make every neighbour a hit).
    pub fn split(&self, classes: usize) -> Result<usize> {
        let k = self.train_classes.unwrap_or(classes.div_ceil(2));
        if k < 2 || classes < k + 2 {
            return Err(Error::Incompatible(format!(
                "metric learning trains on classes 0..{k} and retrieves the other {} of {classes}: \
                 both sides need at least 2 classes",
                classes.saturating_sub(k)
            )));
        }
        Ok(k)
    }
}

pub(super) fn check_dim(dim: usize) -> Result<()> {
    if (2..=4096).contains(&dim) {
        Ok(())
    } else {
        Err(Error::param("dim", "an embedding width in 2..=4096", dim))
    }
}

pub(super) fn check_nonneg(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::param(name, "a finite number >= 0", v))
    }
}

pub(super) fn check_pos(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::param(name, "a finite number > 0", v))
    }
}

/// Metrix (Venkataramanan et al., ICLR'22): besides the clean pair loss, each (anchor, positive) pair mixes its
/// positive with the anchor's hardest negative in the batch, λ ~ Beta(α, α); the mix counts as a positive with
/// weight λ and as a negative with weight 1 − λ (the paper's generalised mixed loss), added with `mix_weight`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetrixConfig {
    /// Beta concentration α (default 2.0, the reference's).
    pub alpha: f64,
    /// Pair loss (default contrastive).
    pub loss: MetricLoss,
    /// Where to mix (default feature, the reference's `--mode feature`).
    pub level: MixLevel,
    /// Weight of the mixed term (default 0.4, the reference's); 0 trains the plain loss, the baseline.
    pub mix_weight: f64,
    /// Contrastive negative margin on the distance (default 0.5).
    pub neg_margin: f64,
    /// Multi-similarity scale α of the positive term, > 0 (default 17.97; the four `ms_*` defaults are the
    /// reference's tuned values).
    pub ms_alpha: f64,
    /// Multi-similarity scale β of the negative term, > 0 (default 75.66).
    pub ms_beta: f64,
    /// Multi-similarity similarity offset (the paper's λ), in [−1, 1] (default 0.77).
    pub ms_base: f64,
    /// Multi-similarity miner margin ε on the cosine similarity, ≥ 0 (default 0.39).
    pub ms_epsilon: f64,
    /// Embedding width (default 64).
    pub dim: usize,
    /// Training classes (default: the first half).
    pub train_classes: Option<usize>,
}

impl Default for MetrixConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            loss: MetricLoss::Contrastive,
            level: MixLevel::Feature,
            mix_weight: 0.4,
            neg_margin: 0.5,
            ms_alpha: 17.97,
            ms_beta: 75.66,
            ms_base: 0.77,
            ms_epsilon: 0.39,
            dim: 64,
            train_classes: None,
        }
    }
}

impl MetrixConfig {
    /// The embedding task.
    pub fn task(&self) -> EmbeddingTask {
        EmbeddingTask {
            dim: self.dim,
            train_classes: self.train_classes,
        }
    }
}

impl MixMethod for MetrixConfig {
    const NAME: &'static str = "metrix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        check_nonneg("mix_weight", self.mix_weight)?;
        check_nonneg("neg_margin", self.neg_margin)?;
        check_pos("ms_alpha", self.ms_alpha)?;
        check_pos("ms_beta", self.ms_beta)?;
        check_nonneg("ms_epsilon", self.ms_epsilon)?;
        if !(self.ms_base.is_finite() && (-1.0..=1.0).contains(&self.ms_base)) {
            return Err(Error::param(
                "ms_base",
                "a cosine similarity in [-1, 1]",
                self.ms_base,
            ));
        }
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

/// MI-Mix (DNABERT-S, Zhou et al. 2024): two views of each anchor (here: another training sample of the same
/// class); the first view's hidden state at a mixing point drawn from `layers` is mixed with a random other
/// anchor's, λ ~ Beta(α, α) folded to max(λ, 1 − λ), and the embedding learns to put similarity λ on its own
/// second view and 1 − λ on the partner's (i-Mix's contrastive loss). With `curriculum`, the first third of the
/// epochs trains the unmixed hard-negative contrastive loss (C²LR), as the reference does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MimixConfig {
    /// Beta concentration α (default 1.0, the reference's `mix_alpha`).
    pub alpha: f64,
    /// Softmax temperature of the contrastive losses (default 0.05).
    pub temperature: f64,
    /// Mixing points to draw from (default `[1, 2]`: hidden states, never the raw input).
    pub layers: Vec<usize>,
    /// Stage I (unmixed) for the first third of the epochs (default true).
    pub curriculum: bool,
    /// Mix at all (default true); false trains stage I throughout, the baseline (the reference without `--mix`).
    pub mixing: bool,
    /// Embedding width (default 64).
    pub dim: usize,
    /// Training classes (default: the first half).
    pub train_classes: Option<usize>,
}

impl Default for MimixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            temperature: 0.05,
            layers: vec![1, 2],
            curriculum: true,
            mixing: true,
            dim: 64,
            train_classes: None,
        }
    }
}

impl MimixConfig {
    /// The embedding task.
    pub fn task(&self) -> EmbeddingTask {
        EmbeddingTask {
            dim: self.dim,
            train_classes: self.train_classes,
        }
    }

    /// Whether epoch `epoch` of `epochs` mixes (the curriculum's stage II).
    pub fn mixes_at(&self, epoch: usize, epochs: usize) -> bool {
        self.mixing && (!self.curriculum || epoch >= epochs / 3)
    }
}

impl MixMethod for MimixConfig {
    const NAME: &'static str = "mimix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        check_pos("temperature", self.temperature)?;
        if self.layers.is_empty() {
            return Err(Error::param(
                "layers",
                "a non-empty list of mixing points",
                "[]",
            ));
        }
        check_dim(self.dim)
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let l = sample_beta(self.alpha, self.alpha, rng)? as f32;
        // The reference folds λ so that the sample itself always dominates its mix.
        let lam = l.max(1.0 - l);
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}

/// One embedding-level mixture SupReMix adds for an anchor: `lam·z_a + (1 − lam)·z_b`, renormalised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegMix {
    /// The anchor (batch row) the mixture is scored against.
    pub owner: usize,
    /// Batch row of `z_a`: the lower-target negative for a hard positive, the anchor itself for a hard negative.
    pub a: usize,
    /// Batch row of `z_b`: the higher-target negative for a hard positive, a negative for a hard negative.
    pub b: usize,
    /// Weight of `z_a`: `(y_b − y_owner)/(y_b − y_a)` for a hard positive, `max(l, 1 − l)` with
    /// l ~ Beta(α, α) for a hard negative.
    pub lam: f32,
    /// A hard positive (anchor-exclusive, its label equals the anchor's) or a hard negative
    /// (anchor-inclusive, its label lies between the anchor's and a negative's).
    pub positive: bool,
}

/// SupReMix (Wu et al., "Mixup Your Own Pairs", 2023): supervised contrastive regression on unit embeddings,
/// where a batch sample is a positive of anchor i when |y_j − y_i| ≤ `tolerance` and a negative otherwise, plus
/// mixtures made for each anchor at the embedding level:
/// - hard positives (anchor-exclusive): two negatives j, k with y_j < y_i < y_k mixed with
///   λ = (y_k − y_i)/(y_k − y_j), so that the mixture's label is exactly y_i;
/// - hard negatives (anchor-inclusive): the anchor mixed with a negative j, λ ~ Beta(α, α) folded to ≥ ½ on the
///   anchor, so the mixture is close to the anchor but its label is not.
///
/// The loss is SupCon's: for each anchor with a positive, the mean over positives p of
/// −log(e^{s_ip/τ} / Σ_{a ≠ i} e^{s_ia/τ}), the sum running over the batch and the anchor's own mixtures. After
/// training, a ridge-regression head on the frozen training embeddings predicts the target. No reference code is
/// public (the repository says "Coming Soon"), so this follows the paper's description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupremixConfig {
    /// Beta concentration α of the hard negatives' λ (default 2.0).
    pub alpha: f64,
    /// Softmax temperature τ (default 0.1).
    pub temperature: f64,
    /// Hard positives made per anchor (default 2; 0 = none).
    pub hard_positives: usize,
    /// Hard negatives made per anchor (default 2; 0 = none).
    pub hard_negatives: usize,
    /// Targets within this distance count as equal (default 0: only ties).
    pub tolerance: f64,
    /// Embedding width (default 64).
    pub dim: usize,
    /// L2 penalty of the ridge head (default 1e-3, relative to the embeddings' unit scale).
    pub ridge: f64,
}

impl Default for SupremixConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            temperature: 0.1,
            hard_positives: 2,
            hard_negatives: 2,
            tolerance: 0.0,
            dim: 64,
            ridge: 1e-3,
        }
    }
}

impl SupremixConfig {
    /// The mixtures for a batch with scalar targets `y`: for every anchor, up to `hard_positives` hard
    /// positives (none when no batch target lies on both sides of it) and `hard_negatives` hard negatives.
    pub fn mixtures<R: Rng + ?Sized>(&self, y: &[f32], rng: &mut R) -> Result<Vec<RegMix>> {
        let tol = self.tolerance as f32;
        let mut out = Vec::with_capacity(y.len() * (self.hard_positives + self.hard_negatives));
        for (i, &yi) in y.iter().enumerate() {
            let below: Vec<usize> = (0..y.len()).filter(|&j| y[j] < yi - tol).collect();
            let above: Vec<usize> = (0..y.len()).filter(|&j| y[j] > yi + tol).collect();
            if !below.is_empty() && !above.is_empty() {
                for _ in 0..self.hard_positives {
                    let j = below[rng.random_range(0..below.len())];
                    let k = above[rng.random_range(0..above.len())];
                    let lam = (y[k] - yi) / (y[k] - y[j]);
                    out.push(RegMix {
                        owner: i,
                        a: j,
                        b: k,
                        lam,
                        positive: true,
                    });
                }
            }
            let negatives = below.len() + above.len();
            if negatives > 0 {
                for _ in 0..self.hard_negatives {
                    let r = rng.random_range(0..negatives);
                    let j = if r < below.len() {
                        below[r]
                    } else {
                        above[r - below.len()]
                    };
                    let l = sample_beta(self.alpha, self.alpha, rng)? as f32;
                    out.push(RegMix {
                        owner: i,
                        a: i,
                        b: j,
                        lam: l.max(1.0 - l),
                        positive: false,
                    });
                }
            }
        }
        Ok(out)
    }
}

impl MixMethod for SupremixConfig {
    const NAME: &'static str = "supremix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        check_pos("temperature", self.temperature)?;
        check_nonneg("tolerance", self.tolerance)?;
        check_nonneg("ridge", self.ridge)?;
        for (name, v) in [
            ("hard_positives", self.hard_positives),
            ("hard_negatives", self.hard_negatives),
        ] {
            if v > 16 {
                return Err(Error::param(name, "at most 16 per anchor", v));
            }
        }
        check_dim(self.dim)
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let l = sample_beta(self.alpha, self.alpha, rng)? as f32;
        let lam = l.max(1.0 - l);
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}

/// Geodesic multi-modal mixup (m²-mix, Oh et al., NeurIPS'23): a CLIP-style contrastive loss between two
/// modalities' unit embeddings plus `mix_weight` × a term whose negatives are hard: for anchor i the off-diagonal
/// candidates are slerps `sph_inter(a_j, b_j, λ)` of the other pairs on the hypersphere, λ ~ Beta(β, β) once per
/// batch (the reference's `mmmix` branch with separate temperatures).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeomixConfig {
    /// Beta concentration β of λ (default 0.5, the reference's `beta2` in scripts/m2mix.sh).
    pub beta: f64,
    /// Weight of the m²-mix term (default 0.05, the top of the reference's sweep); 0 trains plain CLIP.
    pub mix_weight: f64,
    /// Divide the weight by epoch + 1 (default true, the reference's `--schedule 1.0`).
    pub decay: bool,
    /// CLIP temperature τ (default 0.07, CLIP's initial value; the reference fine-tunes pretrained CLIP at
    /// 0.01).
    pub temperature: f64,
    /// Temperature of the m²-mix term (default 0.07, the reference's `tau2`).
    pub mix_temperature: f64,
    /// Embedding width of both towers (default 64).
    pub dim: usize,
}

impl Default for GeomixConfig {
    fn default() -> Self {
        Self {
            beta: 0.5,
            mix_weight: 0.05,
            decay: true,
            temperature: 0.07,
            mix_temperature: 0.07,
            dim: 64,
        }
    }
}

impl GeomixConfig {
    /// The m²-mix weight at `epoch`.
    pub fn weight_at(&self, epoch: usize) -> f64 {
        if self.decay {
            self.mix_weight / (epoch + 1) as f64
        } else {
            self.mix_weight
        }
    }
}

impl MixMethod for GeomixConfig {
    const NAME: &'static str = "geomix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("beta", self.beta)?;
        check_nonneg("mix_weight", self.mix_weight)?;
        check_pos("temperature", self.temperature)?;
        check_pos("mix_temperature", self.mix_temperature)?;
        check_dim(self.dim)
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let lam = sample_beta(self.beta, self.beta, rng)? as f32;
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::test_util::draw;

    fn shape() -> SampleShape {
        SampleShape::new(1, &[28, 28]).unwrap()
    }

    #[test]
    fn bad_hyper_parameters_are_refused_with_the_rule() {
        let s = shape();
        for (c, field) in [
            (
                MetrixConfig {
                    neg_margin: -0.1,
                    ..Default::default()
                },
                "neg_margin",
            ),
            (
                MetrixConfig {
                    mix_weight: f64::NAN,
                    ..Default::default()
                },
                "mix_weight",
            ),
            (
                MetrixConfig {
                    ms_base: 1.5,
                    ..Default::default()
                },
                "ms_base",
            ),
            (
                MetrixConfig {
                    dim: 1,
                    ..Default::default()
                },
                "dim",
            ),
            (
                MetrixConfig {
                    alpha: 0.0,
                    ..Default::default()
                },
                "alpha",
            ),
        ] {
            let e = c.validate(&s).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        let e = MimixConfig {
            temperature: 0.0,
            ..Default::default()
        }
        .validate(&s)
        .unwrap_err()
        .to_string();
        assert!(e.contains("temperature") && e.contains("> 0"), "{e}");
        assert!(
            MimixConfig {
                layers: vec![],
                ..Default::default()
            }
            .validate(&s)
            .is_err()
        );
        assert!(MetrixConfig::default().validate(&s).is_ok());
        assert!(MimixConfig::default().validate(&s).is_ok());
    }

    #[test]
    fn class_split_defaults_to_the_first_half_and_needs_two_on_each_side() {
        let t = MetrixConfig::default().task();
        assert_eq!(t.split(10).unwrap(), 5);
        assert_eq!(t.split(5).unwrap(), 3);
        assert!(t.split(3).is_err());
        let t = EmbeddingTask {
            dim: 8,
            train_classes: Some(9),
        };
        let e = t.split(10).unwrap_err().to_string();
        assert!(e.contains("0..9") && e.contains("1 of 10"), "{e}");
        assert_eq!(
            EmbeddingTask {
                dim: 8,
                train_classes: Some(8)
            }
            .split(10)
            .unwrap(),
            8
        );
    }

    #[test]
    fn mimix_folds_lambda_above_one_half() {
        let c = MimixConfig::default();
        let lams: Vec<f32> = (0..2000).map(|s| draw(&c, &shape(), s).lam_label).collect();
        assert!(lams.iter().all(|&l| (0.5..=1.0).contains(&l)));
        // Beta(1, 1) folded is U(1/2, 1): mean 3/4.
        let mean = lams.iter().map(|&l| f64::from(l)).sum::<f64>() / lams.len() as f64;
        assert!((mean - 0.75).abs() < 0.01, "{mean}");
    }

    #[test]
    fn supremix_hard_positives_carry_the_anchor_label_and_negatives_do_not() {
        let c = SupremixConfig {
            hard_positives: 3,
            hard_negatives: 3,
            tolerance: 0.1,
            ..Default::default()
        };
        let y = [1.0f32, 2.0, 2.05, 5.0, -3.0, 0.5];
        let mut rng = crate::rng::stream(1, crate::rng::Purpose::Mix, 0, 0);
        let mixes = c.mixtures(&y, &mut rng).unwrap();
        for m in &mixes {
            let label = m.lam * y[m.a] + (1.0 - m.lam) * y[m.b];
            let yi = y[m.owner];
            if m.positive {
                assert!((label - yi).abs() < 1e-5, "{m:?}");
                assert!(y[m.a] < yi - 0.1 && y[m.b] > yi + 0.1, "{m:?}");
                assert!(m.a != m.owner && m.b != m.owner);
            } else {
                assert_eq!(m.a, m.owner);
                assert!((0.5..=1.0).contains(&m.lam), "{m:?}");
                assert!((y[m.b] - yi).abs() > 0.1, "{m:?}");
            }
        }
        // The extremes (5.0 and −3.0) have no target on both sides: no hard positive.
        for extreme in [3, 4] {
            assert!(!mixes.iter().any(|m| m.owner == extreme && m.positive));
        }
        // Every anchor has a negative outside the tolerance: 3 hard negatives each; 2.0 and 2.05 are ties.
        assert_eq!(mixes.iter().filter(|m| !m.positive).count(), 3 * y.len());
        assert_eq!(mixes.iter().filter(|m| m.positive).count(), 3 * 4);
        let e = SupremixConfig {
            temperature: -1.0,
            ..Default::default()
        }
        .validate(&SampleShape::new(1, &[5]).unwrap())
        .unwrap_err()
        .to_string();
        assert!(e.contains("temperature"), "{e}");
    }

    #[test]
    fn curriculum_mixes_from_the_first_third_on() {
        let c = MimixConfig::default();
        assert!(!c.mixes_at(0, 9) && !c.mixes_at(2, 9) && c.mixes_at(3, 9));
        assert!(c.mixes_at(0, 2));
        let off = MimixConfig {
            curriculum: false,
            ..Default::default()
        };
        assert!(off.mixes_at(0, 9));
        let never = MimixConfig {
            mixing: false,
            ..Default::default()
        };
        assert!((0..9).all(|e| !never.mixes_at(e, 9)));
    }
}
