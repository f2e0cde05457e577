//! mixlab-core: framework-free mixup-family mixing.
//!
//! The flow is one way: a config and a named random stream give a [`plan::MixPlan`] (pure, cheap,
//! serialisable); [`apply::apply`] turns a host batch into the mixed batch in one fused pass, and the
//! plan mixes labels ([`plan::MixPlan::soft_targets`], [`plan::MixPlan::mix_regression`]).
//!
//! ```
//! use mixlab_core::{methods::{MethodConfig, MixupConfig}, mixer::{BatchInfo, MixerConfig},
//!                   rng::{stream, Purpose}, shape::SampleShape, apply::apply_to_vec};
//! let shape = SampleShape::d2(3, 4, 4).unwrap();
//! let mixer = MixerConfig::single(MethodConfig::Mixup(MixupConfig::default()));
//! let mut rng = stream(0, Purpose::Mix, 0, 0);
//! let plan = mixer.sample(&BatchInfo { batch: 5, shape, epoch: 0, data: None }, &mut rng).unwrap();
//! let x = vec![0.5f32; 5 * shape.sample_len()];
//! let mixed = apply_to_vec(&plan, &x).unwrap();
//! let targets = plan.soft_targets(&[0, 1, 2, 1, 0], 3, 0.0).unwrap();
//! assert_eq!((mixed.len(), targets.len()), (x.len(), 15));
//! ```

#![warn(missing_docs)]

/// The crate README's snippet, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
mod readme {}

pub mod apply;
pub mod beat;
pub mod boxes;
pub mod calib;
pub mod cmixup;
pub mod collapse;
pub mod continual;
pub mod dense;
pub mod error;
pub mod fft;
pub mod methods;
pub mod mixer;
pub mod plan;
pub mod retrieval;
pub mod ridge;
pub mod rng;
pub mod shape;
pub mod solvers;
pub mod stats;
pub mod stream_mixer;
pub mod weight;

pub use error::{Error, Result};
