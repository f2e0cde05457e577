//! The mix plan: everything `apply` and the label mixer need, sampled once and replayable.
//!
//! A plan says, per sample i, which partner j it is mixed with, how the inputs are weighted (a scalar, a
//! pasted box, a resized paste or a soft/binary mask) and the label weight λ_label that was actually
//! realised (after clipping, rounding and area correction). Mixed labels are always
//! `λ_label·y_i + (1 − λ_label)·y_j`.

use crate::error::{Error, Result};
use crate::methods::Method;
use crate::shape::SampleShape;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A half-open box `[start, end)` in the spatial `[d, h, w]` convention of [`SampleShape`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub start: [usize; 3],
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
    Blend { lam: f32 },
    /// x_i with the region replaced by the same region of x_j.
    Paste { region: Region },
    /// x_i with the region replaced by the whole of x_j resized to the region's extent.
    PasteResized { region: Region, interp: Interp },
    /// `m·x_i + (1 − m)·x_j` with a per-position mask `m` (broadcast over channels).
    Mask {
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

/// A sampled mix for one batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixPlan {
    /// Shape of each sample.
    pub shape: SampleShape,
    /// Partner index j for every sample i.
    pub partner: Vec<usize>,
    /// Input weights of every sample.
    pub weights: Vec<SampleWeight>,
    /// Realised label weight of the sample's own label.
    pub lam_label: Vec<f32>,
    /// The method chosen for each sample (`none` where mixing was skipped).
    pub method: Vec<Method>,
}

impl MixPlan {
    /// The identity plan: every sample kept, paired with itself.
    pub fn identity(batch: usize, shape: SampleShape) -> Self {
        Self {
            shape,
            partner: (0..batch).collect(),
            weights: vec![SampleWeight::Keep; batch],
            lam_label: vec![1.0; batch],
            method: vec![Method::None; batch],
        }
    }

    /// Batch size.
    pub fn len(&self) -> usize {
        self.partner.len()
    }

    /// True for an empty batch.
    pub fn is_empty(&self) -> bool {
        self.partner.is_empty()
    }

    /// Per sample, the fraction of the mixed input that comes from the sample itself.
    pub fn input_weight_mean(&self) -> Vec<f64> {
        self.weights
            .iter()
            .zip(&self.partner)
            .enumerate()
            .map(|(i, (w, &j))| {
                if i == j {
                    1.0
                } else {
                    w.self_fraction(&self.shape)
                }
            })
            .collect()
    }

    /// Checks internal consistency: lengths, partner range, regions and masks inside the sample.
    pub fn validate(&self) -> Result<()> {
        let b = self.len();
        for (what, got) in [
            ("plan weights", self.weights.len()),
            ("plan label weights", self.lam_label.len()),
            ("plan method names", self.method.len()),
        ] {
            if got != b {
                return Err(Error::SizeMismatch {
                    what,
                    expected: b,
                    got,
                });
            }
        }
        if let Some(&j) = self.partner.iter().find(|&&j| j >= b) {
            return Err(Error::param("partner index", "below the batch size", j));
        }
        let n = self.shape.spatial_len();
        for w in &self.weights {
            match w {
                SampleWeight::Paste { region } | SampleWeight::PasteResized { region, .. }
                    if !region.fits(self.shape.dims) =>
                {
                    return Err(Error::Incompatible(format!(
                        "region {region:?} does not fit a sample of shape {}",
                        self.shape
                    )));
                }
                SampleWeight::Mask { mask } if mask.len() != n => {
                    return Err(Error::SizeMismatch {
                        what: "mask length",
                        expected: n,
                        got: mask.len(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Soft classification targets, B rows of `classes` floats, each row summing to 1.
    ///
    /// Label smoothing follows timm's `mixup_target`: off = s/K, on = 1 − s + off, applied to both
    /// one-hot vectors before mixing.
    pub fn soft_targets(
        &self,
        labels: &[usize],
        classes: usize,
        smoothing: f32,
    ) -> Result<Vec<f32>> {
        if labels.len() != self.len() {
            return Err(Error::SizeMismatch {
                what: "labels",
                expected: self.len(),
                got: labels.len(),
            });
        }
        if classes == 0 {
            return Err(Error::param("classes", ">= 1", classes));
        }
        if !(0.0..1.0).contains(&smoothing) {
            return Err(Error::param("label smoothing", "in [0, 1)", smoothing));
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
            return Err(Error::LabelOutOfRange {
                label,
                index,
                classes,
            });
        }
        let off = smoothing / classes as f32;
        let on = 1.0 - smoothing + off;
        let mut out = vec![0f32; self.len() * classes];
        for (i, row) in out.chunks_exact_mut(classes).enumerate() {
            let lam = self.lam_label[i];
            let (yi, yj) = (labels[i], labels[self.partner[i]]);
            for (c, v) in row.iter_mut().enumerate() {
                let a = if c == yi { on } else { off };
                let b = if c == yj { on } else { off };
                *v = lam * a + (1.0 - lam) * b;
            }
        }
        Ok(out)
    }

    /// Mixed regression targets: `λ·y_i + (1 − λ)·y_j` for rows of `dim` values.
    pub fn mix_regression(&self, y: &[f32], dim: usize) -> Result<Vec<f32>> {
        if dim == 0 || y.len() != self.len() * dim {
            return Err(Error::SizeMismatch {
                what: "regression targets",
                expected: self.len() * dim.max(1),
                got: y.len(),
            });
        }
        let mut out = vec![0f32; y.len()];
        for (i, row) in out.chunks_exact_mut(dim).enumerate() {
            let lam = self.lam_label[i];
            let (a, b) = (
                &y[i * dim..(i + 1) * dim],
                &y[self.partner[i] * dim..(self.partner[i] + 1) * dim],
            );
            for ((o, &p), &q) in row.iter_mut().zip(a).zip(b) {
                *o = lam * p + (1.0 - lam) * q;
            }
        }
        Ok(out)
    }
}
