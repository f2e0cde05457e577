//! How one sample's input is formed from itself and its partner: kept, blended, a pasted (or resized) region,
//! or a per-position mask. Methods draw these; a `MixPlan` (`plan.rs`) collects one per sample (and
//! re-exports them, so `plan::SampleWeight` keeps working).

use crate::shape::SampleShape;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A half-open box `[start, end)` in the spatial `[d, h, w]` convention of [`SampleShape`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// First position covered along each of `[d, h, w]` (inclusive).
    pub start: [usize; 3],
    /// One past the last position covered along each axis (exclusive); `start == end` on an axis is empty.
    pub end: [usize; 3],
}

impl Region {
    /// Number of spatial positions covered.
    pub fn volume(&self) -> usize {
        (0..3)
            .map(|a| self.end[a].saturating_sub(self.start[a]))
            .product()
    }
    /// Extent along each axis.
    pub fn extent(&self) -> [usize; 3] {
        [0, 1, 2].map(|a| self.end[a].saturating_sub(self.start[a]))
    }
    /// True when the region lies inside `dims` and is well-formed.
    pub fn fits(&self, dims: [usize; 3]) -> bool {
        (0..3).all(|a| self.start[a] <= self.end[a] && self.end[a] <= dims[a])
    }
}

/// Interpolation used when the partner is resized before pasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Interp {
    /// PyTorch `F.interpolate(mode="nearest")`: source index `floor(dst · in / out)`.
    #[default]
    Nearest,
    /// PyTorch `F.interpolate(mode="bilinear"/"linear"/"trilinear", align_corners=False)`.
    Linear,
}

/// A spatial weight map (one value per position, shared across channels): the weight of the sample itself.
pub type Mask = Arc<[f32]>;

/// Mean of a mask: the realised share of the sample itself (0 for an empty mask).
pub fn mask_mean(mask: &[f32]) -> f64 {
    if mask.is_empty() {
        return 0.0;
    }
    mask.iter().map(|&v| f64::from(v)).sum::<f64>() / mask.len() as f64
}

/// How sample i's input is formed from itself (x_i) and its partner (x_j).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SampleWeight {
    /// x_i unchanged.
    Keep,
    /// `λ·x_i + (1 − λ)·x_j` everywhere.
    Blend {
        /// λ, the weight of x_i (methods draw it in [0, 1]).
        lam: f32,
    },
    /// x_i with the region replaced by the same region of x_j.
    Paste {
        /// Where x_j shows through; the rest is x_i.
        region: Region,
    },
    /// x_i with the region replaced by the whole of x_j resized to the region's extent.
    PasteResized {
        /// Where the resized x_j is pasted.
        region: Region,
        /// How x_j is resampled to the region's extent.
        interp: Interp,
    },
    /// `m·x_i + (1 − m)·x_j` with a per-position mask `m` (broadcast over channels).
    Mask {
        /// `spatial_len` weights of x_i in row-major `[d, h, w]` order. Not serialised: it deserialises as an
        /// empty mask, which `MixPlan::validate` rejects.
        #[serde(skip)]
        mask: Mask,
    },
}

impl SampleWeight {
    /// Fraction of the mixed sample that comes from the sample itself, computed from the realised
    /// weights (not from λ).
    pub fn self_fraction(&self, shape: &SampleShape) -> f64 {
        let n = shape.spatial_len() as f64;
        match self {
            SampleWeight::Keep => 1.0,
            SampleWeight::Blend { lam } => f64::from(*lam),
            SampleWeight::Paste { region } | SampleWeight::PasteResized { region, .. } => {
                1.0 - region.volume() as f64 / n
            }
            SampleWeight::Mask { mask } => mask_mean(mask),
        }
    }

    /// The region of the partner that is visible, where the weight has one.
    pub fn region(&self) -> Option<Region> {
        match self {
            SampleWeight::Paste { region } | SampleWeight::PasteResized { region, .. } => {
                Some(*region)
            }
            _ => None,
        }
    }
}
