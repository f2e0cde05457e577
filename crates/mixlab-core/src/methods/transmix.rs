//! TransMix (Chen et al., CVPR'22): CutMix inputs whose labels are re-weighted by a vision transformer's
//! attention. The partner's label weight is the mean of the pasted box's area and the share of the mixed
//! image's class-token attention that falls on the box's tokens.
//!
//! Follows the official code (github.com/Beckschen/TransMix @ 0e4d31eb, `transmix.py`,
//! `Mixup_transmix.transmix_label`):
//! - the box is CutMix's (timm's `cutmix_bbox_and_lam`, `correct_lam=True`): `lam0 = |box| / (H·W)` is the
//!   pasted (partner) image's area share;
//! - the box mask is brought to the token grid by nearest neighbour (`nn.Upsample(size=g)`: token (r, c)
//!   takes pixel `(⌊r·H/g_h⌋, ⌊c·W/g_w⌋)`, the top-left pixel of its patch), so a box edge inside a token
//!   counts by that pixel;
//! - with `a` the last block's class-token attention over the patches (head mean, from the same forward
//!   pass as the loss, detached): `w2 = Σ_box a`, `w1 = Σ_outside a`, `lam1 = w2 / (w1 + w2)`;
//! - the partner's weight is `(lam0 + lam1) / 2`, the sample's own `1 − (lam0 + lam1) / 2`; targets are
//!   the smoothed one-hots mixed with these weights (timm's rule).
//!
//! Differences: the official code relabels only the CutMix branch of timm's MixUp/CutMix switch and needs
//! batch mode, an even batch and `flip` pairing; mixlab's `transmix` is the CutMix branch on its own (one
//! method per run for model-in-the-loop methods), works at any granularity, batch size and pairing, and
//! keeps the area weight where the attention sums to 0 (the reference divides 0 by 0).

use super::{Draw, DrawCtx, MixMethod};
use crate::boxes::BoxRule;
use crate::error::{Error, Result};
use crate::methods::CutmixConfig;
use crate::shape::SampleShape;
use crate::weight::{Region, SampleWeight};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// TransMix hyper-parameters: those of its CutMix boxes (the official DeiT recipe: α = 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransmixConfig {
    /// Beta concentration α of the box's λ (default 1).
    pub alpha: f64,
    /// Optional `(min, max)` box side ratios (timm `cutmix_minmax`).
    pub minmax: Option<(f64, f64)>,
    /// Area from the clipped box (default true, as the official `correct_lam=True`).
    pub correct_lam: bool,
    /// Where a box of odd side ends (default `torchvision`, the rule of the timm the reference pins).
    pub box_rule: BoxRule,
}

impl Default for TransmixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            minmax: None,
            correct_lam: true,
            box_rule: BoxRule::Torchvision,
        }
    }
}

impl TransmixConfig {
    fn cutmix(&self) -> CutmixConfig {
        CutmixConfig {
            alpha: self.alpha,
            minmax: self.minmax,
            correct_lam: self.correct_lam,
            margin: 0.0,
            box_rule: self.box_rule,
        }
    }
}

/// Own-label weights of a batch from its class-token attention `attention` (n × g_h·g_w, row-major
/// tokens), the token grid `grid = [g_h, g_w]`, the image size `image = [H, W]` and each sample's pasted
/// box (`None`: the sample's weight is left as `lam_label[i]`).
pub fn attention_weights(
    attention: &[f32],
    grid: [usize; 2],
    image: [usize; 2],
    boxes: &[Option<Region>],
    lam_label: &mut [f32],
) -> Result<()> {
    let [gh, gw] = grid;
    let [h, w] = image;
    let tokens = gh.saturating_mul(gw);
    let n = boxes.len();
    if tokens == 0 || gh > h || gw > w {
        return Err(Error::Incompatible(format!(
            "transmix needs a token grid of at least one token and at most one per pixel, got {gh}x{gw} on \
             {h}x{w}"
        )));
    }
    for (what, got, expected) in [
        (
            "transmix attention",
            attention.len(),
            n.saturating_mul(tokens),
        ),
        ("transmix label weights", lam_label.len(), n),
    ] {
        if got != expected {
            return Err(Error::SizeMismatch {
                what,
                expected,
                got,
            });
        }
    }
    if let Some(p) = attention.iter().position(|v| !v.is_finite()) {
        return Err(Error::Incompatible(format!(
            "transmix attention holds a non-finite value at index {p}"
        )));
    }
    for (i, b) in boxes.iter().enumerate() {
        let Some(b) = b else { continue };
        let lam0 = b.volume() as f64 / (h * w) as f64;
        let (mut inside, mut outside) = (0f64, 0f64);
        for r in 0..gh {
            let pr = r * h / gh;
            for c in 0..gw {
                let pc = c * w / gw;
                let a = f64::from(attention[i * tokens + r * gw + c]);
                let hit =
                    (b.start[1]..b.end[1]).contains(&pr) && (b.start[2]..b.end[2]).contains(&pc);
                if hit {
                    inside += a;
                } else {
                    outside += a;
                }
            }
        }
        let total = inside + outside;
        let lam1 = if total > 0.0 { inside / total } else { lam0 };
        lam_label[i] = (1.0 - (lam0 + lam1) / 2.0) as f32;
    }
    Ok(())
}

