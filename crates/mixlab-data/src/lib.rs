//! mixlab-data: framework-free readers for the real dataset formats mixlab benchmarks on (IDX, CIFAR-10 and
//! CIFAR-100 binary, CSV / whitespace tables, 16-bit WAV) and for the user's own data ([`own`]: image folders,
//! CSV tables, `.npy` arrays), deterministic splits, and normalisation.
//!
//! Two layers:
//! - format readers ([`idx`], [`cifar`], [`table`], [`fsdd`], [`tabular`]) that check every header against the
//!   file size and a sane cap before allocating, and report any broken rule as an [`Error`] naming the file;
//! - the dataset layer ([`DatasetId`], [`DataDir`], [`load`]) that finds a dataset (`--data-dir` >
//!   `MIXLAB_DATA` > the copies of digits and Airfoil compiled in from the repository's `data/`) and returns it
//!   as f32 [`Split`]s with documented splitting rules.
//!
//! ```
//! use mixlab_data::{DataDir, DatasetId, LoadOptions, load};
//! let ds = load(DatasetId::Digits, &DataDir::none(), &LoadOptions::default())?;
//! assert_eq!((ds.train.n, ds.test.n), (1437, 360));
//! assert_eq!(ds.sample_shape, vec![1, 8, 8]);
//! # Ok::<(), mixlab_data::Error>(())
//! ```

#![warn(missing_docs)]

/// The crate README's snippet, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
mod readme {}

pub mod cifar;
pub mod dataset;
pub mod download;
pub mod error;
pub mod fsdd;
pub mod id;
pub mod idx;
pub mod images;
pub mod input;
pub mod location;
pub mod noise;
pub mod own;
pub mod scale;
mod spec;
pub mod split;
pub mod table;
pub mod tabular;

pub use dataset::{
    DEFAULT_HORIZON, DEFAULT_WINDOW, Dataset, DatasetId, LoadOptions, Split, Task, load, load_u8,
};
pub use error::{Error, Result};
pub use images::U8Images;
pub use input::Source;
pub use location::{DataDir, DatasetStatus, DirOrigin, ENV_VAR, Location, status};
pub use noise::{LabelNoise, NoiseKind};
pub use own::{DataSpec, OwnData, TargetKind, load_spec, peek};
pub use scale::Scaler;
pub use split::{DEFAULT_VALIDATION_FRACTION, permutation, split_validation};
