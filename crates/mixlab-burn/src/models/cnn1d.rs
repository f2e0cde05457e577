//! 1-D CNN for raw waveforms, M5-style (Dai et al., 2017): a wide strided first conv, then 3-tap convs,
//! each followed by BatchNorm, ReLU and max-pool 4 (skipped once the signal is shorter than 4), global
//! average pooling and a linear head. Default for 1×8000 (8 kHz, one second).
//! Mixing points: 0 = input, k = after conv block k.

use super::{Hook, conv_out};
use crate::error::{Error, Result};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use mixlab_core::shape::SampleShape;
use serde::{Deserialize, Serialize};

/// 1-D CNN hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cnn1dConfig {
    /// Output channels of each block (default [32, 32, 64, 64]).
    pub channels: Vec<usize>,
    /// Kernel of the first conv (default 80).
    pub first_kernel: usize,
    /// Stride of the first conv (default 16).
    pub first_stride: usize,
}

impl Default for Cnn1dConfig {
    fn default() -> Self {
        Self {
            channels: vec![32, 32, 64, 64],
            first_kernel: 80,
            first_stride: 16,
        }
    }
}

impl Cnn1dConfig {
    /// Lengths after each block and whether the block pools (None when the input is too short).
    fn plan(&self, len: usize) -> Option<Vec<(usize, bool)>> {
        let mut l = conv_out(len, self.first_kernel, self.first_stride, 0)?;
        let mut out = Vec::new();
        for k in 0..self.channels.len() {
            if k > 0 {
                l = conv_out(l, 3, 1, 1)?;
            }
            let pool = l >= 4;
            if pool {
                l /= 4;
            }
            out.push((l, pool));
        }
        Some(out)
    }

    pub(crate) fn validate(&self, input: &SampleShape) -> Result<()> {
        if input.rank != 1 {
            return Err(Error::Incompatible(format!(
                "cnn1d needs 1-D samples (CxL), got {input}"
            )));
        }
        if self.channels.is_empty()
            || self.channels.contains(&0)
            || self.first_kernel == 0
            || self.first_stride == 0
        {
            return Err(Error::param(
                "cnn1d channels, first kernel and stride",
                "non-empty and >= 1",
                format!(
                    "{:?}, {}, {}",
                    self.channels, self.first_kernel, self.first_stride
                ),
            ));
        }
        if self.plan(input.dims[2]).is_none() {
            return Err(Error::Incompatible(format!(
                "cnn1d's first conv (kernel {}) is longer than the signal {input}",
                self.first_kernel
            )));
        }
        Ok(())
    }

    pub(crate) fn init(&self, input: &SampleShape, outputs: usize, device: &Device) -> Cnn1d {
        let pools: Vec<bool> = self
            .plan(input.dims[2])
            .unwrap_or_default()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let mut cin = input.channels;
        let blocks = self
            .channels
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                let conv = if k == 0 {
                    Conv1dConfig::new(cin, c, self.first_kernel).with_stride(self.first_stride)
                } else {
                    Conv1dConfig::new(cin, c, 3).with_padding(PaddingConfig1d::Explicit(1, 1))
                };
                cin = c;
                Block1d {
                    conv: conv.init(device),
                    bn: BatchNormConfig::new(c).init(device),
                    pool: pools.get(k).copied().unwrap_or(false),
                }
            })
            .collect();
        Cnn1d {
            blocks,
            pool: MaxPool1dConfig::new(4).init(),
            head: LinearConfig::new(cin, outputs).init(device),
            in_channels: input.channels,
            in_len: input.dims[2],
        }
    }
}

/// conv → BN → ReLU (→ max-pool 4).
#[derive(Module, Debug)]
pub struct Block1d {
    conv: Conv1d,
    bn: BatchNorm,
    #[module(skip)]
    pool: bool,
}

/// The 1-D CNN.
#[derive(Module, Debug)]
pub struct Cnn1d {
    pub(crate) blocks: Vec<Block1d>,
    pool: MaxPool1d,
    head: Linear,
    #[module(skip)]
    pub(crate) in_channels: usize,
    #[module(skip)]
    pub(crate) in_len: usize,
}

impl Cnn1d {
    /// Every BatchNorm layer, in module order.
    pub(crate) fn batch_norms(&self) -> Vec<&BatchNorm> {
        self.blocks.iter().map(|b| &b.bn).collect()
    }

    pub(crate) fn forward_hooked(&self, x: Tensor<3>, hook: &mut Hook<'_>) -> Result<Tensor<2>> {
        let mut h = x;
        for (k, b) in self.blocks.iter().enumerate() {
            h = relu(b.bn.forward(b.conv.forward(h)));
            if b.pool {
                h = self.pool.forward(h);
            }
            h = hook.at(k + 1, h)?;
        }
        let [n, c, _] = h.dims();
        let pooled: Tensor<2> = h.mean_dim(2).reshape([n, c]);
        Ok(self.head.forward(hook.features(pooled)))
    }
}
