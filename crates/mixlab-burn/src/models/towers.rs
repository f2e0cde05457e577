//! Two encoders into one embedding space, for cross-modal contrastive learning (geomix): tower `a` embeds
//! the run's dataset, tower `b` the paired dataset (e.g. FSDD recordings and digit images). Both live in one
//! module so that a run keeps one optimiser, one checkpoint and one seeded initialisation.

use super::{Cnn, Cnn1d, Hook, Mlp, ModelConfig};
use crate::error::{Error, Result};
use burn::prelude::*;
use mixlab_core::shape::SampleShape;
use serde::{Deserialize, Serialize};

/// The two towers and the paired dataset's sample shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoTowerConfig {
    /// Encoder of the run's dataset (mlp, cnn or cnn1d).
    pub a: Box<ModelConfig>,
    /// Encoder of the paired dataset (mlp, cnn or cnn1d).
    pub b: Box<ModelConfig>,
    /// One paired sample's shape, `[channels, spatial…]` (filled in from the paired dataset).
    pub b_input: Vec<usize>,
}

impl Default for TwoTowerConfig {
    fn default() -> Self {
        Self {
            a: Box::new(ModelConfig::Cnn1d(Default::default())),
            b: Box::new(ModelConfig::Mlp(Default::default())),
            b_input: Vec::new(),
        }
    }
}

impl TwoTowerConfig {
    /// The paired dataset's sample shape.
    pub fn b_shape(&self) -> Result<SampleShape> {
        match self.b_input.split_first() {
            Some((&c, spatial)) if !spatial.is_empty() => SampleShape::new(c, spatial)
                .map_err(|e| Error::Incompatible(format!("two-tower b_input: {e}"))),
            _ => Err(Error::param(
                "b_input",
                "the paired sample's [channels, spatial…] (set by the paired dataset)",
                format!("{:?}", self.b_input),
            )),
        }
    }

    pub(crate) fn validate(&self, input: &SampleShape, outputs: usize) -> Result<()> {
        for (name, c) in [("a", &self.a), ("b", &self.b)] {
            if !matches!(
                **c,
                ModelConfig::Mlp(_) | ModelConfig::Cnn(_) | ModelConfig::Cnn1d(_)
            ) {
                return Err(Error::Incompatible(format!(
                    "two-tower {name}: a tower is mlp, cnn or cnn1d, not {}",
                    c.name()
                )));
            }
        }
        self.a.validate(input, outputs)?;
        self.b.validate(&self.b_shape()?, outputs)
    }

    pub(crate) fn init(
        &self,
        input: &SampleShape,
        outputs: usize,
        device: &Device,
    ) -> Result<TwoTower> {
        self.validate(input, outputs)?;
        let tower = |c: &ModelConfig, shape: &SampleShape| -> Result<Tower> {
            Ok(match c {
                ModelConfig::Mlp(m) => Tower::Mlp(m.init(shape, outputs, device)),
                ModelConfig::Cnn(m) => Tower::Cnn(m.init(shape, outputs, device)),
                ModelConfig::Cnn1d(m) => Tower::Cnn1d(m.init(shape, outputs, device)),
                other => {
                    return Err(Error::Incompatible(format!(
                        "two-tower: a tower is mlp, cnn or cnn1d, not {}",
                        other.name()
                    )));
                }
            })
        };
        Ok(TwoTower {
            a: tower(&self.a, input)?,
            b: tower(&self.b, &self.b_shape()?)?,
        })
    }
}

/// One encoder.
// Two of these exist per run, never in a collection; Burn has no Module impl for Box, so no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Tower {
    /// An MLP on the flattened sample.
    Mlp(Mlp),
    /// The small 2-D CNN.
    Cnn(Cnn),
    /// The 1-D CNN (waveforms).
    Cnn1d(Cnn1d),
}

impl Tower {
    fn input(&self) -> (usize, usize) {
        match self {
            Tower::Mlp(m) => (m.in_channels, m.in_len),
            Tower::Cnn(m) => (m.in_channels, m.in_h * m.in_w),
            Tower::Cnn1d(m) => (m.in_channels, m.in_len),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Result<Tensor<2>> {
        let [_, c, s] = x.dims();
        let (ec, es) = self.input();
        if (c, s) != (ec, es) {
            return Err(Error::Incompatible(format!(
                "tower expects samples of {ec} channels x {es} positions, got {c} x {s}"
            )));
        }
        let hook = &mut Hook::none();
        match self {
            Tower::Mlp(m) => m.forward_hooked(x, hook),
            Tower::Cnn(m) => m.forward_hooked(x, hook),
            Tower::Cnn1d(m) => m.forward_hooked(x, hook),
        }
    }
}

/// Both encoders.
#[derive(Module, Debug)]
pub struct TwoTower {
    /// Encoder of the run's dataset: N×C×S batches to N×D embeddings (D: the run's embedding width).
    pub a: Tower,
    /// Encoder of the paired dataset: its own sample shape, the same embedding width D.
    pub b: Tower,
}

impl TwoTower {
    pub(crate) fn input(&self) -> (usize, usize) {
        self.a.input()
    }

    /// Embeddings of a batch of the run's dataset.
    pub fn forward_a(&self, x: Tensor<3>) -> Result<Tensor<2>> {
        self.a.forward(x)
    }

    /// Embeddings of a batch of the paired dataset.
    pub fn forward_b(&self, x: Tensor<3>) -> Result<Tensor<2>> {
        self.b.forward(x)
    }
}
