//! MaskMix, the input side of MixPro (Zhao et al., ICLR'23; OpenMixup `mixpro`): the sample is cut into a
//! grid of square patches, a random subset of `⌈T·λ⌉` of the T patches keeps the sample and the rest
//! show the partner; the label weight is the realised kept fraction.
//!
//! λ ~ Beta(α, α) as the reference. A batch shares λ (so every sample keeps the same number of patches)
//! but each sample draws its own patches, as MixPro's `MaskMix` (one `ratio`, a permutation per sample);
//! a pair (`granularity = pair`) shares one mask, a sample of its own (`elem`) draws its own λ. (Before
//! 2026-12-07 a batch shared one mask; runs committed before then used that.) MixPro's progressive
//! attention labelling needs a ViT's attention and lives outside this crate; its label smoothing is the
//! mixer's `label_smoothing`.
//!
//! Patch size: OpenMixup uses 64-pixel patches on 224² inputs, a grid of ⌈224/64⌉ = 4 patches per side.
//! Fixed 64-pixel patches would be a single patch on a 32² image, so the default (`mask_patch_size:
//! None`) scales to the input instead: the side is `⌈s/4⌉` with s the shortest active extent, which
//! gives the same 4 patches along the shortest axis (8-pixel patches on 32², 64 on 256²) and square
//! patches on the others. Extents that the side does not divide end in partial patches, which count
//! for their true size in the label weight (the reference crops its mask instead and reports the patch
//! count ratio). Ranks 1, 2 and 3 use the same grid on every active axis.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Patches along the shortest active axis when the patch size is left to the default.
const DEFAULT_GRID: usize = 4;

/// MaskMix hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskmixConfig {
    /// Beta concentration α for λ (default 1.0, OpenMixup's default).
    pub alpha: f64,
    /// Patch side in positions (≥ 1); `None` (default) = `⌈shortest extent / 4⌉`, see the module docs.
    pub mask_patch_size: Option<usize>,
}

impl Default for MaskmixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            mask_patch_size: None,
        }
    }
}

impl MaskmixConfig {
    /// Sets α.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Sets a fixed patch side (OpenMixup's `mask_patch_size`).
    pub fn with_mask_patch_size(mut self, size: usize) -> Self {
        self.mask_patch_size = Some(size);
        self
    }

    /// The patch side used for `shape`.
    pub fn patch_size(&self, shape: &SampleShape) -> usize {
        self.mask_patch_size.unwrap_or_else(|| {
            let shortest = shape.spatial().iter().copied().min().unwrap_or(1);
            shortest.div_ceil(DEFAULT_GRID).max(1)
        })
    }
}

/// Patches per axis, `⌈dim / patch⌉` on the active axes and 1 elsewhere (a patch of 0 counts as 1).
pub fn patch_grid(shape: &SampleShape, patch: usize) -> [usize; 3] {
    let patch = patch.max(1);
    let first = 3 - shape.rank;
    let mut g = [1usize; 3];
    for (a, (cells, &d)) in g.iter_mut().zip(&shape.dims).enumerate() {
        if a >= first {
            *cells = d.div_ceil(patch);
        }
    }
    g
}

/// Patches that keep the sample for a draw λ: `⌈T·λ⌉` (MixPro's `mask_count`), at most T.
pub fn kept_count(tokens: usize, lam: f64) -> usize {
    ((tokens as f64 * lam).ceil() as usize).min(tokens)
}

/// The self-weight mask for a given set of kept patches (`kept[t]` for patch t in row-major order).
pub fn patch_mask(shape: &SampleShape, patch: usize, kept: &[bool]) -> Result<Vec<f32>> {
    patch_mask_counted(shape, patch, kept).map(|(mask, _)| mask)
}

