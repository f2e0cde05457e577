//! TokenMix (Liu et al., ECCV'22): token-level mixing with BEiT-style block masks on the patch grid, and
//! label weights from a teacher's dense class maps: the share of each image's own-class map that stays
//! visible. The two weights need not sum to 1.
//!
//! Follows the official code (github.com/Sense-X/TokenMix @ 0e17d5dd, `tokenmix.py`):
//! - `generate_mask`: with `lam_constant = 0.5`, `count = min(T, ⌊(1 − λ)·T⌋ + minimum_tokens)` tokens are
//!   to be masked (taken from the partner); blocks of area `U(1, remaining)` and aspect
//!   `exp(U(ln 0.3, ln 1/0.3))`, `h = round(√(area·aspect))`, `w = round(√(area/aspect))`, kept only if
//!   `h < g_h` and `w < g_w`, at a uniform top-left corner, are added while they bring new tokens without
//!   overshooting (10 attempts a round); a round that adds nothing ends it. λ = 1 − masked/T, the realised
//!   share. `generate_mask_random` (`mask_type = random`) masks `count` uniformly chosen tokens;
//! - labels: `y1 = Σ_visible m̂_a`, `y2 = Σ_masked m̂_b`, with `m̂` an image's own-class map normalised to
//!   sum 1 (`/(Σ + 1e-8)`), and the target `y1·ẏ_a + y2·ẏ_b` smoothed as the reference does: each one-hot
//!   gets `on = y − s/2 + s/(2C)` and `off = s/(2C)`.
//!
//! Differences: the reference reads NFNet-F6 label maps precomputed over ImageNet (ReLabel), which cannot
//! be had here; mixlab's maps are the class activation maps of a finished mixlab ResNet run (SnapMix's:
//! `relu(features)·W_y + b_y` upsampled to the image, minus its minimum, normalised), summed over each
//! token's pixels. The grid is the image over `patch` (the reference hard-codes 14×14), and
//! `minimum_tokens` scales with it by default (⌊14·T/196⌉). The reference switches per batch between
//! this and MixUp and pairs by `flip`; mixlab's `tokenmix` is the token branch on its own. The official
//! recipe trains with BCE; mixlab uses the run's `class_loss`.

use super::{Draw, DrawCtx, MixMethod, check_range};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::{Mask, SampleWeight};
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How the masked tokens are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenMask {
    /// BEiT-style rectangular blocks (the official default, `--mask-type block`).
    #[default]
    Block,
    /// Uniformly chosen tokens (`--mask-type random`).
    Random,
}

/// TokenMix hyper-parameters (official defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenmixConfig {
    /// The constant λ of the masked count (`lam_constant = 0.5`).
    pub lam: f64,
    /// Tokens masked beyond `(1 − λ)·T`; `None` scales the official 14 of 196 to the grid.
    pub minimum_tokens: Option<usize>,
    /// Block or random masks.
    pub mask_type: TokenMask,
    /// Side of the model's patches in pixels (default 4, vit-tiny's): the mask lives on this grid.
    pub patch: usize,
    /// Checkpoint folder of a finished resnet18 / preact-resnet18 run whose class activation maps give the
    /// label maps (required to train).
    pub teacher: Option<PathBuf>,
}

impl Default for TokenmixConfig {
    fn default() -> Self {
        Self {
            lam: 0.5,
            minimum_tokens: None,
            mask_type: TokenMask::Block,
            patch: 4,
            teacher: None,
        }
    }
}

/// The random choices of the block mask generator (the reference's `random.uniform` and
/// `random.randint`), so that a golden test can replay the reference's draws.
pub trait BlockDraws {
    /// Uniform in `[lo, hi]` (`random.uniform`).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64;
    /// Uniform integer in `[lo, hi]`, both included (`random.randint`).
    fn randint(&mut self, lo: usize, hi: usize) -> usize;
}

impl<R: Rng + ?Sized> BlockDraws for R {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.random::<f64>()
    }
    fn randint(&mut self, lo: usize, hi: usize) -> usize {
        self.random_range(lo..=hi)
    }
}

