//! Small CNN for 2-D inputs (the primer's SmallCnn generalised): blocks of conv3×3 (padding 1) + ReLU +
//! max-pool 2×2, then a hidden fully connected layer and the head. Works for 1×28×28, 3×32×32 and 1×8×8.
//! Mixing points: 0 = input, k = after conv block k.

use super::Hook;
use crate::error::{Error, Result};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use mixlab_core::shape::SampleShape;
use serde::{Deserialize, Serialize};

/// CNN hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CnnConfig {
    /// Output channels of each conv block (default [32, 64]).
    pub channels: Vec<usize>,
    /// Width of the hidden fully connected layer (default 128).
    pub hidden: usize,
}

impl Default for CnnConfig {
    fn default() -> Self {
        Self {
            channels: vec![32, 64],
            hidden: 128,
        }
    }
}

impl CnnConfig {
    pub(crate) fn validate(&self, input: &SampleShape) -> Result<()> {
        if input.rank != 2 {
            return Err(Error::Incompatible(format!(
                "cnn needs 2-D samples (CxHxW), got {input}"
            )));
        }
        if self.channels.is_empty() || self.channels.contains(&0) || self.hidden == 0 {
            return Err(Error::param(
                "cnn channels and hidden width",
                "non-empty and >= 1",
                format!("{:?}, {}", self.channels, self.hidden),
            ));
        }
        let shrink = 1usize << self.channels.len().min(20);
        if input.dims[1] < shrink || input.dims[2] < shrink {
            return Err(Error::Incompatible(format!(
                "cnn with {} pooling blocks needs H and W >= {shrink}, got {input}",
                self.channels.len()
            )));
        }
        Ok(())
    }

    pub(crate) fn init(&self, input: &SampleShape, outputs: usize, device: &Device) -> Cnn {
        let mut cin = input.channels;
        let (mut h, mut w) = (input.dims[1], input.dims[2]);
        let blocks = self
            .channels
            .iter()
            .map(|&c| {
                let conv = Conv2dConfig::new([cin, c], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device);
                cin = c;
                h /= 2;
                w /= 2;
                conv
            })
            .collect();
        Cnn {
            blocks,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc: LinearConfig::new(cin * h * w, self.hidden).init(device),
            head: LinearConfig::new(self.hidden, outputs).init(device),
            in_channels: input.channels,
            in_h: input.dims[1],
            in_w: input.dims[2],
        }
    }
}

/// The small CNN.
#[derive(Module, Debug)]
pub struct Cnn {
    pub(crate) blocks: Vec<Conv2d>,
    pool: MaxPool2d,
    fc: Linear,
    head: Linear,
    #[module(skip)]
    pub(crate) in_channels: usize,
    #[module(skip)]
    pub(crate) in_h: usize,
    #[module(skip)]
    pub(crate) in_w: usize,
}

impl Cnn {
    /// The last conv block's output (after its pooling), N×C×h×w.
    pub(crate) fn feature_map(&self, x: Tensor<3>) -> Tensor<4> {
        let n = x.dims()[0];
        let mut h: Tensor<4> = x.reshape([n, self.in_channels, self.in_h, self.in_w]);
        for conv in &self.blocks {
            h = self.pool.forward(relu(conv.forward(h)));
        }
        h
    }

    pub(crate) fn forward_hooked(&self, x: Tensor<3>, hook: &mut Hook<'_>) -> Result<Tensor<2>> {
        let n = x.dims()[0];
        let mut h: Tensor<4> = x.reshape([n, self.in_channels, self.in_h, self.in_w]);
        for (k, conv) in self.blocks.iter().enumerate() {
            h = self.pool.forward(relu(conv.forward(h)));
            h = hook.at(k + 1, h)?;
        }
        let [n, c, hh, ww] = h.dims();
        let flat: Tensor<2> = h.reshape([n, c * hh * ww]);
        Ok(self
            .head
            .forward(hook.features(relu(self.fc.forward(flat)))))
    }
}