/// [`patch_mask`] and how many of its positions are 1. A row of positions is built once per row of
/// patches and copied to the rows below it (a draw builds one mask per sample).
fn patch_mask_counted(
    shape: &SampleShape,
    patch: usize,
    kept: &[bool],
) -> Result<(Vec<f32>, usize)> {
    if patch == 0 {
        return Err(Error::param("maskmix mask_patch_size", ">= 1", 0));
    }
    let [d, h, w] = shape.dims;
    let g = patch_grid(shape, patch);
    let tokens = g.iter().product::<usize>();
    if kept.len() != tokens {
        return Err(Error::SizeMismatch {
            what: "kept patch flags",
            expected: tokens,
            got: kept.len(),
        });
    }
    // An inactive axis has extent 1, so its cell index is always 0 whatever the patch size.
    let cell = |x: usize| x / patch;
    let mut mask = Vec::with_capacity(d * h * w);
    let mut row = vec![0.0f32; w];
    let (mut row_base, mut row_ones, mut ones) = (usize::MAX, 0, 0);
    for z in 0..d {
        for y in 0..h {
            let base = (cell(z) * g[1] + cell(y)) * g[2];
            if base != row_base {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = if kept[base + cell(x)] { 1.0 } else { 0.0 };
                }
                row_ones = row.iter().filter(|&&v| v == 1.0).count();
                row_base = base;
            }
            mask.extend_from_slice(&row);
            ones += row_ones;
        }
    }
    Ok((mask, ones))
}

impl MixMethod for MaskmixConfig {
    const NAME: &'static str = "maskmix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        if self.mask_patch_size == Some(0) {
            return Err(Error::param("maskmix mask_patch_size", ">= 1", 0));
        }
        Ok(())
    }

    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let mut one = self.draw_batch(ctx.shape, 1, rng)?;
        one.pop()
            .ok_or_else(|| Error::Incompatible("maskmix drew no mask".into()))
    }
}

