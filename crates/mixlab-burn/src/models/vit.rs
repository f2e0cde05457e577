//! A small vision transformer (Dosovitskiy et al.): non-overlapping patch embedding, a class token,
//! learned position embeddings, pre-norm blocks (LN → multi-head self-attention → residual, LN → MLP
//! with GELU → residual), final LayerNorm, linear head on the class token. The attention is written out
//! so the last block's class-token attention can be returned (TransMix / attention-guided mixing).
//! Mixing points: 0 = input, k = after block k (the token sequence N×T×D).

use super::Hook;
use crate::error::{Error, Result};
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu, softmax};
use mixlab_core::shape::SampleShape;
use serde::{Deserialize, Serialize};

/// ViT hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VitConfig {
    /// Token width D (default 192, ViT-Tiny).
    pub dim: usize,
    /// Number of blocks (default 4; ViT-Tiny has 12).
    pub depth: usize,
    /// Attention heads; must divide `dim` (default 3).
    pub heads: usize,
    /// Patch side; must divide H and W (default 4 for 32×32 inputs).
    pub patch: usize,
    /// MLP hidden width as a multiple of D (default 4).
    pub mlp_ratio: usize,
}

impl Default for VitConfig {
    fn default() -> Self {
        Self {
            dim: 192,
            depth: 4,
            heads: 3,
            patch: 4,
            mlp_ratio: 4,
        }
    }
}

impl VitConfig {
    pub(crate) fn validate(&self, input: &SampleShape) -> Result<()> {
        if input.rank != 2 {
            return Err(Error::Incompatible(format!(
                "vit-tiny needs 2-D samples (CxHxW), got {input}"
            )));
        }
        for (name, v) in [
            ("vit dim", self.dim),
            ("vit depth", self.depth),
            ("vit heads", self.heads),
            ("vit patch", self.patch),
            ("vit mlp ratio", self.mlp_ratio),
        ] {
            if v == 0 {
                return Err(Error::param(name, ">= 1", 0));
            }
        }
        if !self.dim.is_multiple_of(self.heads) {
            return Err(Error::Incompatible(format!(
                "vit heads ({}) must divide dim ({})",
                self.heads, self.dim
            )));
        }
        if !input.dims[1].is_multiple_of(self.patch) || !input.dims[2].is_multiple_of(self.patch) {
            return Err(Error::Incompatible(format!(
                "vit patch {} must divide H and W of {input}",
                self.patch
            )));
        }
        Ok(())
    }

    pub(crate) fn init(&self, input: &SampleShape, outputs: usize, device: &Device) -> Vit {
        let d = self.dim;
        let tokens = (input.dims[1] / self.patch) * (input.dims[2] / self.patch) + 1;
        let blocks = (0..self.depth)
            .map(|_| VitBlock::new(d, self.heads, self.mlp_ratio, device))
            .collect();
        Vit {
            patch_embed: Conv2dConfig::new([input.channels, d], [self.patch, self.patch])
                .with_stride([self.patch, self.patch])
                .init(device),
            cls_token: Param::from_tensor(Tensor::zeros([1, 1, d], device)),
            pos_embed: Param::from_tensor(Tensor::zeros([1, tokens, d], device)),
            blocks,
            norm: LayerNormConfig::new(d).init(device),
            head: LinearConfig::new(d, outputs).init(device),
            in_channels: input.channels,
            in_h: input.dims[1],
            in_w: input.dims[2],
        }
    }
}

/// One pre-norm transformer block.
#[derive(Module, Debug)]
pub struct VitBlock {
    ln1: LayerNorm,
    qkv: Linear,
    proj: Linear,
    ln2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    #[module(skip)]
    heads: usize,
}

impl VitBlock {
    /// A block of width `d` (default Burn initialisation; the models' seeded init redraws it).
    pub(crate) fn new(d: usize, heads: usize, mlp_ratio: usize, device: &Device) -> Self {
        VitBlock {
            ln1: LayerNormConfig::new(d).init(device),
            qkv: LinearConfig::new(d, 3 * d).init(device),
            proj: LinearConfig::new(d, d).init(device),
            ln2: LayerNormConfig::new(d).init(device),
            fc1: LinearConfig::new(d, d * mlp_ratio).init(device),
            fc2: LinearConfig::new(d * mlp_ratio, d).init(device),
            heads,
        }
    }

