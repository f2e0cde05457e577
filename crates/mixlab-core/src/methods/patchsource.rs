//! Patch-source prediction: the small dense task that shows a mix's source map is a target (MixReorg's
//! transferable idea, Cai et al., ICCV'23). Each training batch is mixed by an input-level `base` method; the
//! model predicts, for every patch of a `grid` × `grid` split, the class of the image the patch came from,
//! trained on the per-patch shares of [`crate::dense::patch_targets`]. The control trains the same network
//! on the image-level mixed label in every patch, all that a label-only mixing library can give. Both are
//! judged by per-patch accuracy and calibration on mixed validation and test images.

use super::{Draw, DrawCtx, Method, MethodConfig, MixMethod};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// What each patch is trained towards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchTargets {
    /// The classes of the patch's sources, in their shares of the patch (the dense target).
    SourceMap,
    /// The image's mixed label in every patch (the label-only control).
    ImageLabel,
}

/// The patch-source task (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatchsourceConfig {
    /// The input-level method that mixes the batches (default cutmix, α = 1).
    pub base: Box<MethodConfig>,
    /// Patches per side (default 4: 7 × 7-pixel patches on 28 × 28 images).
    pub grid: usize,
    /// Training targets (default the source map).
    pub targets: PatchTargets,
}

impl Default for PatchsourceConfig {
    fn default() -> Self {
        Self {
            base: Box::new(MethodConfig::Cutmix(Default::default())),
            grid: 4,
            targets: PatchTargets::SourceMap,
        }
    }
}

impl MixMethod for PatchsourceConfig {
    const NAME: &'static str = "patchsource";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        let m = self.base.method();
        if !m.is_input_level() || m == Method::None {
            return Err(Error::param(
                "base",
                "an input-level mixing method (cutmix, maskmix, gridmix, ...)",
                m.name(),
            ));
        }
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        let [_, h, w] = shape.dims;
        if self.grid == 0 || self.grid > h.min(w) {
            return Err(Error::param(
                "grid",
                "patches per side, in 1..=min(height, width)",
                self.grid,
            ));
        }
        self.base.validate(shape)
    }

    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        self.base.draw(ctx, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dense::{patch_classes, patch_shares, patch_targets};
    use crate::plan::{MixPlan, Region, SampleWeight};

    fn shape() -> SampleShape {
        SampleShape::new(1, &[8, 8]).unwrap()
    }

    #[test]
    fn bases_and_grids_are_checked() {
        let s = shape();
        assert!(PatchsourceConfig::default().validate(&s).is_ok());
        for bad in [
            PatchsourceConfig {
                base: Box::new(MethodConfig::None),
                ..Default::default()
            },
            PatchsourceConfig {
                base: Box::new(MethodConfig::Proxydet(Default::default())),
                ..Default::default()
            },
            PatchsourceConfig {
                grid: 9,
                ..Default::default()
            },
            PatchsourceConfig {
                grid: 0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate(&s).is_err(), "{bad:?}");
        }
        // 1-D samples have no patch plane.
        let wave = SampleShape::new(1, &[64]).unwrap();
        let one_d = PatchsourceConfig {
            grid: 2,
            base: Box::new(MethodConfig::Mixup(Default::default())),
            ..Default::default()
        };
        assert!(one_d.validate(&wave).is_err());
    }

    /// Sample 0 pastes its partner's top-left 4×6 block (rows 0..4, columns 0..6); sample 1 is kept.
    fn pasted() -> MixPlan {
        MixPlan {
            shape: shape(),
            partner: vec![1, 0],
            weights: vec![
                SampleWeight::Paste {
                    region: Region {
                        start: [0, 0, 0],
                        end: [1, 4, 6],
                    },
                },
                SampleWeight::Keep,
            ],
            lam_label: vec![1.0 - 24.0 / 64.0, 1.0],
            method: vec![Method::Cutmix, Method::None],
        }
    }

    #[test]
    fn shares_count_each_patchs_own_pixels() {
        let p = pasted();
        // A 2×2 grid of 4×4 patches: the top-left patch is all partner, the top-right half partner.
        assert_eq!(patch_shares(&p, 0, 2).unwrap(), vec![0.0, 0.5, 1.0, 1.0]);
        assert_eq!(patch_shares(&p, 1, 2).unwrap(), vec![1.0; 4]);
        // Labels 3 (sample 0) and 1 (its partner), 4 classes.
        let t = patch_targets(&p, &[3, 1], 4, 2, true).unwrap();
        assert_eq!(&t[0..4], &[0.0, 1.0, 0.0, 0.0]);
        assert_eq!(&t[4..8], &[0.0, 0.5, 0.0, 0.5]);
        assert_eq!(&t[8..12], &[0.0, 0.0, 0.0, 1.0]);
        // The control: every patch holds the image's label, 5/8 own and 3/8 partner.
        let c = patch_targets(&p, &[3, 1], 4, 2, false).unwrap();
        for k in 0..4 {
            assert_eq!(&c[k * 4..k * 4 + 4], &[0.0, 0.375, 0.0, 0.625]);
        }
        // Hard classes: a tie keeps the sample's own label.
        assert_eq!(
            patch_classes(&p, &[3, 1], 2).unwrap(),
            vec![1, 3, 3, 3, 1, 1, 1, 1]
        );
        assert!(patch_classes(&p, &[3], 2).is_err());
        assert!(patch_shares(&p, 0, 9).is_err());
    }
}
