//! CIFAR ResNet-18 (He et al.) and pre-activation ResNet-18 (He et al., ECCV'16), as used by the
//! mixup papers: 3×3 stem with stride 1, four stages of two basic blocks with widths w, 2w, 4w, 8w and
//! strides 1, 2, 2, 2, global average pooling, linear head. Mixing points: 0 = input, k = after stage k.

use super::Hook;
use crate::error::{Error, Result};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use mixlab_core::shape::SampleShape;
use serde::{Deserialize, Serialize};

/// ResNet hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResNetConfig {
    /// Base width w (default 64, the paper's; 16 keeps CPU runs short).
    pub width: usize,
}

impl Default for ResNetConfig {
    fn default() -> Self {
        Self { width: 64 }
    }
}

impl ResNetConfig {
    /// Sets the base width.
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    pub(crate) fn validate(&self, input: &SampleShape) -> Result<()> {
        if input.rank != 2 {
            return Err(Error::Incompatible(format!(
                "resnet18 needs 2-D samples (CxHxW), got {input}"
            )));
        }
        if self.width == 0 {
            return Err(Error::param("resnet width", ">= 1", 0));
        }
        if input.dims[1] < 8 || input.dims[2] < 8 {
            return Err(Error::Incompatible(format!(
                "resnet18 halves the resolution three times and needs H and W >= 8, got {input}"
            )));
        }
        Ok(())
    }

    pub(crate) fn init(
        &self,
        input: &SampleShape,
        outputs: usize,
        preact: bool,
        device: &Device,
    ) -> ResNet {
        let w = self.width;
        let mut blocks = Vec::new();
        let mut cin = w;
        for (i, c) in [w, 2 * w, 4 * w, 8 * w].into_iter().enumerate() {
            let stride = if i == 0 { 1 } else { 2 };
            blocks.push(Block::new(cin, c, stride, preact, device));
            blocks.push(Block::new(c, c, 1, preact, device));
            cin = c;
        }
        ResNet {
            stem: conv3x3(input.channels, w, 1, device),
            // Standard: BN after the stem. Pre-activation: BN before the pooling (the final "bn-relu").
            bn: BatchNormConfig::new(if preact { 8 * w } else { w }).init(device),
            blocks,
            fc: LinearConfig::new(8 * w, outputs).init(device),
            preact,
            in_channels: input.channels,
            in_h: input.dims[1],
            in_w: input.dims[2],
        }
    }
}

fn conv3x3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .init(device)
}

/// 1×1 projection on the shortcut when the shape changes (with BN in the standard variant).
#[derive(Module, Debug)]
pub struct Shortcut {
    conv: Conv2d,
    bn: Option<BatchNorm>,
}

/// A basic block; `preact` chooses BN-ReLU-conv ordering.
#[derive(Module, Debug)]
pub struct Block {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    shortcut: Option<Shortcut>,
    #[module(skip)]
    preact: bool,
}

impl Block {
    fn new(cin: usize, cout: usize, stride: usize, preact: bool, device: &Device) -> Self {
        let shortcut = (stride != 1 || cin != cout).then(|| Shortcut {
            conv: Conv2dConfig::new([cin, cout], [1, 1])
                .with_stride([stride, stride])
                .with_bias(false)
                .init(device),
            bn: (!preact).then(|| BatchNormConfig::new(cout).init(device)),
        });
        Self {
            conv1: conv3x3(cin, cout, stride, device),
            bn1: BatchNormConfig::new(if preact { cin } else { cout }).init(device),
            conv2: conv3x3(cout, cout, 1, device),
            bn2: BatchNormConfig::new(cout).init(device),
            shortcut,
            preact,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if self.preact {
            let out = relu(self.bn1.forward(x.clone()));
            let sc = match &self.shortcut {
                Some(s) => s.conv.forward(out.clone()),
                None => x,
            };
            let out = self.conv1.forward(out);
            let out = self.conv2.forward(relu(self.bn2.forward(out)));
            out + sc
        } else {
            let out = relu(self.bn1.forward(self.conv1.forward(x.clone())));
            let out = self.bn2.forward(self.conv2.forward(out));
            let sc = match &self.shortcut {
                Some(s) => {
                    let y = s.conv.forward(x);
                    match &s.bn {
                        Some(bn) => bn.forward(y),
                        None => y,
                    }
                }
                None => x,
            };
            relu(out + sc)
        }
    }
}

/// ResNet-18 (standard or pre-activation).
#[derive(Module, Debug)]
pub struct ResNet {
    stem: Conv2d,
    bn: BatchNorm,
    blocks: Vec<Block>,
    fc: Linear,
    #[module(skip)]
    preact: bool,
    #[module(skip)]
    pub(crate) in_channels: usize,
    #[module(skip)]
    pub(crate) in_h: usize,
    #[module(skip)]
    pub(crate) in_w: usize,
}

impl ResNet {
    /// Every BatchNorm layer, in module order.
    pub(crate) fn batch_norms(&self) -> Vec<&BatchNorm> {
        let mut out = vec![&self.bn];
        for b in &self.blocks {
            out.extend([&b.bn1, &b.bn2]);
            if let Some(bn) = b.shortcut.as_ref().and_then(|s| s.bn.as_ref()) {
                out.push(bn);
            }
        }
        out
    }

    pub(crate) fn forward_hooked(&self, x: Tensor<3>, hook: &mut Hook<'_>) -> Result<Tensor<2>> {
        let h = self.trunk(x, hook)?;
        let [n, c, _, _] = h.dims();
        let pooled: Tensor<2> = h.mean_dim(3).mean_dim(2).reshape([n, c]);
        Ok(self.fc.forward(hook.features(pooled)))
    }

    /// The last (rectified) feature map before global pooling, N×C×h×w.
    fn trunk(&self, x: Tensor<3>, hook: &mut Hook<'_>) -> Result<Tensor<4>> {
        let n = x.dims()[0];
        let x: Tensor<4> = x.reshape([n, self.in_channels, self.in_h, self.in_w]);
        let mut h = self.stem.forward(x);
        if !self.preact {
            h = relu(self.bn.forward(h));
        }
        for (stage, pair) in self.blocks.chunks(2).enumerate() {
            for b in pair {
                h = b.forward(h);
            }
            h = hook.at(stage + 1, h)?;
        }
        if self.preact {
            h = relu(self.bn.forward(h));
        }
        Ok(h)
    }

    /// What a class activation map needs: the last feature map (N×C×h×w, before pooling) and the
    /// linear head's weight (C×classes) and bias.
    pub(crate) fn cam_inputs(
        &self,
        x: Tensor<3>,
    ) -> Result<(Tensor<4>, Tensor<2>, Option<Tensor<1>>)> {
        let h = self.trunk(x, &mut Hook::none())?;
        Ok((
            h,
            self.fc.weight.val(),
            self.fc.bias.as_ref().map(|b| b.val()),
        ))
    }
}
