//! Fully connected network on the flattened sample: hidden blocks of Linear + activation, then a head.
//! Mixing points: 0 = input, k = after hidden block k. The C-Mixup airfoil recipe is 5-128-128-1 with
//! LeakyReLU(0.1): `MlpConfig { hidden: vec![128, 128], activation: Activation::LeakyRelu }`.

use super::Hook;
use crate::error::{Error, Result};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, relu};
use mixlab_core::shape::SampleShape;
use serde::{Deserialize, Serialize};

/// Hidden activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// ReLU (default).
    #[default]
    Relu,
    /// LeakyReLU with slope 0.1 (C-Mixup's regression nets).
    LeakyRelu,
}

/// MLP hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Hidden widths (default [128, 128]).
    pub hidden: Vec<usize>,
    /// Hidden activation (default ReLU).
    pub activation: Activation,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: vec![128, 128],
            activation: Activation::Relu,
        }
    }
}

impl MlpConfig {
    /// Sets the hidden widths.
    pub fn with_hidden(mut self, hidden: Vec<usize>) -> Self {
        self.hidden = hidden;
        self
    }
    /// Sets the activation.
    pub fn with_activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }

    pub(crate) fn validate(&self, _input: &SampleShape) -> Result<()> {
        if let Some(&w) = self.hidden.iter().find(|&&w| w == 0) {
            return Err(Error::param("mlp hidden width", ">= 1", w));
        }
        Ok(())
    }

    pub(crate) fn init(&self, input: &SampleShape, outputs: usize, device: &Device) -> Mlp {
        let mut layers = Vec::new();
        let mut d = input.sample_len();
        for &h in &self.hidden {
            layers.push(LinearConfig::new(d, h).init(device));
            d = h;
        }
        Mlp {
            layers,
            head: LinearConfig::new(d, outputs).init(device),
            leaky: self.activation == Activation::LeakyRelu,
            in_channels: input.channels,
            in_len: input.spatial_len(),
        }
    }
}

/// The MLP.
#[derive(Module, Debug)]
pub struct Mlp {
    pub(crate) layers: Vec<Linear>,
    head: Linear,
    #[module(skip)]
    leaky: bool,
    #[module(skip)]
    pub(crate) in_channels: usize,
    #[module(skip)]
    pub(crate) in_len: usize,
}

impl Mlp {
    pub(crate) fn forward_hooked(&self, x: Tensor<3>, hook: &mut Hook<'_>) -> Result<Tensor<2>> {
        let [n, c, s] = x.dims();
        let mut h: Tensor<2> = x.reshape([n, c * s]);
        for (k, layer) in self.layers.iter().enumerate() {
            let z = layer.forward(h);
            h = if self.leaky {
                leaky_relu(z, 0.1)
            } else {
                relu(z)
            };
            h = hook.at(k + 1, h)?;
        }
        Ok(self.head.forward(hook.features(h)))
    }
}