impl MaskmixConfig {
    /// The draws of `n` samples that share one λ: the kept count `⌈T·λ⌉` is common, the kept patches are
    /// drawn anew for every sample, as MixPro's `MaskMix` (one `ratio` per batch, one permutation per
    /// sample). With `n = 1` this is [`MixMethod::draw`].
    pub fn draw_batch<R: Rng + ?Sized>(
        &self,
        shape: &SampleShape,
        n: usize,
        rng: &mut R,
    ) -> Result<Vec<Draw>> {
        let lam = sample_beta(self.alpha, self.alpha, rng)?;
        let patch = self.patch_size(shape);
        let tokens: usize = patch_grid(shape, patch).iter().product();
        let count = kept_count(tokens, lam);
        (0..n)
            .map(|_| {
                let mut kept = vec![false; tokens];
                for t in rand::seq::index::sample(rng, tokens, count) {
                    kept[t] = true;
                }
                let (mask, ones) = patch_mask_counted(shape, patch, &kept)?;
                // The mask is 0/1, so its mean is the count of ones over its length, exactly
                // `weight::mask_mean` of it.
                let mean = if mask.is_empty() {
                    0.0
                } else {
                    ones as f64 / mask.len() as f64
                };
                Ok(Draw {
                    weight: SampleWeight::Mask { mask: mask.into() },
                    lam_label: mean as f32,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn default_patch_scales_to_the_shortest_axis() {
        let c = MaskmixConfig::default();
        let s = |v: &[usize]| SampleShape::new(3, v).unwrap();
        assert_eq!(c.patch_size(&s(&[224, 224])), 56);
        assert_eq!(c.patch_size(&s(&[32, 32])), 8);
        assert_eq!(
            patch_grid(&s(&[12, 20]), c.patch_size(&s(&[12, 20]))),
            [1, 4, 7]
        );
        assert_eq!(patch_grid(&s(&[100]), 30), [1, 1, 4]);
        assert_eq!(patch_grid(&s(&[5, 6, 7]), 2), [3, 3, 4]);
    }

    #[test]
    fn partial_edge_patches_count_for_their_true_size() {
        // 5x7 with patches of 3: grid 2x3; keep only the bottom-right patch, 2 rows x 1 column.
        let shape = SampleShape::d2(1, 5, 7).unwrap();
        let mut kept = vec![false; 6];
        kept[5] = true;
        let m = patch_mask(&shape, 3, &kept).unwrap();
        assert!(patch_mask(&shape, 3, &kept[..5]).is_err());
        assert!(patch_mask(&shape, 0, &kept).is_err());
        let ones: Vec<usize> = (0..35).filter(|&i| m[i] == 1.0).collect();
        assert_eq!(ones, vec![3 * 7 + 6, 4 * 7 + 6]);
    }

    #[test]
    fn kept_patch_count_follows_lambda_in_every_rank() {
        for spatial in [&[50][..], &[12, 20], &[5, 6, 7]] {
            let shape = SampleShape::new(2, spatial).unwrap();
            let ctx = DrawCtx {
                shape: &shape,
                partner_data: None,
            };
            let cfg = MaskmixConfig::default().with_alpha(0.5);
            cfg.validate(&shape).unwrap();
            let patch = cfg.patch_size(&shape);
            let mut rng = stream(9, Purpose::Mix, 0, 0);
            let mut total = 0.0;
            for _ in 0..300 {
                let d = cfg.draw(&ctx, &mut rng).unwrap();
                let SampleWeight::Mask { mask } = &d.weight else {
                    panic!("maskmix must give a mask")
                };
                let mean = mask.iter().sum::<f32>() / mask.len() as f32;
                assert!((mean - d.lam_label).abs() < 1e-6);
                assert_eq!(d.lam_label, crate::weight::mask_mean(mask) as f32);
                // Every patch is all-kept or all-partner.
                let [_, h, w] = shape.dims;
                for (i, &v) in mask.iter().enumerate() {
                    let (z, y, x) = (i / (h * w), i / w % h, i % w);
                    let corner =
                        ((z / patch * patch) * h + y / patch * patch) * w + x / patch * patch;
                    assert_eq!(v, mask[corner], "{spatial:?} {i}");
                }
                total += f64::from(d.lam_label);
            }
            // E[λ] = 0.5, and ⌈T·λ⌉ only rounds up: the mean kept share lies a little above 0.5.
            let avg = total / 300.0;
            assert!((0.45..0.7).contains(&avg), "{spatial:?} {avg}");
        }
    }

    #[test]
    fn a_batch_shares_the_kept_count_but_not_the_patches() {
        let shape = SampleShape::d2(3, 32, 32).unwrap();
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        let cfg = MaskmixConfig::default();
        let mut mixed = 0;
        for seed in 0..20 {
            // One sample is exactly a single draw: element-wise runs see the same stream as before.
            let single = cfg
                .draw(&ctx, &mut stream(seed, Purpose::Mix, 0, 0))
                .unwrap();
            let batch = cfg
                .draw_batch(&shape, 8, &mut stream(seed, Purpose::Mix, 0, 0))
                .unwrap();
            assert_eq!(batch.len(), 8);
            assert_eq!(batch[0], single);
            // 16 patches of 8×8 pixels: every sample keeps the same number of them.
            assert!(batch.iter().all(|d| d.lam_label == single.lam_label));
            if (0.0..1.0).contains(&single.lam_label) && single.lam_label > 0.0 {
                mixed += 1;
                assert!(
                    batch.iter().any(|d| d.weight != single.weight),
                    "seed {seed}: eight samples drew the same patches"
                );
            }
        }
        assert!(mixed >= 10, "{mixed}");
        // Through the mixer: a batch draws each sample's patches, a pair shares its one draw.
        use crate::methods::MethodConfig;
        use crate::mixer::{BatchInfo, Granularity, MixerConfig, Pairing};
        let info = BatchInfo {
            batch: 8,
            shape,
            epoch: 0,
            data: None,
        };
        let mixer = MixerConfig::single(MethodConfig::Maskmix(cfg)).with_pairing(Pairing::Flip);
        let (mut batch_differs, mut pairs_share) = (false, true);
        for seed in 0..10 {
            let mut rng = stream(seed, Purpose::Mix, 0, 0);
            let plan = mixer.sample(&info, &mut rng).unwrap();
            batch_differs |= plan.weights.windows(2).any(|w| w[0] != w[1]);
            let mut rng = stream(seed, Purpose::Mix, 0, 0);
            let pairs = mixer.clone().with_granularity(Granularity::Pair);
            let plan = pairs.sample(&info, &mut rng).unwrap();
            pairs_share &= (0..8).all(|i| plan.weights[i] == plan.weights[7 - i]);
        }
        assert!(batch_differs && pairs_share);
    }

    #[test]
    fn rejects_zero_patch_and_bad_alpha() {
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        assert!(
            MaskmixConfig::default()
                .with_mask_patch_size(0)
                .validate(&shape)
                .is_err()
        );
        assert!(
            MaskmixConfig::default()
                .with_alpha(0.0)
                .validate(&shape)
                .is_err()
        );
        // A patch larger than the sample is one patch: kept whole or replaced whole.
        let big = MaskmixConfig::default().with_mask_patch_size(64);
        assert_eq!(patch_grid(&shape, big.patch_size(&shape)), [1, 1, 1]);
    }
}