    /// Returns the new tokens and the attention weights N×heads×T×T.
    fn forward(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<4>) {
        self.forward_topk(x, None)
    }

    /// [`forward`](Self::forward) where, with `topk = Some(k)`, each query keeps only its `k` highest
    /// scores (ties at the k-th kept too) before the softmax: MixedAE's homologous attention.
    pub(crate) fn forward_topk(&self, x: Tensor<3>, topk: Option<usize>) -> (Tensor<3>, Tensor<4>) {
        let [n, t, d] = x.dims();
        let hd = d / self.heads;
        let qkv = self.qkv.forward(self.ln1.forward(x.clone()));
        let part = |k: usize| -> Tensor<4> {
            qkv.clone()
                .slice([0..n, 0..t, k * d..(k + 1) * d])
                .reshape([n, t, self.heads, hd])
                .swap_dims(1, 2)
        };
        let (q, k, v) = (part(0), part(1), part(2));
        let scores = q
            .matmul(k.swap_dims(2, 3))
            .mul_scalar(1.0 / (hd as f64).sqrt());
        let scores = match topk {
            Some(k) if k < t => {
                let kth = scores
                    .clone()
                    .detach()
                    .sort_descending(3)
                    .narrow(3, k.max(1) - 1, 1)
                    .expand([n, self.heads, t, t]);
                let below = scores.clone().lower(kth);
                scores.mask_fill(below, f32::NEG_INFINITY)
            }
            _ => scores,
        };
        let attn = softmax(scores, 3);
        let ctx: Tensor<3> = attn.clone().matmul(v).swap_dims(1, 2).reshape([n, t, d]);
        let x = x + self.proj.forward(ctx);
        let y = self
            .fc2
            .forward(gelu(self.fc1.forward(self.ln2.forward(x.clone()))));
        (x + y, attn)
    }
}

/// The vision transformer.
#[derive(Module, Debug)]
pub struct Vit {
    patch_embed: Conv2d,
    cls_token: Param<Tensor<3>>,
    pos_embed: Param<Tensor<3>>,
    pub(crate) blocks: Vec<VitBlock>,
    norm: LayerNorm,
    head: Linear,
    #[module(skip)]
    pub(crate) in_channels: usize,
    #[module(skip)]
    pub(crate) in_h: usize,
    #[module(skip)]
    pub(crate) in_w: usize,
}

impl Vit {
    /// Logits and the last block's class-token attention over the patches (N×patches, head mean).
    pub(crate) fn forward_hooked(
        &self,
        x: Tensor<3>,
        hook: &mut Hook<'_>,
    ) -> Result<(Tensor<2>, Tensor<2>)> {
        let run = self.run(x, hook, false)?;
        let [n, heads, t, _] = run.last.dims();
        let cls = run
            .last
            .slice([0..n, 0..heads, 0..1, 1..t])
            .mean_dim(1)
            .reshape([n, t - 1]);
        Ok((run.logits, cls))
    }

    /// Logits and every block's softmax attention averaged over heads (N×T×T per block, T = patches +
    /// 1 with the class token first; TL-Align).
    pub(crate) fn forward_block_attention(
        &self,
        x: Tensor<3>,
    ) -> Result<(Tensor<2>, Vec<Tensor<3>>)> {
        let run = self.run(x, &mut Hook::none(), true)?;
        Ok((run.logits, run.all))
    }

    /// Logits and the last block's attention among the image tokens averaged over heads and queries
    /// (N×patches: how much the patches attend to each patch; SMMix's `attn[:, :, 1:, 1:].mean((1, 2))`).
    pub(crate) fn forward_image_importance(&self, x: Tensor<3>) -> Result<(Tensor<2>, Tensor<2>)> {
        let run = self.run(x, &mut Hook::none(), false)?;
        let [n, heads, t, _] = run.last.dims();
        let imp = run
            .last
            .slice([0..n, 0..heads, 1..t, 1..t])
            .mean_dim(1)
            .mean_dim(2)
            .reshape([n, t - 1]);
        Ok((run.logits, imp))
    }

