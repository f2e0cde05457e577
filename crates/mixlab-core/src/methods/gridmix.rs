//! GridMix (Baek et al., Pattern Recognition'21; OpenMixup `gridmix`): inside a random crop window the
//! partner shows through a regular grid of holes; the label weight is the realised kept fraction.
//!
//! Construction per draw (the reference's order of draws): λ ~ Beta(α, α); the number of holes across
//! the window `n ~ U{n_holes}` (inclusive); hole aspect, window area ratio and window aspect uniform in
//! their ranges; the window's relative position `(cy, cx) ~ U[0, 1)²`. The window has area
//! `int(H·W·area_ratio)`, width `int(√(area / aspect))` and height `int(width·aspect)`; its corner is
//! `int((dim − extent)·c)`. The window is tiled with patches of width `⌈width / n⌉` and height
//! `int(patch_w·hole_aspect)`; each patch's top-left hole has sides `int(patch·√(1 − λ))`, kept in
//! `[1, patch − 1]`, so about `1 − λ` of the window is the partner.
//!
//! Where this departs from OpenMixup, on purpose:
//! - OpenMixup reads `size(2)` as "W" and `size(3)` as "H" and mixes the two up when slicing; for H ≠ W
//!   each axis here takes its extent and position from its own size (identical results for H = W).
//! - A window larger than the image (possible with aspect 2 and area ratio near 1, where OpenMixup
//!   slices with negative offsets) is clipped to the image.
//! - OpenMixup asserts `n ≤ width / 2`, which fails on small images; here n is lowered to
//!   `max(1, width / 2)`, and a patch height of 0 is raised to 1.
//!
//! Ranks: 2-D as the paper; 1-D is the same construction on a line (window `int(L·area_ratio)`,
//! holes of `int(patch·(1 − λ))`, aspect ratios unused). 3-D has no natural reading of the two aspect
//! ratios and is refused.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::boxes::side_ratio;
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// GridMix hyper-parameters; every range is inclusive and drawn uniformly per draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridmixConfig {
    /// Beta concentration α for λ (default 1.0, OpenMixup's default).
    pub alpha: f64,
    /// Range of the number of holes across the window (default `(2, 6)`).
    pub n_holes: (usize, usize),
    /// Range of the hole (patch) height / width ratio (default `(1, 1)`).
    pub hole_aspect_ratio: (f64, f64),
    /// Range of the window's share of the image area (default `(0.5, 1)`).
    pub cut_area_ratio: (f64, f64),
    /// Range of the window's height / width ratio (default `(0.5, 2)`).
    pub cut_aspect_ratio: (f64, f64),
}

impl Default for GridmixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            n_holes: (2, 6),
            hole_aspect_ratio: (1.0, 1.0),
            cut_area_ratio: (0.5, 1.0),
            cut_aspect_ratio: (0.5, 2.0),
        }
    }
}

impl GridmixConfig {
    /// Sets α.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Sets the range of the number of holes across the window.
    pub fn with_n_holes(mut self, lo: usize, hi: usize) -> Self {
        self.n_holes = (lo, hi);
        self
    }
    /// Sets the range of the hole aspect ratio (height / width).
    pub fn with_hole_aspect_ratio(mut self, lo: f64, hi: f64) -> Self {
        self.hole_aspect_ratio = (lo, hi);
        self
    }
    /// Sets the range of the window's area share.
    pub fn with_cut_area_ratio(mut self, lo: f64, hi: f64) -> Self {
        self.cut_area_ratio = (lo, hi);
        self
    }
    /// Sets the range of the window's aspect ratio (height / width).
    pub fn with_cut_aspect_ratio(mut self, lo: f64, hi: f64) -> Self {
        self.cut_aspect_ratio = (lo, hi);
        self
    }
}

/// One GridMix geometry, fully drawn; [`grid_mask`] turns it into a mask.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridParams {
    /// The mixing ratio λ (the holes cover about 1 − λ of the window).
    pub lam: f64,
    /// Holes across the window's width.
    pub n_holes: usize,
    /// Patch height / width.
    pub hole_aspect_ratio: f64,
    /// Window area / image area.
    pub cut_area_ratio: f64,
    /// Window height / width.
    pub cut_aspect_ratio: f64,
    /// Relative window position along h and w, each in [0, 1).
    pub pos: (f64, f64),
}

/// `lo + (hi − lo)·u`: numpy's `uniform`, which (unlike `random_range`) accepts lo == hi.
fn uniform<R: Rng + ?Sized>((lo, hi): (f64, f64), rng: &mut R) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Hole intervals along one axis of a window of `extent`: `[k·patch, k·patch + hole)` clipped.
fn holes(extent: usize, patch: usize, hole: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..extent)
        .step_by(patch.max(1))
        .map(move |s| (s, (s + hole).min(extent)))
}

