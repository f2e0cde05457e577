//! AttentiveMix (Walawalkar et al., ICASSP'20) and OpenMixup's AttentiveMix+: a teacher network's last
//! feature map picks the k most attended grid cells of each image; those cells are kept and the rest of
//! the image comes from its partner. The label weight of the image's own label is the kept share.
//!
//! Follows OpenMixup (`Westlake-AI/openmixup @ 37e13724 : openmixup/models/augments/attentivemix.py`,
//! `attentivemix`), which the official code (`xden2331/attentive_cutmix @ 282c893a`) cannot replace: its
//! transform calls two methods without `self.` and so does not run as published.
//! - attention = the **channel mean** of the teacher's map (n × c × g_h × g_w → n × g_h × g_w); the
//!   official code takes the last channel instead (`output[0][-1]`), which the paper does not describe;
//! - `k = min(max(1, ⌊g_h·g_w·λ⌋), g_h·g_w)` with λ ~ Beta(α, α) (AttentiveMix+, `top_k = None`, OpenMixup's
//!   CIFAR config `alpha = 2`), or a fixed `top_k` (the official AttentiveMix: 6);
//! - the top-k cells of each image's map are 1, the rest 0; the cell mask is upsampled to the image by
//!   nearest neighbour (source cell `⌊dst·g/H⌋`, PyTorch's `nearest` with an output size; OpenMixup passes
//!   a scale factor `H/g` instead, which gives the same cells whenever the grid divides the image, as it
//!   does for every model mixlab runs it on); `x̃ = m·x + (1 − m)·x[perm]`;
//! - λ = the mask's mean (the kept share), the weight of the image's own label.
//!
//! Differences, both where OpenMixup leaves a choice open:
//! - ties among equal attention values go to the lower cell index (row-major); PyTorch's CPU `topk` does
//!   not promise an order for ties;
//! - λ is each sample's own mask mean (OpenMixup reads sample 0's and uses it for the whole batch; with
//!   one k per batch and a grid that divides the image they are equal);
//! - a grid of one cell, or a fixed `top_k` above the number of cells, is refused (every image would be
//!   kept whole; OpenMixup's `topk` raises for the latter);
//! - the teacher: OpenMixup runs an ImageNet-pretrained ResNet-18 (`pretrained_k`) on images upsampled to
//!   224 px, which cannot be downloaded here. mixlab uses either a finished mixlab run's model (its last
//!   feature map at the native resolution, eval mode) or, without one, a momentum (EMA) copy of the model
//!   being trained. The momentum copy is mixlab's choice: OpenMixup's `backbone_k` without
//!   `pretrained_k` is a copy of the initial backbone that its default `momentum_k = -1` never updates.
//!   The Burn side (`mixlab-burn`, strategy `attentivemix`) provides the map.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::{Mask, SampleWeight};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// AttentiveMix hyper-parameters (defaults: OpenMixup's AttentiveMix+ CIFAR config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttentivemixConfig {
    /// Beta concentration α of λ ~ Beta(α, α), which sets k (default 2, OpenMixup's config).
    pub alpha: f64,
    /// A fixed number of kept cells (the official AttentiveMix: 6); `None` draws it from λ (default).
    pub top_k: Option<usize>,
    /// Checkpoint folder of a finished mixlab classification run whose last feature map is the attention
    /// (`<run>/checkpoint`); `None` uses a momentum copy of the model being trained.
    pub teacher: Option<PathBuf>,
    /// Momentum m of the EMA teacher, `θ_k ← m·θ_k + (1 − m)·θ` after every step (default 0.99); unused
    /// with a checkpoint teacher.
    pub momentum: f64,
}

impl Default for AttentivemixConfig {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            top_k: None,
            teacher: None,
            momentum: 0.99,
        }
    }
}

impl AttentivemixConfig {
    /// Cells kept for a draw of λ on a grid of `cells` cells.
    pub fn cells_kept(&self, lam: f64, cells: usize) -> usize {
        let k = match self.top_k {
            Some(k) => k,
            // `int(att_grid * lam)`: truncation toward zero of a non-negative product.
            None => (cells as f64 * lam) as usize,
        };
        k.clamp(1, cells.max(1))
    }

