//! ResizeMix (Qin et al., CVMJ'23, arXiv 2012.11101): the **whole** partner, shrunk by a scale τ, is
//! pasted into a box of the sample; the label weight is the area the sample keeps.
//!
//! τ ~ U(scope) as in the paper; with `alpha: Some(α)`, τ ~ Beta(α, α), redrawn uniformly in the scope
//! when it falls outside (OpenMixup's `use_alpha=True, alpha=α`). One optional field instead of
//! OpenMixup's flag + value means an α can never be set and silently ignored. The box has extents `int(dim·τ)` on every active axis and a
//! centre uniform over the whole sample, clipped as `[c − cut/2, c + cut/2)` (OpenMixup's `rand_bbox_tao`).
//!
//! Axis naming: OpenMixup's `rand_bbox_tao` calls `size(2)` "W" and `size(3)` "H", then slices the box's
//! "y" range (drawn from `size(3)`) into dimension 2. For square images that is harmless; for H ≠ W it
//! draws each axis's extent and centre from the *other* axis and can leave part of the box outside the
//! image. Here every axis takes its extent and centre from its own size, which equals OpenMixup's result
//! whenever H = W.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::boxes::{BoxRule, centred_box, cut_extents, uniform_centre};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::{Interp, Region, SampleWeight};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// ResizeMix hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResizemixConfig {
    /// Range `(lo, hi)` of the scale τ, `0 ≤ lo ≤ hi ≤ 1` (default `(0.1, 0.8)`, the paper's and OpenMixup's).
    pub scope: (f64, f64),
    /// `Some(α)`: draw τ from Beta(α, α) (redrawn in the scope when outside) instead of U(scope);
    /// default `None`, the paper's uniform draw.
    pub alpha: Option<f64>,
    /// How the partner is resized (default `nearest`, OpenMixup's `interpolate_mode`).
    pub interp: Interp,
}

impl Default for ResizemixConfig {
    fn default() -> Self {
        Self {
            scope: (0.1, 0.8),
            alpha: None,
            interp: Interp::Nearest,
        }
    }
}

impl ResizemixConfig {
    /// Sets the τ range.
    pub fn with_scope(mut self, lo: f64, hi: f64) -> Self {
        self.scope = (lo, hi);
        self
    }
    /// Draws τ from Beta(α, α) (redrawn in the scope when outside) instead of uniformly.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = Some(alpha);
        self
    }
    /// Sets the resize interpolation.
    pub fn with_interp(mut self, interp: Interp) -> Self {
        self.interp = interp;
        self
    }

    /// Draws the scale τ.
    fn draw_tau<R: Rng + ?Sized>(&self, rng: &mut R) -> Result<f64> {
        let (lo, hi) = self.scope;
        // numpy's `uniform(lo, hi)` formula; unlike `random_range` it accepts lo == hi.
        let uniform = |rng: &mut R| lo + (hi - lo) * rng.random::<f64>();
        if let Some(alpha) = self.alpha {
            let tau = sample_beta(alpha, alpha, rng)?;
            if tau < lo || tau > hi {
                return Ok(uniform(rng));
            }
            return Ok(tau);
        }
        Ok(uniform(rng))
    }
}

/// OpenMixup's `rand_bbox_tao` fed its τ and centre (with each axis measured on its own size):
/// extents `int(dim·τ)`, box `[c − cut/2, c + cut/2)` clipped to the sample.
pub fn rand_bbox_tao(shape: &SampleShape, tau: f64, centre: [usize; 3]) -> Region {
    centred_box(shape, cut_extents(shape, tau), centre, BoxRule::Torchvision)
}

impl MixMethod for ResizemixConfig {
    const NAME: &'static str = "resizemix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        let (lo, hi) = self.scope;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi && hi <= 1.0) {
            return Err(Error::param(
                "resizemix scope",
                "0 <= lo <= hi <= 1",
                format!("({lo}, {hi})"),
            ));
        }
        if let Some(alpha) = self.alpha {
            check_alpha("alpha", alpha)?;
        }
        Ok(())
    }

    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let shape = ctx.shape;
        let tau = self.draw_tau(rng)?;
        let cut = cut_extents(shape, tau);
        let region = centred_box(
            shape,
            cut,
            uniform_centre(shape, cut, 0.0, rng),
            BoxRule::Torchvision,
        );
        let lam = 1.0 - region.volume() as f64 / shape.spatial_len() as f64;
        Ok(Draw {
            weight: SampleWeight::PasteResized {
                region,
                interp: self.interp,
            },
            lam_label: lam as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn box_uses_each_axis_own_size_and_clips_at_the_border() {
        let shape = SampleShape::d2(3, 32, 24).unwrap();
        // τ = 0.5: cut = (16, 12); centre (30, 2) -> rows [22, 32), cols [0, 8).
        let r = rand_bbox_tao(&shape, 0.5, [0, 30, 2]);
        assert_eq!((r.start, r.end), ([0, 22, 0], [1, 32, 8]));
        let r3 = rand_bbox_tao(&SampleShape::d3(1, 10, 8, 6).unwrap(), 0.5, [5, 4, 3]);
        assert_eq!((r3.start, r3.end), ([3, 2, 2], [7, 6, 4]));
    }

    #[test]
    fn tau_stays_in_scope_and_label_weight_is_the_kept_area() {
        let shape = SampleShape::d2(1, 40, 40).unwrap();
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        for cfg in [
            ResizemixConfig::default(),
            ResizemixConfig::default().with_alpha(0.2),
            ResizemixConfig::default().with_scope(0.5, 0.5),
        ] {
            cfg.validate(&shape).unwrap();
            let mut rng = stream(3, Purpose::Mix, 0, 0);
            for _ in 0..500 {
                let tau = cfg.draw_tau(&mut rng).unwrap();
                assert!((cfg.scope.0..=cfg.scope.1).contains(&tau), "{tau}");
                let d = cfg.draw(&ctx, &mut rng).unwrap();
                let r = d.weight.region().unwrap();
                let want = 1.0 - r.volume() as f32 / 1600.0;
                assert!((d.lam_label - want).abs() < 1e-6);
                // A whole-image side of at most 0.8·40 = 32, so never more than 32 rows or columns.
                assert!(r.extent()[1] <= 32 && r.extent()[2] <= 32);
            }
        }
    }

    #[test]
    fn rejects_bad_scope_and_alpha() {
        let shape = SampleShape::d1(1, 10).unwrap();
        for bad in [
            ResizemixConfig::default().with_scope(0.8, 0.1),
            ResizemixConfig::default().with_scope(-0.1, 0.5),
            ResizemixConfig::default().with_scope(0.1, 1.5),
            ResizemixConfig::default().with_scope(f64::NAN, 0.5),
            ResizemixConfig::default().with_alpha(0.0),
        ] {
            assert!(bad.validate(&shape).is_err(), "{bad:?}");
        }
    }
}