/// A hole side `int(patch·ratio)` kept in `[1, patch − 1]` so every patch keeps a hole and a margin
/// (0 when the patch is a single position).
fn hole_side(patch: usize, ratio: f64) -> usize {
    ((patch as f64 * ratio) as usize)
        .max(1)
        .min(patch.saturating_sub(1))
}

/// The spatial self-weight mask of one GridMix draw: 0 inside the holes (the partner shows), 1 elsewhere.
///
/// Pure in its inputs so golden tests can feed the reference's own draws. Only ranks 1 and 2.
pub fn grid_mask(shape: &SampleShape, p: &GridParams) -> Result<Vec<f32>> {
    let [_, h, w] = shape.dims;
    let ratio = side_ratio(p.lam, shape.rank);
    // Window extents (cut_h, cut_w); in 1-D the window is a segment on the single row.
    let (cut_h, cut_w) = match shape.rank {
        1 => (1, ((w as f64 * p.cut_area_ratio) as usize).min(w)),
        2 => {
            let area = ((h * w) as f64 * p.cut_area_ratio) as usize;
            let cw = (area as f64 / p.cut_aspect_ratio).sqrt() as usize;
            let ch = (cw as f64 * p.cut_aspect_ratio) as usize;
            (ch.min(h), cw.min(w))
        }
        rank => {
            return Err(Error::UnsupportedRank {
                method: GridmixConfig::NAME,
                rank,
            });
        }
    };
    // Positions are clamped so a caller's out-of-range value cannot move the window off the sample.
    let y0 = ((h - cut_h) as f64 * p.pos.0.clamp(0.0, 1.0)) as usize;
    let x0 = ((w - cut_w) as f64 * p.pos.1.clamp(0.0, 1.0)) as usize;
    let n = p.n_holes.clamp(1, (cut_w / 2).max(1));
    let patch_w = cut_w.div_ceil(n);
    let hole_w = hole_side(patch_w, ratio);
    let (patch_h, hole_h) = if shape.rank == 1 {
        (1, 1)
    } else {
        let ph = ((patch_w as f64 * p.hole_aspect_ratio) as usize).max(1);
        (ph, hole_side(ph, ratio))
    };
    let mut mask = vec![1f32; h * w];
    for (ys, ye) in holes(cut_h, patch_h, hole_h) {
        for y in y0 + ys..y0 + ye {
            let row = &mut mask[y * w..(y + 1) * w];
            for (xs, xe) in holes(cut_w, patch_w, hole_w) {
                row[x0 + xs..x0 + xe].fill(0.0);
            }
        }
    }
    Ok(mask)
}

