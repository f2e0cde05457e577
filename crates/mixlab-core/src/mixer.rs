//! Composition: partners, λ granularity, apply probability, method choice, mixing-off epoch.
//!
//! `MixerConfig::sample` turns a batch description into a [`MixPlan`]: it draws the pairing, splits the
//! batch into groups that share one draw (the whole batch, each pair, or each element), flips the
//! `prob` coin and picks a method by weight per group, then asks the method for its draw. Where the
//! reference shares only λ across a batch (MaskMix: each sample its own patches), the method gives each
//! sample of a batch group its own draw ([`MethodConfig::draw_group`]).

use crate::error::{Error, Result};
use crate::methods::{DrawCtx, Method, MethodConfig};
use crate::plan::{MixPlan, SampleWeight};
use crate::shape::SampleShape;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// How partners are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Pairing {
    /// A random permutation (OpenMixup, FMix). With `pair` granularity: a random perfect matching.
    #[default]
    Permute,
    /// j = B − 1 − i (timm). With an odd batch the middle sample is paired with itself.
    Flip,
    /// j = i − 1 mod B (torchvision's `roll(1, 0)`).
    Roll,
}

/// Which samples share one draw (λ, box, mask, method; a batch of MaskMix shares only λ and the method).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// One draw for the whole batch (timm `batch`, OpenMixup, torchvision).
    #[default]
    Batch,
    /// One draw per pair (i, j), applied symmetrically (timm `pair`).
    Pair,
    /// One draw per sample (timm `elem`).
    Elem,
}

/// A method and its selection weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightedMethod {
    /// Relative selection weight (> 0).
    pub weight: f64,
    /// The method and its hyper-parameters.
    #[serde(flatten)]
    pub config: MethodConfig,
}

/// Everything that decides how a batch is mixed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixerConfig {
    /// Candidate methods with selection weights (timm's `switch_prob`, generalised to any number).
    pub methods: Vec<WeightedMethod>,
    /// Probability that a group is mixed at all (default 1).
    pub prob: f64,
    /// Which samples share a draw (default `batch`).
    pub granularity: Granularity,
    /// How partners are chosen (default `permute`).
    pub pairing: Pairing,
    /// Label smoothing s, applied as timm does (default 0).
    pub label_smoothing: f32,
    /// From this epoch on, mixing is switched off (early-stopped mixup); `None` keeps it on.
    pub off_epoch: Option<u64>,
}

impl Default for MixerConfig {
    fn default() -> Self {
        Self {
            methods: vec![],
            prob: 1.0,
            granularity: Granularity::Batch,
            pairing: Pairing::Permute,
            label_smoothing: 0.0,
            off_epoch: None,
        }
    }
}

/// What the mixer needs to know about a batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchInfo<'a> {
    /// Batch size B (any B ≥ 1, odd too).
    pub batch: usize,
    /// Shape of one sample.
    pub shape: SampleShape,
    /// Current epoch (for `off_epoch`).
    pub epoch: u64,
    /// The batch's data as f32 (B×C×spatial), for methods that look at it (saliencymix).
    pub data: Option<&'a [f32]>,
}

impl MixerConfig {
    /// A mixer with one method.
    pub fn single(config: MethodConfig) -> Self {
        Self {
            methods: vec![WeightedMethod {
                weight: 1.0,
                config,
            }],
            ..Self::default()
        }
    }
    /// timm's most common recipe, `Mixup(mixup_alpha, cutmix_alpha)`: MixUp or CutMix per batch with
    /// equal odds (timm's `switch_prob = 0.5`), λ corrected to the box area, every batch mixed.
    pub fn mixup_cutmix(mixup_alpha: f64, cutmix_alpha: f64) -> Self {
        use crate::methods::{CutmixConfig, MixupConfig};
        Self {
            methods: vec![
                WeightedMethod {
                    weight: 0.5,
                    config: MethodConfig::Mixup(MixupConfig::default().with_alpha(mixup_alpha)),
                },
                WeightedMethod {
                    weight: 0.5,
                    config: MethodConfig::Cutmix(CutmixConfig::default().with_alpha(cutmix_alpha)),
                },
            ],
            ..Self::default()
        }
    }
    /// Sets the apply probability.
    pub fn with_prob(mut self, prob: f64) -> Self {
        self.prob = prob;
        self
    }
    /// Sets the granularity.
    pub fn with_granularity(mut self, g: Granularity) -> Self {
        self.granularity = g;
        self
    }
    /// Sets the pairing.
    pub fn with_pairing(mut self, p: Pairing) -> Self {
        self.pairing = p;
        self
    }
    /// Sets label smoothing.
    pub fn with_label_smoothing(mut self, s: f32) -> Self {
        self.label_smoothing = s;
        self
    }
    /// Sets the mixing-off epoch.
    pub fn with_off_epoch(mut self, e: Option<u64>) -> Self {
        self.off_epoch = e;
        self
    }

