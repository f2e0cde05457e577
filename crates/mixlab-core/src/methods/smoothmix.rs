//! SmoothMix (Lee et al., CVPRW'20): blend in the partner through a Gaussian soft mask.
//!
//! Follows OpenMixup's `smoothmix.py`: the partner's weight is `g(x) = exp(−Σ (x_a − c_a)² / 2σ_a²)`,
//! the sample keeps `1 − g`. Per axis the centre is `c = u − ½` with `u` uniform in `0..dim` (the
//! reference's rolled-and-cropped grid puts the peak half a pixel before the drawn index, so the
//! centres run from −½ to dim − 3/2), and σ is `s · dim` with one factor `s ~ U(0.25, 0.5)` per draw.
//! The reference only runs on square images with an even side (it uses H for both axes and fails in
//! `view` for odd sides); per-axis σ and any extent in 1-D, 2-D and 3-D are mixlab's extension, equal
//! to the reference where it runs. The reference also draws λ ~ Beta(α, α) and then discards it, so
//! there is no α here.
//!
//! Label weight: the reference returns `λ = mean(g)` as the weight of the sample's **own** label,
//! although `g` is the partner's input share. With `correct_lam` (default) mixlab uses the realised
//! own share `mean(1 − g)`; `correct_lam = false` reproduces the reference's λ.

use super::{Draw, DrawCtx, MixMethod};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// SmoothMix hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmoothmixConfig {
    /// Range `[lo, hi)` of the factor s in σ = s · extent (default (0.25, 0.5), as the reference).
    pub sigma_range: (f64, f64),
    /// Label weight = realised own share `mean(1 − g)` (default true); false: the reference's `mean(g)`.
    pub correct_lam: bool,
}

impl Default for SmoothmixConfig {
    fn default() -> Self {
        Self {
            sigma_range: (0.25, 0.5),
            correct_lam: true,
        }
    }
}

impl SmoothmixConfig {
    /// Sets the σ factor range.
    pub fn with_sigma_range(mut self, lo: f64, hi: f64) -> Self {
        self.sigma_range = (lo, hi);
        self
    }
    /// Turns λ correction on or off.
    pub fn with_correct_lam(mut self, on: bool) -> Self {
        self.correct_lam = on;
        self
    }
}

/// The partner's weight `exp(−Σ_a (x_a − centre_a)² / (2 σ_a²))` over `spatial` (C order), computed
/// as a product of per-axis factors so it costs one multiply per position.
pub fn gaussian_weight(spatial: &[usize], centre: &[f64], sigma: &[f64]) -> Result<Vec<f64>> {
    if centre.len() != spatial.len() || sigma.len() != spatial.len() {
        return Err(Error::SizeMismatch {
            what: "gaussian centre / sigma axes",
            expected: spatial.len(),
            got: if centre.len() != spatial.len() {
                centre.len()
            } else {
                sigma.len()
            },
        });
    }
    if let Some(&s) = sigma.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(Error::param("smoothmix sigma", "a finite number > 0", s));
    }
    let mut out = vec![1.0f64];
    for ((&d, &c), &s) in spatial.iter().zip(centre).zip(sigma) {
        let two_var = 2.0 * s * s;
        let axis: Vec<f64> = (0..d)
            .map(|x| {
                let dx = x as f64 - c;
                (-(dx * dx) / two_var).exp()
            })
            .collect();
        out = out
            .iter()
            .flat_map(|&o| axis.iter().map(move |&a| o * a))
            .collect();
    }
    Ok(out)
}