impl MixMethod for GridmixConfig {
    const NAME: &'static str = "gridmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank == 3 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: 3,
            });
        }
        check_alpha("alpha", self.alpha)?;
        let (lo, hi) = self.n_holes;
        if !(1 <= lo && lo <= hi) {
            return Err(Error::param(
                "gridmix n_holes",
                "1 <= lo <= hi",
                format!("({lo}, {hi})"),
            ));
        }
        let ranges = [
            (
                "gridmix hole_aspect_ratio",
                self.hole_aspect_ratio,
                f64::MAX,
            ),
            ("gridmix cut_area_ratio", self.cut_area_ratio, 1.0),
            ("gridmix cut_aspect_ratio", self.cut_aspect_ratio, f64::MAX),
        ];
        for (name, (lo, hi), max) in ranges {
            if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi && hi <= max) {
                let rule = if max == 1.0 {
                    "0 < lo <= hi <= 1"
                } else {
                    "0 < lo <= hi, finite"
                };
                return Err(Error::param(name, rule, format!("({lo}, {hi})")));
            }
        }
        Ok(())
    }

    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let lam = sample_beta(self.alpha, self.alpha, rng)?;
        let n_holes = rng.random_range(self.n_holes.0..=self.n_holes.1);
        let hole_aspect_ratio = uniform(self.hole_aspect_ratio, rng);
        let cut_area_ratio = uniform(self.cut_area_ratio, rng);
        let cut_aspect_ratio = uniform(self.cut_aspect_ratio, rng);
        let pos = (rng.random::<f64>(), rng.random::<f64>());
        let params = GridParams {
            lam,
            n_holes,
            hole_aspect_ratio,
            cut_area_ratio,
            cut_aspect_ratio,
            pos,
        };
        let mask = grid_mask(ctx.shape, &params)?;
        let kept = crate::weight::mask_mean(&mask);
        Ok(Draw {
            weight: SampleWeight::Mask { mask: mask.into() },
            lam_label: kept as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn params(lam: f64, n: usize, area: f64, aspect: f64, pos: (f64, f64)) -> GridParams {
        GridParams {
            lam,
            n_holes: n,
            hole_aspect_ratio: 1.0,
            cut_area_ratio: area,
            cut_aspect_ratio: aspect,
            pos,
        }
    }

    #[test]
    fn hand_computed_grid_on_8x8() {
        // area 64, aspect 1: 8x8 window at (0, 0); n = 2 -> patches of 4, λ = 0.75 -> holes of int(4·0.5) = 2.
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        let m = grid_mask(&shape, &params(0.75, 2, 1.0, 1.0, (0.3, 0.9))).unwrap();
        for y in 0..8 {
            for x in 0..8 {
                let hole = y % 4 < 2 && x % 4 < 2;
                assert_eq!(m[y * 8 + x], if hole { 0.0 } else { 1.0 }, "({y}, {x})");
            }
        }
    }

    #[test]
    fn window_sits_inside_a_non_square_image() {
        // 6x10, area ratio 0.5 -> 30, aspect 2 -> width int(√15) = 3, height 6; x0 = int(7·0.5) = 3.
        let shape = SampleShape::d2(1, 6, 10).unwrap();
        let m = grid_mask(&shape, &params(0.0, 6, 0.5, 2.0, (0.0, 0.5))).unwrap();
        // n is lowered to max(1, 3/2) = 1: one patch of 3 wide, 3 high; hole min(int(3·1), 2) = 2.
        for y in 0..6 {
            for x in 0..10 {
                let hole = (3..5).contains(&x) && y % 3 < 2;
                assert_eq!(m[y * 10 + x], if hole { 0.0 } else { 1.0 }, "({y}, {x})");
            }
        }
    }

    #[test]
    fn one_d_grid_and_three_d_refused() {
        let shape = SampleShape::d1(1, 20).unwrap();
        // window int(20·0.5) = 10 at int(10·0.25) = 2; n = 2 -> patches of 5, holes int(5·0.7) = 3.
        let m = grid_mask(&shape, &params(0.3, 2, 0.5, 1.0, (0.0, 0.25))).unwrap();
        let zeros: Vec<usize> = (0..20).filter(|&x| m[x] == 0.0).collect();
        assert_eq!(zeros, vec![2, 3, 4, 7, 8, 9]);
        let d3 = SampleShape::d3(1, 4, 4, 4).unwrap();
        assert!(matches!(
            GridmixConfig::default().validate(&d3),
            Err(Error::UnsupportedRank { rank: 3, .. })
        ));
    }

    #[test]
    fn label_weight_is_the_mask_mean_and_partner_share_tracks_lambda() {
        let shape = SampleShape::d2(1, 64, 48).unwrap();
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        let cfg = GridmixConfig::default();
        cfg.validate(&shape).unwrap();
        let mut rng = stream(5, Purpose::Mix, 0, 0);
        let mut partner_share = 0.0;
        for _ in 0..400 {
            let d = cfg.draw(&ctx, &mut rng).unwrap();
            let SampleWeight::Mask { mask } = &d.weight else {
                panic!("gridmix must give a mask")
            };
            assert!(mask.iter().all(|&v| v == 0.0 || v == 1.0));
            let mean = mask.iter().sum::<f32>() / mask.len() as f32;
            assert!((mean - d.lam_label).abs() < 1e-6);
            partner_share += f64::from(1.0 - d.lam_label);
        }
        // E[1 − λ] = 0.5 times the window share E = 0.75, less rounding of holes: well inside (0.2, 0.45).
        let avg = partner_share / 400.0;
        assert!((0.2..0.45).contains(&avg), "{avg}");
    }

    #[test]
    fn out_of_range_inputs_stay_inside_the_sample() {
        let shape = SampleShape::d2(1, 9, 7).unwrap();
        for (pos, lam, area, aspect) in [
            ((1.0, 1.0), 0.5, 1.0, 1.0),
            ((7.0, -3.0), 2.0, 3.0, 0.01),
            ((f64::NAN, 0.5), -1.0, 0.9, 100.0),
        ] {
            let m = grid_mask(&shape, &params(lam, 0, area, aspect, pos)).unwrap();
            assert_eq!(m.len(), 63);
        }
    }

    #[test]
    fn rejects_bad_ranges() {
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        for bad in [
            GridmixConfig::default().with_n_holes(0, 3),
            GridmixConfig::default().with_n_holes(4, 3),
            GridmixConfig::default().with_cut_area_ratio(0.5, 1.5),
            GridmixConfig::default().with_cut_aspect_ratio(0.0, 2.0),
            GridmixConfig::default().with_hole_aspect_ratio(f64::INFINITY, f64::INFINITY),
            GridmixConfig::default().with_alpha(-1.0),
        ] {
            assert!(bad.validate(&shape).is_err(), "{bad:?}");
        }
    }
}