/// The pasted box of each sample of a plan's weights (`None` for samples that are not pasted).
pub fn pasted_boxes(weights: &[SampleWeight]) -> Vec<Option<Region>> {
    weights
        .iter()
        .map(|w| match w {
            SampleWeight::Paste { region } => Some(*region),
            _ => None,
        })
        .collect()
}

impl MixMethod for TransmixConfig {
    const NAME: &'static str = "transmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        self.cutmix().validate(shape)
    }

    /// CutMix's box; the strategy re-weights the labels by the attention.
    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        self.cutmix().draw(ctx, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partner_weight_is_the_mean_of_area_and_attention_shares() {
        // methods-dynamic.md §3.1(f): attention [.1, .2, .3, .4] on a 2×2 grid of a 2×2 image, box = the
        // first row's tokens {0, 1}, lam0 = 0.5 → partner weight (0.5 + 0.3) / 2 = 0.4.
        let b = Region {
            start: [0, 0, 0],
            end: [1, 1, 2],
        };
        let mut lam = vec![0.5, 0.9];
        attention_weights(
            &[0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25],
            [2, 2],
            [2, 2],
            &[Some(b), None],
            &mut lam,
        )
        .unwrap();
        assert!((lam[0] - 0.6).abs() < 1e-7, "{lam:?}");
        assert_eq!(lam[1], 0.9, "a sample without a box keeps its weight");
        // Uniform attention gives the area share when the box edges fall on token boundaries.
        let mut lam = vec![0.0];
        let b = Region {
            start: [0, 0, 0],
            end: [1, 4, 8],
        };
        attention_weights(&[1.0 / 16.0; 16], [4, 4], [8, 8], &[Some(b)], &mut lam).unwrap();
        assert!((lam[0] - 0.5).abs() < 1e-7, "{lam:?}");
    }

    #[test]
    fn a_box_edge_inside_a_token_counts_by_its_top_left_pixel_and_bad_input_is_refused() {
        // 4×4 image, 2×2 tokens of 2×2 pixels; box rows 1..4, cols 0..4 covers token row 1 and the
        // bottom half of token row 0, whose top-left pixel (row 0) is outside: only tokens 2, 3 count.
        let b = Region {
            start: [0, 1, 0],
            end: [1, 4, 4],
        };
        let mut lam = vec![0.0];
        attention_weights(&[0.1, 0.1, 0.3, 0.5], [2, 2], [4, 4], &[Some(b)], &mut lam).unwrap();
        let lam0 = 12.0 / 16.0;
        let lam1 = 0.8 / 1.0;
        assert!((f64::from(lam[0]) - (1.0 - (lam0 + lam1) / 2.0)).abs() < 1e-7);
        let mut one = vec![0.0];
        assert!(attention_weights(&[0.5; 3], [2, 2], [4, 4], &[Some(b)], &mut one).is_err());
        assert!(attention_weights(&[f32::NAN; 4], [2, 2], [4, 4], &[Some(b)], &mut one).is_err());
        assert!(attention_weights(&[], [0, 2], [4, 4], &[], &mut []).is_err());
        assert!(
            TransmixConfig::default()
                .validate(&SampleShape::d1(1, 8).unwrap())
                .is_err()
        );
        let bad = TransmixConfig {
            alpha: 0.0,
            ..Default::default()
        };
        assert!(bad.validate(&SampleShape::d2(1, 8, 8).unwrap()).is_err());
    }
}