    /// Logits and the image tokens after the final LayerNorm (N×patches×D; SMMix's token head pools them).
    pub(crate) fn forward_image_tokens(&self, x: Tensor<3>) -> Result<(Tensor<2>, Tensor<3>)> {
        let run = self.run(x, &mut Hook::none(), false)?;
        let [n, t, d] = run.tokens.dims();
        Ok((run.logits, run.tokens.slice([0..n, 1..t, 0..d])))
    }

    /// The tokens after the final LayerNorm (class token first) of an encoder pass for MAE-style
    /// pre-training: `extra` (N×patches×D) is added to the patch tokens after the position embedding
    /// (MixedAE's segment embedding), `keep` (N×K, patch indices) keeps only those patches (MAE's visible
    /// tokens), and `topk` gives every block homologous attention over that many tokens.
    pub(crate) fn encode(
        &self,
        x: Tensor<3>,
        extra: Option<Tensor<3>>,
        keep: Option<Tensor<2, Int>>,
        topk: Option<usize>,
    ) -> Tensor<3> {
        let n = x.dims()[0];
        let img: Tensor<4> = x.reshape([n, self.in_channels, self.in_h, self.in_w]);
        let p = self.patch_embed.forward(img);
        let [_, d, gh, gw] = p.dims();
        let pos = self.pos_embed.val();
        let mut patches: Tensor<3> =
            p.reshape([n, d, gh * gw]).swap_dims(1, 2) + pos.clone().narrow(1, 1, gh * gw);
        if let Some(e) = extra {
            patches = patches + e;
        }
        if let Some(k) = keep {
            let kk = k.dims()[1];
            let idx: Tensor<3, Int> = k.reshape([n, kk, 1]).expand([n, kk, d]);
            patches = patches.gather(1, idx);
        }
        let cls = self.cls_token.val().expand([n, 1, d]) + pos.narrow(1, 0, 1);
        let mut h = Tensor::cat(vec![cls, patches], 1);
        for b in &self.blocks {
            h = b.forward_topk(h, topk).0;
        }
        self.norm.forward(h)
    }

    fn run(&self, x: Tensor<3>, hook: &mut Hook<'_>, keep_all: bool) -> Result<VitRun> {
        let n = x.dims()[0];
        let img: Tensor<4> = x.reshape([n, self.in_channels, self.in_h, self.in_w]);
        let p = self.patch_embed.forward(img);
        let [_, d, gh, gw] = p.dims();
        let patches: Tensor<3> = p.reshape([n, d, gh * gw]).swap_dims(1, 2);
        let cls = self.cls_token.val().expand([n, 1, d]);
        let mut h = Tensor::cat(vec![cls, patches], 1) + self.pos_embed.val();
        let t = gh * gw + 1;
        let mut last: Option<Tensor<4>> = None;
        let mut all = Vec::new();
        for (k, b) in self.blocks.iter().enumerate() {
            let (out, attn) = b.forward(h);
            h = hook.at(k + 1, out)?;
            if keep_all {
                all.push(attn.clone().mean_dim(1).reshape([n, t, t]));
            }
            last = Some(attn);
        }
        let Some(last) = last else {
            return Err(Error::Incompatible("vit-tiny has no blocks".into()));
        };
        let tokens = self.norm.forward(h);
        let cls: Tensor<2> = tokens.clone().slice([0..n, 0..1, 0..d]).reshape([n, d]);
        Ok(VitRun {
            logits: self.head.forward(hook.features(cls)),
            last,
            tokens,
            all,
        })
    }
}

/// What one forward of the ViT gives.
struct VitRun {
    logits: Tensor<2>,
    /// The last block's softmax attention, N×heads×T×T.
    last: Tensor<4>,
    /// Every token after the final LayerNorm, N×T×D (the class token first).
    tokens: Tensor<3>,
    /// Every block's head-mean attention (only when asked for).
    all: Vec<Tensor<3>>,
}