impl TokenmixConfig {
    /// The token grid of an image.
    pub fn grid(&self, shape: &SampleShape) -> [usize; 2] {
        [shape.dims[1] / self.patch, shape.dims[2] / self.patch]
    }

    /// Tokens to mask on a grid of `tokens`.
    pub fn count(&self, tokens: usize) -> usize {
        let extra = self
            .minimum_tokens
            .unwrap_or_else(|| (14.0 * tokens as f64 / 196.0).round() as usize);
        (((1.0 - self.lam) * tokens as f64) as usize + extra).min(tokens)
    }

    /// The reference's `generate_mask` on a `grid`: true = masked (the partner shows).
    pub fn block_mask(
        &self,
        grid: [usize; 2],
        draws: &mut (impl BlockDraws + ?Sized),
    ) -> Vec<bool> {
        let [height, width] = grid;
        let tokens = height * width;
        let target = self.count(tokens);
        let log_aspect = (0.3f64.ln(), (1.0f64 / 0.3).ln());
        let mut mask = vec![false; tokens];
        let mut count = 0;
        while count < target {
            let max_mask = (target - count).min(tokens);
            let mut delta = 0;
            for _ in 0..10 {
                let area = draws.uniform(1.0, max_mask as f64);
                let aspect = draws.uniform(log_aspect.0, log_aspect.1).exp();
                // Python's round() rounds half to even.
                let h = (area * aspect).sqrt().round_ties_even() as usize;
                let w = (area / aspect).sqrt().round_ties_even() as usize;
                if w < width && h < height {
                    let top = draws.randint(0, height - h);
                    let left = draws.randint(0, width - w);
                    let masked = (top..top + h)
                        .flat_map(|i| (left..left + w).map(move |j| i * width + j))
                        .filter(|&k| mask[k])
                        .count();
                    let fresh = h * w - masked;
                    if 0 < fresh && fresh <= max_mask {
                        for i in top..top + h {
                            for j in left..left + w {
                                if !mask[i * width + j] {
                                    mask[i * width + j] = true;
                                    delta += 1;
                                }
                            }
                        }
                    }
                    if delta > 0 {
                        break;
                    }
                }
            }
            if delta == 0 {
                break;
            }
            count += delta;
        }
        mask
    }

    /// The token mask brought to the image (`patch`-sized cells, nearest): per pixel the weight of the
    /// sample itself (0 where the partner shows).
    pub fn pixel_mask(&self, masked: &[bool], grid: [usize; 2], image: [usize; 2]) -> Mask {
        let [h, w] = image;
        let [gh, gw] = grid;
        (0..h * w)
            .map(|k| {
                let (r, c) = ((k / w) / self.patch, (k % w) / self.patch);
                let m = r < gh && c < gw && masked[r * gw + c];
                if m { 0.0 } else { 1.0 }
            })
            .collect()
    }
}

