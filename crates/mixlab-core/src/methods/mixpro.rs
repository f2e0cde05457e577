//! MixPro (Zhao et al., ICLR'23): MaskMix inputs ([`crate::methods::maskmix`]) with progressive attention
//! labelling (PAL): the label weight blends the kept area with the share of the mixed image's class-token
//! attention on the kept tokens, trusting the attention more the more the model's prediction already
//! agrees with the mixed target.
//!
//! Follows the official code (github.com/fistyee/MixPro @ 53a229e0, `main.py` `train_one_epoch`, PAL
//! branch; `utils.py` `MaskMix`):
//! - `lam_attn = Σ m·a / Σ a` over the token grid, with `m` the kept-token mask (1 = the sample's own
//!   image) and `a` the last block's class-token attention of the mixed image (same forward, detached);
//! - `sim = cos(mix_targets, softmax(outputs))` per sample, `mix_targets` the area-weighted targets with
//!   label smoothing (the mixer's `label_smoothing`; MixPro's configs use 0.1);
//! - `λ = sim·lam_attn + (1 − sim)·mask_ratio`, and the loss `mean(λ·CE(out, y) + (1 − λ)·CE(out, y_perm))`
//!   with **hard** labels. The official code does not detach `softmax(outputs)` inside `sim`, so λ carries
//!   gradient into the logits; mixlab does the same (OpenMixup's port detaches it).
//!
//! `pal = false` trains on the area targets alone, which is `maskmix`: the official configs ship PAL
//! switched off (`PAL_ATTN: False`, also in the one named `..._attn_all`), so their published runs are
//! MaskMix with MixUp/CutMix; `pal = true` (default) is what the paper describes. Differences: MixPro's
//! recipe switches per batch between MaskMix (p = 0.5) and timm's MixUp/CutMix; mixlab's `mixpro` is the
//! MaskMix branch on its own (one model-in-the-loop method per run). Where a token straddles mask patches
//! (a mask patch that is no multiple of the model's patch), its `m` is the kept fraction of its pixels; the
//! reference requires the multiple. The mask follows `maskmix`: one kept fraction per batch, each sample's
//! own patches (the official `MaskMix`), on a grid of 4 patches along the shortest side by
//! default, so a 32-px image is mixed (OpenMixup's default 64-px patches leave a 32-px image whole).

use super::{Draw, DrawCtx, MixMethod};
use crate::error::{Error, Result};
use crate::methods::MaskmixConfig;
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// MixPro hyper-parameters: MaskMix's and the PAL switch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixproConfig {
    /// Beta concentration α of the kept fraction (default 1, `MASKMIX_ALPHA`).
    pub alpha: f64,
    /// Mask patch side in pixels; `None` (default) as `maskmix`.
    pub mask_patch_size: Option<usize>,
    /// Progressive attention labelling (default true, the paper; the official configs ship it off).
    pub pal: bool,
}

impl Default for MixproConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            mask_patch_size: None,
            pal: true,
        }
    }
}

impl MixproConfig {
    /// The MaskMix that draws this method's inputs.
    pub fn maskmix(&self) -> MaskmixConfig {
        MaskmixConfig {
            alpha: self.alpha,
            mask_patch_size: self.mask_patch_size,
        }
    }
}