    /// The image masks of one batch from the teacher's feature map `features` (n × c × g_h × g_w,
    /// row-major) and each sample's λ: per sample `H·W` weights of the sample itself (1 on its k most
    /// attended cells, 0 elsewhere) for an image of `image = [H, W]`.
    pub fn masks(
        &self,
        features: &[f32],
        dims: [usize; 4],
        lams: &[f32],
        image: [usize; 2],
    ) -> Result<Vec<Mask>> {
        let [n, _, gh, gw] = dims;
        if lams.len() != n {
            return Err(Error::SizeMismatch {
                what: "attentivemix λ per sample",
                expected: n,
                got: lams.len(),
            });
        }
        let attention = channel_mean(features, dims)?;
        let cells = gh * gw;
        if cells < 2 {
            return Err(Error::Incompatible(format!(
                "attentivemix needs a feature map of at least 2 cells to choose from, got {gh}x{gw} (the \
                 teacher shrinks the image too far)"
            )));
        }
        if let Some(k) = self.top_k.filter(|&k| k > cells) {
            return Err(Error::Incompatible(format!(
                "attentivemix top_k must be at most the feature map's {cells} cells ({gh}x{gw}), got {k}"
            )));
        }
        (0..n)
            .map(|i| {
                let k = self.cells_kept(f64::from(lams[i]), cells);
                let keep = top_cells(&attention[i * cells..(i + 1) * cells], k);
                upsample_nearest(&keep, [gh, gw], image)
            })
            .collect()
    }
}

/// The channel mean of a feature map n × c × g_h × g_w: n maps of g_h·g_w values.
pub fn channel_mean(features: &[f32], dims: [usize; 4]) -> Result<Vec<f32>> {
    let [n, c, gh, gw] = dims;
    let cells = gh.saturating_mul(gw);
    let expected = n.saturating_mul(c).saturating_mul(cells);
    if features.len() != expected {
        return Err(Error::SizeMismatch {
            what: "attentivemix feature map",
            expected,
            got: features.len(),
        });
    }
    if c == 0 || cells == 0 {
        return Err(Error::Incompatible(format!(
            "attentivemix needs a feature map with channels and cells, got {c} channels of {gh}x{gw}"
        )));
    }
    if let Some(p) = features.iter().position(|v| !v.is_finite()) {
        return Err(Error::Incompatible(format!(
            "attentivemix feature map holds a non-finite value at index {p}"
        )));
    }
    let mut out = vec![0f32; n * cells];
    for i in 0..n {
        let row = &mut out[i * cells..(i + 1) * cells];
        for ch in 0..c {
            let src = &features[(i * c + ch) * cells..(i * c + ch + 1) * cells];
            for (o, &v) in row.iter_mut().zip(src) {
                *o += v;
            }
        }
        for o in row.iter_mut() {
            *o /= c as f32;
        }
    }
    Ok(out)
}