/// The soft targets of a batch (n × classes): `maps` holds each sample's own-class map on the token grid
/// (n × T, non-negative), `masked[i]` its masked tokens (the partner shows), `partner[i]` its partner.
pub fn token_targets(
    maps: &[f32],
    masked: &[Vec<bool>],
    labels: &[usize],
    partner: &[usize],
    classes: usize,
    smoothing: f32,
) -> Result<Vec<f32>> {
    let n = labels.len();
    let t = masked.first().map_or(0, Vec::len);
    if maps.len() != n * t || masked.len() != n || partner.len() != n || t == 0 {
        return Err(Error::SizeMismatch {
            what: "tokenmix maps and masks",
            expected: n * t.max(1),
            got: maps.len(),
        });
    }
    if let Some(p) = maps.iter().position(|v| !v.is_finite()) {
        return Err(Error::Incompatible(format!(
            "tokenmix label map holds a non-finite value at index {p}"
        )));
    }
    let norm = |i: usize| -> Vec<f64> {
        let row = &maps[i * t..(i + 1) * t];
        let s: f64 = row.iter().map(|&v| f64::from(v)).sum();
        row.iter().map(|&v| f64::from(v) / (s + 1e-8)).collect()
    };
    let off = f64::from(smoothing) / classes as f64;
    let mut out = vec![0f32; n * classes];
    for i in 0..n {
        let j = partner[i];
        if j >= n || labels[i] >= classes || labels[j] >= classes || masked[i].len() != t {
            return Err(Error::Incompatible(format!(
                "tokenmix sample {i}: partner {j} or label out of range"
            )));
        }
        let (ma, mb) = (norm(i), norm(j));
        let y1: f64 = (0..t).filter(|&k| !masked[i][k]).map(|k| ma[k]).sum();
        let y2: f64 = (0..t).filter(|&k| masked[i][k]).map(|k| mb[k]).sum();
        let row = &mut out[i * classes..(i + 1) * classes];
        for (k, v) in row.iter_mut().enumerate() {
            let mut x = off; // off/2 from each of the two one-hots
            if k == labels[i] {
                x += y1 - f64::from(smoothing) / 2.0;
            }
            if k == labels[j] {
                x += y2 - f64::from(smoothing) / 2.0;
            }
            *v = x as f32;
        }
    }
    Ok(out)
}

impl MixMethod for TokenmixConfig {
    const NAME: &'static str = "tokenmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        check_range("tokenmix lam", self.lam, 0.0, 1.0, "in [0, 1]")?;
        let [gh, gw] = if self.patch == 0 {
            [0, 0]
        } else {
            self.grid(shape)
        };
        if gh < 2 || gw < 2 {
            return Err(Error::param(
                "tokenmix patch",
                "small enough for a grid of at least 2x2 tokens",
                self.patch,
            ));
        }
        Ok(())
    }

    /// A block (or random) token mask; the label weight is the realised visible share (the strategy
    /// replaces the targets with the teacher-map weights).
    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let grid = self.grid(ctx.shape);
        let tokens = grid[0] * grid[1];
        let masked = match self.mask_type {
            TokenMask::Block => self.block_mask(grid, rng),
            TokenMask::Random => {
                let mut idx: Vec<usize> = (0..tokens).collect();
                idx.shuffle(rng);
                let mut m = vec![false; tokens];
                for &k in idx.iter().take(self.count(tokens)) {
                    m[k] = true;
                }
                m
            }
        };
        let visible = masked.iter().filter(|&&m| !m).count();
        let image = [ctx.shape.dims[1], ctx.shape.dims[2]];
        Ok(Draw {
            weight: SampleWeight::Mask {
                mask: self.pixel_mask(&masked, grid, image),
            },
            lam_label: visible as f32 / tokens as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn uniform_maps_give_the_area_shares_and_masks_stay_in_budget() {
        // methods-dynamic.md §3.4(f): a uniform map gives y1 = 1 − m̄ and y2 = m̄.
        let masked = vec![
            vec![true, false, false, false],
            vec![false, true, true, false],
        ];
        let t = token_targets(&[1.0; 8], &masked, &[0, 1], &[1, 0], 3, 0.0).unwrap();
        assert!(
            (t[0] - 0.75).abs() < 1e-6 && (t[1] - 0.25).abs() < 1e-6,
            "{t:?}"
        );
        assert!(
            (t[4] - 0.5).abs() < 1e-6 && (t[3] - 0.5).abs() < 1e-6,
            "{t:?}"
        );
        let cfg = TokenmixConfig::default();
        assert_eq!(cfg.count(196), 112, "the official count at 14×14");
        let mut rng = stream(1, Purpose::Mix, 0, 0);
        for _ in 0..100 {
            let m = cfg.block_mask([8, 8], &mut rng);
            let k = m.iter().filter(|&&v| v).count();
            assert!(k >= 1 && k <= cfg.count(64), "{k}");
        }
        assert!(token_targets(&[1.0; 7], &masked, &[0, 1], &[1, 0], 3, 0.0).is_err());
        assert!(cfg.validate(&SampleShape::d2(1, 4, 4).unwrap()).is_err());
    }
}