impl MixMethod for SmoothmixConfig {
    const NAME: &'static str = "smoothmix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        let (lo, hi) = self.sigma_range;
        if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi) {
            return Err(Error::param(
                "sigma_range",
                "finite with 0 < lo <= hi",
                format!("({lo}, {hi})"),
            ));
        }
        Ok(())
    }

    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let spatial = ctx.shape.spatial();
        let centre: Vec<f64> = spatial
            .iter()
            .map(|&d| rng.random_range(0..d) as f64 - 0.5)
            .collect();
        let (lo, hi) = self.sigma_range;
        let factor = lo + (hi - lo) * rng.random::<f64>();
        let sigma: Vec<f64> = spatial.iter().map(|&d| factor * d as f64).collect();
        let g = gaussian_weight(spatial, &centre, &sigma)?;
        let mask: Arc<[f32]> = g.iter().map(|&v| (1.0 - v) as f32).collect();
        let n = g.len() as f64;
        let lam_label = if self.correct_lam {
            crate::weight::mask_mean(&mask)
        } else {
            g.iter().sum::<f64>() / n
        };
        Ok(Draw {
            weight: SampleWeight::Mask { mask },
            lam_label: lam_label as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::methods::test_util::{draw, mask_of};

    #[test]
    fn validation_rejects_bad_sigma_ranges() {
        let s = SampleShape::d2(3, 8, 8).unwrap();
        for (lo, hi) in [
            (0.0, 0.5),
            (-0.1, 0.5),
            (0.5, 0.25),
            (f64::NAN, 0.5),
            (0.25, f64::INFINITY),
        ] {
            let cfg = SmoothmixConfig::default().with_sigma_range(lo, hi);
            assert!(
                matches!(cfg.validate(&s), Err(Error::InvalidParam { .. })),
                "{lo} {hi}"
            );
        }
        SmoothmixConfig::default().validate(&s).unwrap();
        SmoothmixConfig::default()
            .with_sigma_range(0.3, 0.3)
            .validate(&s)
            .unwrap();
        assert!(gaussian_weight(&[4], &[1.0], &[0.0]).is_err());
        assert!(gaussian_weight(&[4, 4], &[1.0], &[1.0, 1.0]).is_err());
    }

    #[test]
    fn separable_weight_equals_the_direct_formula_in_3d() {
        let (spatial, c, s) = ([3usize, 4, 5], [0.5, 2.0, -0.5], [1.0, 2.0, 1.5]);
        let g = gaussian_weight(&spatial, &c, &s).unwrap();
        for z in 0..3 {
            for y in 0..4 {
                for x in 0..5 {
                    let d2 = [(z, 0), (y, 1), (x, 2)]
                        .map(|(v, a)| (v as f64 - c[a]).powi(2) / (2.0 * s[a] * s[a]))
                        .iter()
                        .sum::<f64>();
                    assert!((g[(z * 4 + y) * 5 + x] - (-d2).exp()).abs() < 1e-14);
                }
            }
        }
    }

    #[test]
    fn every_rank_is_deterministic_and_label_weight_is_the_own_share() {
        let cfg = SmoothmixConfig::default();
        for shape in [
            SampleShape::d1(2, 50).unwrap(),
            SampleShape::d2(3, 24, 17).unwrap(),
            SampleShape::d2(1, 32, 32).unwrap(),
            SampleShape::d3(1, 5, 6, 7).unwrap(),
        ] {
            cfg.validate(&shape).unwrap();
            assert_eq!(draw(&cfg, &shape, 1), draw(&cfg, &shape, 1));
            assert_ne!(
                mask_of(&draw(&cfg, &shape, 1)),
                mask_of(&draw(&cfg, &shape, 2))
            );
            let n = shape.spatial_len() as f64;
            let (mut lo, mut hi) = (1.0f64, 0.0f64);
            for seed in 0..1000 {
                let d = draw(&cfg, &shape, seed);
                let m = mask_of(&d);
                assert_eq!(m.len(), shape.spatial_len());
                assert!(m.iter().all(|v| (0.0..=1.0).contains(v)));
                let lam = f64::from(d.lam_label);
                assert!((0.0..=1.0).contains(&lam));
                assert!((lam - d.weight.self_fraction(&shape)).abs() <= 1.0 / n);
                lo = lo.min(lam);
                hi = hi.max(lam);
            }
            // A Gaussian of σ ≥ extent/4 always covers a good part of the sample, never all of it.
            assert!(
                lo > 0.05 && hi < 0.99 && hi - lo > 0.1,
                "{shape}: {lo}..{hi}"
            );
        }
    }

    #[test]
    fn uncorrected_label_weight_is_the_reference_partner_share() {
        let shape = SampleShape::d2(1, 16, 16).unwrap();
        let on = draw(&SmoothmixConfig::default(), &shape, 5);
        let off = draw(
            &SmoothmixConfig::default().with_correct_lam(false),
            &shape,
            5,
        );
        assert_eq!(mask_of(&on), mask_of(&off));
        assert!((f64::from(on.lam_label) + f64::from(off.lam_label) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn the_peak_sits_half_a_pixel_before_the_drawn_index() {
        // Centre u − ½ ties pixels u − 1 and u; the own weight is lowest there.
        let g = gaussian_weight(&[10], &[4.5], &[2.5]).unwrap();
        assert_eq!(g[4], g[5]);
        assert!(g[4] > g[3] && g[5] > g[6]);
    }
}
