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

pub use crate::weight::{Interp, Mask, Region, SampleWeight, mask_mean};

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