/// The own-image share of each sample's attention, `Σ m·a / Σ a` over the `grid = [g_h, g_w]` tokens of an
/// `image = [H, W]`, where `m` of a token is the mean of the sample's pixel mask (1 = own image) over the
/// token's pixels. Samples without a mask (kept whole) get 1; attention that sums to 0 gives the mask's mean.
pub fn attention_share(
    attention: &[f32],
    grid: [usize; 2],
    image: [usize; 2],
    weights: &[SampleWeight],
) -> Result<Vec<f32>> {
    let [gh, gw] = grid;
    let [h, w] = image;
    let tokens = gh.saturating_mul(gw);
    let n = weights.len();
    if tokens == 0 || gh > h || gw > w {
        return Err(Error::Incompatible(format!(
            "mixpro needs a token grid of at least one token and at most one per pixel, got {gh}x{gw} on {h}x{w}"
        )));
    }
    if attention.len() != n.saturating_mul(tokens) {
        return Err(Error::SizeMismatch {
            what: "mixpro attention",
            expected: n.saturating_mul(tokens),
            got: attention.len(),
        });
    }
    if let Some(p) = attention.iter().position(|v| !v.is_finite()) {
        return Err(Error::Incompatible(format!(
            "mixpro attention holds a non-finite value at index {p}"
        )));
    }
    weights
        .iter()
        .enumerate()
        .map(|(i, wt)| {
            let mask = match wt {
                SampleWeight::Keep => return Ok(1.0),
                SampleWeight::Mask { mask } if mask.len() == h * w => mask,
                other => {
                    return Err(Error::Incompatible(format!(
                        "mixpro reads each sample's pixel mask ({h}x{w}); the plan has {other:?}"
                    )));
                }
            };
            let (mut own, mut total) = (0f64, 0f64);
            for r in 0..gh {
                let rows = r * h / gh..(r + 1) * h / gh;
                for c in 0..gw {
                    let cols = c * w / gw..(c + 1) * w / gw;
                    let px = rows.len() * cols.len();
                    let kept: f64 = rows
                        .clone()
                        .flat_map(|y| cols.clone().map(move |x| y * w + x))
                        .map(|k| f64::from(mask[k]))
                        .sum();
                    let a = f64::from(attention[i * tokens + r * gw + c]);
                    own += a * kept / px.max(1) as f64;
                    total += a;
                }
            }
            Ok(if total > 0.0 {
                (own / total) as f32
            } else {
                crate::weight::mask_mean(mask) as f32
            })
        })
        .collect()
}

/// PAL's label weight of the sample's own label: `sim·lam_attn + (1 − sim)·mask_ratio`.
pub fn pal_lambda(sim: f64, lam_attn: f64, mask_ratio: f64) -> f64 {
    sim * lam_attn + (1.0 - sim) * mask_ratio
}

impl MixMethod for MixproConfig {
    const NAME: &'static str = "mixpro";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        self.maskmix().validate(shape)
    }

    /// MaskMix's patch mask; the strategy blends its label weight with the attention (PAL).
    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        self.maskmix().draw(ctx, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weight::Mask;

    #[test]
    fn the_attention_share_weights_tokens_by_their_kept_pixels() {
        // 4×4 image, 2×2 tokens; the left half is the sample's own image.
        let mask: Mask = (0..16).map(|k| if k % 4 < 2 { 1.0 } else { 0.0 }).collect();
        let w = vec![SampleWeight::Mask { mask }, SampleWeight::Keep];
        let a = [0.1, 0.3, 0.2, 0.4, 0.25, 0.25, 0.25, 0.25];
        let s = attention_share(&a, [2, 2], [4, 4], &w).unwrap();
        assert!((s[0] - 0.3).abs() < 1e-7, "{s:?}");
        assert_eq!(s[1], 1.0);
        // A token that straddles the mask edge counts by its kept fraction: one token over 4×4 pixels.
        let one = attention_share(&[1.0], [1, 1], [4, 4], &w[..1]).unwrap();
        assert!((one[0] - 0.5).abs() < 1e-7);
        // PAL's blend lies between the two shares.
        assert!((pal_lambda(0.25, 0.8, 0.4) - 0.5).abs() < 1e-12);
        assert!(attention_share(&a[..3], [2, 2], [4, 4], &w).is_err());
        let blend = [SampleWeight::Blend { lam: 0.5 }];
        assert!(attention_share(&a[..4], [2, 2], [4, 4], &blend).is_err());
        assert!(
            MixproConfig::default()
                .validate(&SampleShape::d1(1, 8).unwrap())
                .is_err()
        );
    }
}
