//! Box geometry shared by the cutting methods (CutMix, SaliencyMix, ResizeMix): pure functions of the
//! shape, the ratio and the centre/origin, so golden tests can feed the reference's own draws.

use crate::plan::Region;
use crate::shape::SampleShape;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// Cut extents `int(dim · ratio)` on the active axes (timm `rand_bbox`); inactive axes keep extent 1.
pub fn cut_extents(shape: &SampleShape, ratio: f64) -> [usize; 3] {
    let first = 3 - shape.rank;
    let mut cut = [1usize; 3];
    for (c, &d) in cut.iter_mut().zip(&shape.dims).skip(first) {
        *c = (d as f64 * ratio) as usize;
    }
    cut
}

/// The side ratio that gives a box of volume fraction `1 − λ` in `rank` dimensions: `(1 − λ)^(1/rank)`
/// (√(1 − λ) for images as in CutMix; the segment length 1 − λ in 1-D; the cube root in 3-D).
pub fn side_ratio(lam: f64, rank: usize) -> f64 {
    (1.0 - lam).clamp(0.0, 1.0).powf(1.0 / rank as f64)
}

/// Where a centred box ends when its cut is odd. The start is `c − ⌊cut/2⌋` under both rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum BoxRule {
    /// End at `c + ⌊cut/2⌋`, so an odd cut loses a pixel (extent `2⌊cut/2⌋`): torchvision `CutMix`,
    /// OpenMixup's `cutmix` / `rand_bbox_tao` / SaliencyMix, the CutMix paper's code and timm before 1.0.31.
    #[default]
    Torchvision,
    /// End at `c + ⌈cut/2⌉`, so an unclipped box has exactly `cut` positions: timm ≥ 1.0.31.
    Timm,
}

impl BoxRule {
    /// Both rules, in declaration order.
    pub const ALL: [BoxRule; 2] = [BoxRule::Torchvision, BoxRule::Timm];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BoxRule::Torchvision => "torchvision",
            BoxRule::Timm => "timm",
        }
    }

    fn upper_half(self, cut: usize) -> usize {
        match self {
            BoxRule::Torchvision => cut / 2,
            BoxRule::Timm => cut.div_ceil(2),
        }
    }
}

/// A box of `cut` centred at `centre`, `[c − ⌊cut/2⌋, c + half)` with the end `half` set by `rule`,
/// clipped to the sample.
pub fn centred_box(
    shape: &SampleShape,
    cut: [usize; 3],
    centre: [usize; 3],
    rule: BoxRule,
) -> Region {
    let first = 3 - shape.rank;
    let mut r = Region {
        start: [0; 3],
        end: [1; 3],
    };
    for a in first..3 {
        let dim = shape.dims[a] as i64;
        let c = centre[a] as i64;
        let (low, high) = ((cut[a] / 2) as i64, rule.upper_half(cut[a]) as i64);
        r.start[a] = (c - low).clamp(0, dim) as usize;
        r.end[a] = (c + high).clamp(0, dim) as usize;
    }
    r
}

/// A centre drawn uniformly on the active axes, `[margin·cut, dim − margin·cut)` as timm's `rand_bbox`.
pub fn uniform_centre<R: Rng + ?Sized>(
    shape: &SampleShape,
    cut: [usize; 3],
    margin: f64,
    rng: &mut R,
) -> [usize; 3] {
    let first = 3 - shape.rank;
    let mut c = [0usize; 3];
    for a in first..3 {
        let m = (margin * cut[a] as f64) as usize;
        let (lo, hi) = (m, shape.dims[a].saturating_sub(m));
        c[a] = if hi > lo {
            rng.random_range(lo..hi)
        } else {
            shape.dims[a] / 2
        };
    }
    c
}

/// A box of `cut` with its low corner at `origin` (no clipping: callers draw origins that fit).
pub fn box_at(shape: &SampleShape, cut: [usize; 3], origin: [usize; 3]) -> Region {
    let first = 3 - shape.rank;
    let mut r = Region {
        start: [0; 3],
        end: [1; 3],
    };
    for a in first..3 {
        r.start[a] = origin[a];
        r.end[a] = (origin[a] + cut[a]).min(shape.dims[a]);
    }
    r
}
