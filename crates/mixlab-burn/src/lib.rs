//! mixlab-burn: the Burn 0.22 side of mixlab (the only crate that imports Burn).
//!
//! - [`BatchMixer`]: mixup, CutMix and the other input-level methods in an own training loop, in three
//!   lines (mixed batch and soft targets on the device, then [`soft_cross_entropy`]).
//! - [`apply`]: a mixlab-core `MixPlan` applied to device tensors, differentiable (manifold mixup).
//! - [`models`]: MLP, small CNN, (pre-act) ResNet-18, 1-D CNN, ViT-Tiny, with mixing points.
//! - [`loss`], [`optim`]: soft-target losses, SGD/AdamW and per-step LR schedules.
//! - [`trainer`]: the entry of a run, above the tasks: [`supervised`] (classification / regression with
//!   calibration), [`embed`] and [`crossmodal`]; all drive [`engine`]'s epoch loop over the shared types in
//!   [`config`], [`data`], [`records`] and [`state`].
//! - [`embed`], [`metric_loss`], [`proxydet`], [`supcr`]: embeddings trained for retrieval on held-out classes
//!   (Metrix, MI-Mix, ProxyDet) or for regression through a linear head (SupReMix); [`crossmodal`]: two towers, two datasets
//!   (geomix).
//! - [`checkpoint`]: atomic per-epoch checkpoints (safetensors weights) and bit-identical resume.
//! - [`device`], [`agreement`]: the device a run asks for, and whether a GPU computes what the CPU does.
//!
//! Randomness: every draw comes from `mixlab_core::rng::stream(seed, purpose, epoch, step)`; model
//! parameters are drawn from the `Init` stream, not Burn's backend RNG (flex seeds one process-global
//! generator, see [`models`]).

#![warn(missing_docs)]

pub mod agreement;
pub mod apply;
pub(crate) mod augment;
pub mod batch_mixer;
pub mod checkpoint;
pub mod clem;
pub mod config;
pub(crate) mod continual;
pub mod crossmodal;
pub mod data;
pub mod device;
pub(crate) mod ema;
pub mod embed;
pub mod engine;
pub mod error;
pub mod loss;
pub mod metric_loss;
pub mod mixedae;
pub mod models;
pub mod multimodal;
pub mod optim;
pub(crate) mod owned;
pub mod patchsource;
pub mod proxydet;
pub mod records;
pub(crate) mod saliency;
pub mod state;
pub(crate) mod strategy;
pub mod supcr;
pub mod supervised;
#[cfg(test)]
mod test_support;
pub mod trainer;

/// The crate README's snippet, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
mod readme {}

pub use batch_mixer::BatchMixer;
pub use burn;
pub use device::DeviceKind;
pub use error::{Error, Result};
pub use loss::soft_cross_entropy;