    /// Checks every option against the sample shape before any work starts.
    pub fn validate(&self, shape: &SampleShape) -> Result<()> {
        if !(self.prob.is_finite() && (0.0..=1.0).contains(&self.prob)) {
            return Err(Error::param("prob", "in [0, 1]", self.prob));
        }
        if !(self.label_smoothing.is_finite() && (0.0..1.0).contains(&self.label_smoothing)) {
            return Err(Error::param(
                "label smoothing",
                "in [0, 1)",
                self.label_smoothing,
            ));
        }
        if self.granularity == Granularity::Pair && self.pairing == Pairing::Roll {
            return Err(Error::Incompatible(
                "granularity pair needs a pairing that pairs samples both ways (flip or permute), not roll".into(),
            ));
        }
        for m in &self.methods {
            if !(m.weight.is_finite() && m.weight > 0.0) {
                return Err(Error::param(
                    "method weight",
                    "a finite number > 0",
                    m.weight,
                ));
            }
            m.config.validate(shape)?;
        }
        Ok(())
    }

    /// The methods in this mixer, in order.
    pub fn method_names(&self) -> Vec<Method> {
        self.methods.iter().map(|m| m.config.method()).collect()
    }

    /// Samples the plan for one batch.
    pub fn sample<R: Rng + ?Sized>(&self, info: &BatchInfo<'_>, rng: &mut R) -> Result<MixPlan> {
        self.validate(&info.shape)?;
        let b = info.batch;
        if b == 0 {
            return Err(Error::param("batch size", ">= 1", 0));
        }
        let len = info.shape.sample_len();
        if let Some(d) = info.data
            && d.len() != b * len
        {
            return Err(Error::SizeMismatch {
                what: "batch data",
                expected: b * len,
                got: d.len(),
            });
        }
        let mixing_on = !self.methods.is_empty() && self.off_epoch.is_none_or(|e| info.epoch < e);
        if !mixing_on {
            return Ok(MixPlan::identity(b, info.shape));
        }
        let partner = partners(self.pairing, self.granularity, b, rng);
        let groups = groups(self.granularity, &partner);
        let mut plan = MixPlan {
            shape: info.shape,
            partner,
            weights: vec![SampleWeight::Keep; b],
            lam_label: vec![1.0; b],
            method: vec![Method::None; b],
        };
        for group in groups {
            if self.prob < 1.0 && rng.random::<f64>() >= self.prob {
                continue;
            }
            let config = self.choose(rng);
            let lead = group[0];
            let j = plan.partner[lead];
            let ctx = DrawCtx {
                shape: &info.shape,
                partner_data: info.data.map(|d| &d[j * len..(j + 1) * len]),
            };
            // A batch shares λ (and, for most methods, everything else); a pair shares one draw, since
            // its two samples take complementary parts of it.
            let own = match self.granularity {
                Granularity::Batch => group.len(),
                Granularity::Pair | Granularity::Elem => 1,
            };
            let draws = config.draw_group(&ctx, own, rng)?;
            if draws.len() != own {
                return Err(Error::SizeMismatch {
                    what: "draws of a group",
                    expected: own,
                    got: draws.len(),
                });
            }
            for (k, &i) in group.iter().enumerate() {
                let draw = &draws[if own == 1 { 0 } else { k }];
                plan.weights[i] = draw.weight.clone();
                plan.lam_label[i] = draw.lam_label;
                plan.method[i] = config.method();
            }
        }
        // A sample paired with itself is its own mix: keep it exactly (a resized self-paste or a
        // rounding blend would change it) and say so in the label weight.
        for i in 0..b {
            if plan.partner[i] == i {
                plan.weights[i] = SampleWeight::Keep;
                plan.lam_label[i] = 1.0;
            }
        }
        Ok(plan)
    }

    fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> &MethodConfig {
        if self.methods.len() == 1 {
            return &self.methods[0].config;
        }
        let total: f64 = self.methods.iter().map(|m| m.weight).sum();
        let mut u = rng.random::<f64>() * total;
        for m in &self.methods {
            if u < m.weight {
                return &m.config;
            }
            u -= m.weight;
        }
        &self.methods[self.methods.len() - 1].config
    }
}

/// Partner of every sample.
pub fn partners<R: Rng + ?Sized>(
    pairing: Pairing,
    granularity: Granularity,
    b: usize,
    rng: &mut R,
) -> Vec<usize> {
    match pairing {
        Pairing::Flip => (0..b).map(|i| b - 1 - i).collect(),
        Pairing::Roll => (0..b).map(|i| (i + b - 1) % b).collect(),
        Pairing::Permute if granularity == Granularity::Pair => {
            // A random perfect matching: shuffle, then pair neighbours; an odd one out pairs with itself.
            let mut order: Vec<usize> = (0..b).collect();
            order.shuffle(rng);
            let mut p: Vec<usize> = (0..b).collect();
            for pair in order.chunks_exact(2) {
                p[pair[0]] = pair[1];
                p[pair[1]] = pair[0];
            }
            p
        }
        Pairing::Permute => {
            let mut p: Vec<usize> = (0..b).collect();
            p.shuffle(rng);
            p
        }
    }
}

/// Groups of samples that share a draw; the first member of each group is its lead.
fn groups(granularity: Granularity, partner: &[usize]) -> Vec<Vec<usize>> {
    let b = partner.len();
    match granularity {
        Granularity::Batch => vec![(0..b).collect()],
        Granularity::Elem => (0..b).map(|i| vec![i]).collect(),
        Granularity::Pair => (0..b)
            .filter(|&i| partner[i] >= i)
            .map(|i| {
                if partner[i] == i {
                    vec![i]
                } else {
                    vec![i, partner[i]]
                }
            })
            .collect(),
    }
}