/// The `k` cells of largest value as a 0/1 mask (ties to the lower index).
pub fn top_cells(attention: &[f32], k: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..attention.len()).collect();
    // Stable sort by descending value: equal values (−0 and +0 too) keep their row-major order.
    order.sort_by(|&a, &b| {
        attention[b]
            .partial_cmp(&attention[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut keep = vec![false; attention.len()];
    for &i in order.iter().take(k) {
        keep[i] = true;
    }
    keep
}

/// A cell mask of `grid = [g_h, g_w]` cells upsampled to `image = [H, W]` by nearest neighbour
/// (source cell `⌊dst·g/H⌋`, PyTorch's `nearest` with an output size).
pub fn upsample_nearest(cells: &[bool], grid: [usize; 2], image: [usize; 2]) -> Result<Mask> {
    let [gh, gw] = grid;
    let [h, w] = image;
    if gh == 0 || gw == 0 || cells.len() != gh.saturating_mul(gw) {
        return Err(Error::SizeMismatch {
            what: "attentivemix cell mask",
            expected: gh.saturating_mul(gw).max(1),
            got: cells.len(),
        });
    }
    let mut out = Vec::with_capacity(h.saturating_mul(w));
    for r in 0..h {
        let sr = (r * gh / h).min(gh - 1);
        for c in 0..w {
            let sc = (c * gw / w).min(gw - 1);
            out.push(if cells[sr * gw + sc] { 1.0 } else { 0.0 });
        }
    }
    Ok(out.into())
}

/// Replaces each mixed sample's weight by its attentive mask (the batch's plan drew λ as a blend) and its
/// label weight by the mask's mean; kept samples stay kept.
pub fn masks_into_plan(
    weights: &mut [SampleWeight],
    lam_label: &mut [f32],
    masks: Vec<Mask>,
) -> Result<()> {
    for (what, got) in [
        ("attentivemix masks", masks.len()),
        ("attentivemix label weights", lam_label.len()),
    ] {
        if got != weights.len() {
            return Err(Error::SizeMismatch {
                what,
                expected: weights.len(),
                got,
            });
        }
    }
    for ((w, l), m) in weights.iter_mut().zip(lam_label.iter_mut()).zip(masks) {
        if matches!(w, SampleWeight::Keep) {
            continue;
        }
        *l = crate::weight::mask_mean(&m) as f32;
        *w = SampleWeight::Mask { mask: m };
    }
    Ok(())
}

impl MixMethod for AttentivemixConfig {
    const NAME: &'static str = "attentivemix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        check_alpha("attentivemix alpha", self.alpha)?;
        if self.top_k == Some(0) {
            return Err(Error::param("attentivemix top_k", ">= 1", 0));
        }
        // 1 would never move the teacher away from the initial weights.
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(Error::param(
                "attentivemix momentum",
                "in [0, 1)",
                self.momentum,
            ));
        }
        Ok(())
    }

    /// λ ~ Beta(α, α) as a blend; the strategy turns it into the attentive mask of each sample.
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let lam = sample_beta(self.alpha, self.alpha, rng)? as f32;
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_keeps_exactly_k_cells_and_lambda_is_their_share() {
        let cfg = AttentivemixConfig::default();
        // 2 samples, 3 channels, 4×4 grid; sample 1's channel mean rises along the cells.
        let mut f = vec![0f32; 2 * 3 * 16];
        for ch in 0..3 {
            for k in 0..16 {
                f[(3 + ch) * 16 + k] = k as f32 + ch as f32;
                f[ch * 16 + k] = ((k * 7) % 16) as f32;
            }
        }
        let masks = cfg.masks(&f, [2, 3, 4, 4], &[0.25, 0.5], [8, 8]).unwrap();
        for (m, k) in masks.iter().zip([4usize, 8]) {
            let ones = m.iter().filter(|&&v| v == 1.0).count();
            assert_eq!(ones, k * 4, "each cell is 2×2 pixels");
            assert!((crate::weight::mask_mean(m) - k as f64 / 16.0).abs() < 1e-12);
        }
        // Sample 1 keeps its 8 largest cells: the last two rows of the grid, pixel rows 4..8.
        assert!(masks[1][..32].iter().all(|&v| v == 0.0));
        assert!(masks[1][32..].iter().all(|&v| v == 1.0));
    }

    #[test]
    fn k_is_clamped_and_a_fixed_top_k_wins() {
        let plus = AttentivemixConfig::default();
        assert_eq!(plus.cells_kept(0.0, 49), 1);
        assert_eq!(plus.cells_kept(0.999, 49), 48);
        assert_eq!(plus.cells_kept(1.0, 49), 49);
        let official = AttentivemixConfig {
            top_k: Some(6),
            ..Default::default()
        };
        assert_eq!(official.cells_kept(0.9, 49), 6);
        assert_eq!(official.cells_kept(0.9, 4), 4);
    }

    #[test]
    fn ties_go_to_the_lower_cell_and_bad_input_is_refused() {
        assert_eq!(
            top_cells(&[1.0, 2.0, 2.0, 0.0], 2),
            vec![false, true, true, false]
        );
        assert_eq!(
            top_cells(&[3.0, 3.0, 3.0, 3.0], 2),
            vec![true, true, false, false]
        );
        let cfg = AttentivemixConfig::default();
        assert!(cfg.masks(&[0.0; 7], [1, 2, 2, 2], &[0.5], [4, 4]).is_err());
        assert!(
            cfg.masks(&[f32::NAN; 8], [1, 2, 2, 2], &[0.5], [4, 4])
                .is_err()
        );
        assert!(
            cfg.masks(&[0.0; 8], [1, 2, 2, 2], &[0.5, 0.5], [4, 4])
                .is_err()
        );
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        for bad in [
            AttentivemixConfig {
                alpha: -1.0,
                ..Default::default()
            },
            AttentivemixConfig {
                top_k: Some(0),
                ..Default::default()
            },
            AttentivemixConfig {
                momentum: 1.0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate(&shape).is_err(), "{bad:?}");
        }
        assert!(cfg.validate(&SampleShape::d1(1, 8).unwrap()).is_err());
    }

    #[test]
    fn nearest_upsampling_takes_cell_floor_dst_g_over_h_and_refuses_empty_grids() {
        // 3 cells onto 7 pixels: sources ⌊dst·3/7⌋ = 0,0,0,1,1,2,2 (PyTorch's `nearest` with size=).
        let m = upsample_nearest(&[true, false, true], [1, 3], [1, 7]).unwrap();
        assert_eq!(&*m, &[1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]);
        assert!(upsample_nearest(&[], [0, 3], [4, 4]).is_err());
        assert!(upsample_nearest(&[true], [2, 2], [4, 4]).is_err());
    }

    #[test]
    fn a_one_cell_grid_and_a_top_k_past_the_grid_are_refused() {
        let one = AttentivemixConfig::default().masks(&[1.0, 2.0], [1, 2, 1, 1], &[0.5], [4, 4]);
        assert!(one.unwrap_err().to_string().contains("at least 2 cells"));
        let cfg = AttentivemixConfig {
            top_k: Some(5),
            ..Default::default()
        };
        let e = cfg
            .masks(&[0.0; 8], [1, 2, 2, 2], &[0.5], [4, 4])
            .unwrap_err();
        assert!(
            e.to_string().contains("at most the feature map's 4 cells"),
            "{e}"
        );
        let mut w = vec![SampleWeight::Blend { lam: 0.5 }];
        assert!(masks_into_plan(&mut w, &mut [0.5, 0.5], vec![Mask::from(vec![1.0])]).is_err());
    }
}
