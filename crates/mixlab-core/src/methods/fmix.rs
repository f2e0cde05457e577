//! FMix (Harris et al., arXiv 2002.12047): a binary (or softened) mask cut from a random low-frequency
//! image, thresholded so that a fraction λ of the positions keep the sample itself.
//!
//! The reference (github.com/ecs-vlc/FMix, `fmix.py`) exists in two published forms, which draw the
//! same Gaussian parameters `param` (layout `[1, *freqs, 2]`, meant as real/imaginary pairs) on the
//! same frequency grid and differ in how they turn them into an image. [`FmixSpectrum`] names both:
//!
//! - `complex` (**default**): the reference's master (e5991dc, 2021) and OpenMixup's `fmix.py`,
//!   `real(irfftn(spectrum[:, 0] + 1j·spectrum[:, 1], shape))`. The index `[:, 0]` runs over the
//!   **first frequency axis**, not the real/imaginary axis the paper means, so the complex array is
//!   frequency row 0 plus i·row 1 and its last axis is the 2-long pair axis: after `irfftn` the image
//!   holds exactly one cycle (bins 0 and 1) across the last spatial axis and a one-sided low-pass
//!   texture along the others — wavy stripes, not the paper's isotropic blobs. mixlab reproduces it
//!   as published because OpenMixup's FMix rows, the comparison this benchmark is built for, were
//!   trained with it. It needs a first spatial extent of at least 2 (the reference fails otherwise).
//! - `real-reshape`: the earlier version pinned by commits 247adc5 / d5e2aef, which the first mixlab
//!   releases matched; it re-reads the flat spectrum as a **real** array `[*shape[:-1], −1]` and hands
//!   it to `irfftn`. Its image is point-symmetric and blob-like, closer to the paper's figures. Details
//!   kept: along the last axis of a 2-D image ⌊W/2⌋+1 bins, or ⌊W/2⌋+2 when W is odd (one negative bin
//!   more); a 3-D volume `[D0, D1, D2]` gets the frequency grid `[D0, D2, k(D1)]`, the halved axis being
//!   the **middle** one, as numpy broadcasting lays it out; for 3-D shapes where the reshape is
//!   illegal (the flat length is not a multiple of D0·D1, e.g. 8×9×10) the reference raises and mixlab
//!   reads rows of ⌊len/(D0·D1)⌋ values instead, the row stride the reshape would have used.
//!
//! Either image is min-max normalised (a constant image, which the reference turns into NaN, becomes 0).
//!
//! Under `real-reshape` the image is point-symmetric, `x[p] = x[−p mod dims]`, and so is the mask up
//! to the one twin pair straddling the threshold. mixlab makes the twins equal to the bit (they differ
//! by round-off in numpy), so which twin is kept follows the tie rule below rather than FFT rounding;
//! the golden test allows exactly these swaps.
//!
//! Binarisation ranks positions by value, descending; ties keep ascending flat index, so of two twins
//! the one with the lower flat index ranks first (numpy's `argsort()[::-1]` leaves tie order
//! unspecified). It partitions instead of sorting: O(N) for a hard mask, plus a sort of the ramp.

use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range, sample_beta};
use crate::error::{Error, Result};
use crate::fft::{fftfreq, irfftn, irfftn_real};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use rustfft::num_complex::Complex64;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// FMix hyper-parameters (defaults as the reference `FMixBase`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FmixConfig {
    /// Beta concentration α for λ (default 1.0).
    pub alpha: f64,
    /// Spectrum decay: amplitude ∝ 1/f^decay_power (default 3.0, finite and ≥ 0).
    pub decay_power: f64,
    /// Width of the soft ramp around the threshold as a fraction of the positions, in [0, 0.5]
    /// (default 0: a binary mask); capped at min(λ, 1 − λ) as in the reference.
    pub max_soft: f64,
    /// λ ~ Beta(α + 1, α) instead of Beta(α, α) (the paper's reformulation; default false).
    pub reformulate: bool,
    /// Label weight = realised mask mean (default true); false uses the drawn λ, as the reference.
    pub correct_lam: bool,
    /// Which published form of the reference builds the low-frequency image (default `complex`).
    pub spectrum: FmixSpectrum,
}

/// How the Gaussian spectrum becomes a low-frequency image (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum FmixSpectrum {
    /// The reference's master and OpenMixup: `real(irfftn(spectrum[:, 0] + 1j·spectrum[:, 1]))`.
    #[default]
    Complex,
    /// The reference at 247adc5 / d5e2aef: the flat spectrum re-read as a real array.
    RealReshape,
}

impl Default for FmixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            decay_power: 3.0,
            max_soft: 0.0,
            reformulate: false,
            correct_lam: true,
            spectrum: FmixSpectrum::Complex,
        }
    }
}

impl FmixConfig {
    /// Sets α.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Sets the spectrum decay power.
    pub fn with_decay_power(mut self, decay_power: f64) -> Self {
        self.decay_power = decay_power;
        self
    }
    /// Sets the soft-ramp width.
    pub fn with_max_soft(mut self, max_soft: f64) -> Self {
        self.max_soft = max_soft;
        self
    }
    /// Turns the Beta(α + 1, α) reformulation on or off.
    pub fn with_reformulate(mut self, on: bool) -> Self {
        self.reformulate = on;
        self
    }
    /// Turns λ correction on or off.
    pub fn with_correct_lam(mut self, on: bool) -> Self {
        self.correct_lam = on;
        self
    }
    /// Chooses the published form of the reference.
    pub fn with_spectrum(mut self, spectrum: FmixSpectrum) -> Self {
        self.spectrum = spectrum;
        self
    }
}

/// Number of frequency bins along the halved axis of extent `w` (the reference's odd-size quirk
/// keeps one extra, negative bin; numpy slicing stops at `w` for tiny sizes).
fn halved_bins(w: usize) -> usize {
    if w % 2 == 1 {
        (w / 2 + 2).min(w)
    } else {
        w / 2 + 1
    }
}

/// Shape of the reference's frequency grid (`fftfreqnd(*spatial).shape`).
pub fn freq_extents(spatial: &[usize]) -> Result<Vec<usize>> {
    match *spatial {
        [l] => Ok(vec![l]),
        [h, w] => Ok(vec![h, halved_bins(w)]),
        [d0, d1, d2] => Ok(vec![d0, d2, halved_bins(d1)]),
        _ => Err(Error::UnsupportedRank {
            method: FmixConfig::NAME,
            rank: spatial.len(),
        }),
    }
}

/// Number of Gaussian draws behind one mask: `2 · prod(freq_extents)` (layout `[1, *freqs, 2]`, C order).
pub fn param_len(spatial: &[usize]) -> Result<usize> {
    Ok(2 * freq_extents(spatial)?.iter().product::<usize>())
}

/// The reference's frequency magnitudes in C order over [`freq_extents`].
fn freq_magnitudes(spatial: &[usize]) -> Result<Vec<f64>> {
    // Summation order mirrors numpy's broadcast expression `fx*fx + fy*fy + fz*fz`.
    Ok(match *spatial {
        [l] => fftfreq(l).into_iter().map(|f| (f * f).sqrt()).collect(),
        [h, w] => {
            let (fy, fx) = (fftfreq(h), fftfreq(w));
            let kx = halved_bins(w);
            fy.iter()
                .flat_map(|y| fx[..kx].iter().map(move |x| (x * x + y * y).sqrt()))
                .collect()
        }
        [d0, d1, d2] => {
            let (fy, fx, fz) = (fftfreq(d0), fftfreq(d1), fftfreq(d2));
            let kx = halved_bins(d1);
            let mut out = Vec::with_capacity(d0 * d2 * kx);
            for y in &fy {
                for z in &fz {
                    out.extend(fx[..kx].iter().map(|x| (x * x + y * y + z * z).sqrt()));
                }
            }
            out
        }
        _ => {
            return Err(Error::UnsupportedRank {
                method: FmixConfig::NAME,
                rank: spatial.len(),
            });
        }
    })
}

/// The reference's `make_low_freq_image` for a given Gaussian `param` (length [`param_len`]) in the
/// form `kind`: a min-max normalised image of `prod(spatial)` values in [0, 1], C order.
pub fn low_freq_image(
    kind: FmixSpectrum,
    spatial: &[usize],
    decay_power: f64,
    param: &[f64],
) -> Result<Vec<f64>> {
    let freqs = freq_magnitudes(spatial)?;
    if param.len() != 2 * freqs.len() {
        return Err(Error::SizeMismatch {
            what: "fmix param",
            expected: 2 * freqs.len(),
            got: param.len(),
        });
    }
    if let Some(bad) = param.iter().find(|v| !v.is_finite()) {
        return Err(Error::param("fmix param", "finite", bad));
    }
    let floor = 1.0 / spatial.iter().copied().max().unwrap_or(1) as f64;
    let spectrum: Vec<f64> = param
        .chunks_exact(2)
        .zip(&freqs)
        .flat_map(|(p, &f)| {
            let scale = 1.0 / f.max(floor).powf(decay_power);
            [scale * p[0], scale * p[1]]
        })
        .collect();
    let mut image = match kind {
        FmixSpectrum::Complex => complex_image(spatial, &spectrum)?,
        FmixSpectrum::RealReshape => {
            let rank = spatial.len();
            let lead: usize = spatial[..rank - 1].iter().product();
            let row = spectrum.len() / lead;
            let mut in_dims = spatial.to_vec();
            in_dims[rank - 1] = row;
            let mut image = irfftn_real(&spectrum[..lead * row], &in_dims, spatial)?;
            symmetrise(&mut image, spatial);
            image
        }
    };
    let min = image.iter().copied().fold(f64::INFINITY, f64::min);
    image.iter_mut().for_each(|v| *v -= min);
    let max = image.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !(min.is_finite() && max.is_finite()) {
        return Err(Error::param(
            "decay_power",
            "small enough that the spectrum stays finite",
            decay_power,
        ));
    }
    if max > 0.0 {
        image.iter_mut().for_each(|v| *v /= max);
    }
    Ok(image)
}

/// Master's image: frequency row 0 + i·row 1 of the scaled spectrum `[F0, F1, …, 2]`, an array with
/// extents `[F1, …, 2]`, through `irfftn` to the spatial extents.
fn complex_image(spatial: &[usize], spectrum: &[f64]) -> Result<Vec<f64>> {
    let grid = freq_extents(spatial)?;
    if grid[0] < 2 {
        return Err(first_extent_error(spatial));
    }
    let row = spectrum.len() / grid[0];
    let complex: Vec<Complex64> = spectrum[..row]
        .iter()
        .zip(&spectrum[row..2 * row])
        .map(|(&re, &im)| Complex64::new(re, im))
        .collect();
    let mut dims = grid[1..].to_vec();
    dims.push(2);
    irfftn(&complex, &dims, spatial)
}

fn first_extent_error(spatial: &[usize]) -> Error {
    Error::param(
        "fmix spectrum = complex",
        "a first spatial extent of at least 2 (the reference reads two frequency rows; \
         use spectrum = \"real-reshape\" for thinner samples)",
        spatial[0],
    )
}

/// Flat index of the point reflection `p → (−p) mod dims` of every position, C order.
pub fn reflected_index(spatial: &[usize]) -> Vec<usize> {
    let n: usize = spatial.iter().product();
    let Some((&last, lead)) = spatial.split_last() else {
        return vec![];
    };
    let mut out = Vec::with_capacity(n);
    for row in 0..n / last.max(1) {
        // Reflect the row's leading coordinates once; the last axis is a cheap inner loop.
        let (mut rest, mut mirrored, mut stride) = (row, 0, last);
        for &d in lead.iter().rev() {
            mirrored += (d - rest % d) % d * stride;
            rest /= d;
            stride *= d;
        }
        out.extend((0..last).map(|k| mirrored + (last - k) % last));
    }
    out
}

/// The `real-reshape` reference feeds a real spectrum to `irfftn`, so its image is even, `x[p] = x[−p mod dims]`, in
/// exact arithmetic; FFT round-off alone decides which twin ranks first. Averaging the twins makes
/// them tie exactly, so the documented tie rule of [`binarise_mask`] decides instead.
fn symmetrise(image: &mut [f64], spatial: &[usize]) {
    for (p, q) in reflected_index(spatial).into_iter().enumerate() {
        if q > p {
            let v = 0.5 * (image[p] + image[q]);
            image[p] = v;
            image[q] = v;
        }
    }
}

/// The reference's `binarise_mask`: the `num` highest positions get 1, the rest 0, with
/// `num = ⌈λN⌉` (`take_ceil`) or `⌊λN⌋`; with a soft width s = ⌊N·min(max_soft, λ, 1 − λ)⌋ (the cap
/// applies only when max_soft exceeds λ or 1 − λ) the ranks `num − s .. num + s` get `linspace(1, 0, 2s)`.
///
/// Where the reference would fail or index out of range (λ outside [0, 1], or a ramp running past
/// the last rank) ranks are clipped to `0..N` and the ramp keeps its values where it is cut.
pub fn binarise_mask(image: &[f64], lam: f64, take_ceil: bool, max_soft: f64) -> Vec<f64> {
    let n = image.len();
    let target = lam * n as f64;
    let num = if take_ceil {
        target.ceil()
    } else {
        target.floor()
    } as i64;
    let eff_soft = if max_soft > lam || max_soft > 1.0 - lam {
        lam.min(1.0 - lam)
    } else {
        max_soft
    };
    let soft = (n as f64 * eff_soft) as i64;
    let (low, high) = (num - soft, num + soft);
    let clip = |r: i64| r.clamp(0, n as i64) as usize;
    let (lo, hi) = (clip(low), clip(high).max(clip(low)));
    debug_assert!(lo <= hi);
    // Only the rank boundaries matter, so partition (O(N)) instead of sorting; the order is total
    // (value descending, then index ascending), so the partition equals that of a full sort.
    let desc = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let mut keyed: Vec<(f64, usize)> = image.iter().copied().zip(0..).collect();
    if lo > 0 && lo < n {
        keyed.select_nth_unstable_by(lo, desc);
    }
    let mut mask = vec![0.0f64; n];
    for &(_, pos) in &keyed[..lo] {
        mask[pos] = 1.0;
    }
    if hi > lo {
        let rest = &mut keyed[lo..];
        if hi - lo < rest.len() {
            rest.select_nth_unstable_by(hi - lo, desc);
        }
        let ramp = &mut rest[..hi - lo];
        ramp.sort_unstable_by(desc);
        let ramp_len = high - low;
        let step = -1.0 / (ramp_len - 1).max(1) as f64;
        for (k, &(_, pos)) in ramp.iter().enumerate() {
            let r = (lo + k) as i64 - low;
            // numpy's linspace pins its endpoint exactly.
            mask[pos] = if r == ramp_len - 1 && ramp_len > 1 {
                0.0
            } else {
                r as f64 * step + 1.0
            };
        }
    }
    mask
}

impl MixMethod for FmixConfig {
    const NAME: &'static str = "fmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        if !(self.decay_power.is_finite() && self.decay_power >= 0.0) {
            return Err(Error::param(
                "decay_power",
                "a finite number >= 0",
                self.decay_power,
            ));
        }
        check_range("max_soft", self.max_soft, 0.0, 0.5, "in [0, 0.5]")?;
        let spatial = shape.spatial();
        freq_extents(spatial)?;
        if self.spectrum == FmixSpectrum::Complex && spatial[0] < 2 {
            return Err(first_extent_error(spatial));
        }
        Ok(())
    }

    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let spatial = ctx.shape.spatial();
        let b = if self.reformulate {
            self.alpha + 1.0
        } else {
            self.alpha
        };
        // Draw order as the reference: λ, the spectrum, then the ceil/floor coin.
        let lam = sample_beta(b, self.alpha, rng)?;
        let param: Vec<f64> = (0..param_len(spatial)?)
            .map(|_| rng.sample(StandardNormal))
            .collect();
        let image = low_freq_image(self.spectrum, spatial, self.decay_power, &param)?;
        let take_ceil = rng.random::<f64>() > 0.5;
        let mask: Arc<[f32]> = binarise_mask(&image, lam, take_ceil, self.max_soft)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let lam_label = if self.correct_lam {
            crate::weight::mask_mean(&mask)
        } else {
            lam
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
    use crate::rng::{Purpose, stream};

    use crate::methods::test_util::{draw, mask_of};

    #[test]
    fn frequency_grids_follow_the_reference_layout() {
        assert_eq!(freq_extents(&[100]).unwrap(), vec![100]);
        assert_eq!(freq_extents(&[32, 32]).unwrap(), vec![32, 17]);
        assert_eq!(freq_extents(&[31, 17]).unwrap(), vec![31, 10]);
        assert_eq!(freq_extents(&[4, 1]).unwrap(), vec![4, 1]);
        assert_eq!(freq_extents(&[8, 9, 10]).unwrap(), vec![8, 10, 6]);
        assert_eq!(param_len(&[6, 6, 6]).unwrap(), 2 * 6 * 6 * 4);
        assert!(freq_extents(&[1, 2, 3, 4]).is_err());
    }

    #[test]
    fn validation_rejects_bad_parameters() {
        let s = SampleShape::d2(3, 8, 8).unwrap();
        for bad in [
            FmixConfig::default().with_alpha(0.0),
            FmixConfig::default().with_alpha(-1.0),
            FmixConfig::default().with_alpha(f64::NAN),
            FmixConfig::default().with_decay_power(-0.5),
            FmixConfig::default().with_decay_power(f64::INFINITY),
            FmixConfig::default().with_max_soft(0.6),
            FmixConfig::default().with_max_soft(-0.1),
            FmixConfig::default().with_max_soft(f64::NAN),
        ] {
            assert!(
                matches!(bad.validate(&s), Err(Error::InvalidParam { .. })),
                "{bad:?}"
            );
        }
        FmixConfig::default().validate(&s).unwrap();
        let msg = FmixConfig::default()
            .with_max_soft(0.7)
            .validate(&s)
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "max_soft must be in [0, 0.5], got 0.7");
    }

    #[test]
    fn hard_masks_hold_ceil_or_floor_of_lambda_n_positions() {
        let img: Vec<f64> = (0..10).map(|i| f64::from(i * 7 % 10)).collect();
        let up = binarise_mask(&img, 0.33, true, 0.0);
        let down = binarise_mask(&img, 0.33, false, 0.0);
        assert_eq!(up.iter().sum::<f64>(), 4.0);
        assert_eq!(down.iter().sum::<f64>(), 3.0);
        // The kept positions are the largest values: 9, 8, 7 (and 6 for the ceiling).
        for (i, &v) in img.iter().enumerate() {
            assert_eq!(down[i], if v >= 7.0 { 1.0 } else { 0.0 });
            assert_eq!(up[i], if v >= 6.0 { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn soft_ramp_is_linspace_and_capped_by_lambda() {
        let img: Vec<f64> = (0..20).map(|i| f64::from(19 - i)).collect();
        // λ = 0.5, max_soft 0.1 → num = 10, s = 2: ranks 8..12 get 1, 2/3, 1/3, 0.
        let m = binarise_mask(&img, 0.5, true, 0.1);
        assert_eq!(&m[..8], &[1.0; 8]);
        assert_eq!(m[8], 1.0);
        assert!((m[9] - 2.0 / 3.0).abs() < 1e-15 && (m[10] - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(&m[11..], &[0.0; 9]);
        // λ = 0.1 < max_soft = 0.3: the width is capped to λ, so s = 2 and the ramp starts at rank 0.
        let c = binarise_mask(&img, 0.1, false, 0.3);
        assert_eq!(c[0], 1.0);
        assert_eq!(&c[4..], &[0.0; 16]);
    }

    #[test]
    fn partitioning_equals_a_full_descending_sort_even_with_many_ties() {
        let mut rng = stream(5, Purpose::Mix, 0, 0);
        for trial in 0..300 {
            let n = rng.random_range(1..200usize);
            // Five levels only: most values tie.
            let img: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.random_range(0..5u8)))
                .collect();
            let lam = rng.random::<f64>();
            let soft = [0.0, 0.1, 0.3, 0.5][trial % 4];
            let ceil = trial % 3 == 0;
            let got = binarise_mask(&img, lam, ceil, soft);
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| img[b].total_cmp(&img[a]).then(a.cmp(&b)));
            let num = if ceil {
                (lam * n as f64).ceil()
            } else {
                (lam * n as f64).floor()
            } as i64;
            let eff = if soft > lam || soft > 1.0 - lam {
                lam.min(1.0 - lam)
            } else {
                soft
            };
            let s = (n as f64 * eff) as i64;
            let (low, high) = (num - s, num + s);
            let mut want = vec![0.0; n];
            for (r, &p) in order.iter().enumerate() {
                let r = r as i64;
                want[p] = if r < low {
                    1.0
                } else if r >= high - 1 {
                    // Past the ramp, or its last point, which numpy's linspace pins to 0.
                    0.0
                } else {
                    (r - low) as f64 * (-1.0 / (high - low - 1) as f64) + 1.0
                };
            }
            assert_eq!(got, want, "n {n} lam {lam} soft {soft}");
        }
    }

    #[test]
    fn out_of_range_lambdas_clip_instead_of_failing() {
        // The reference raises on these (a negative linspace length); the pure function clips.
        let img: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(binarise_mask(&img, 1.2, true, 0.3), vec![1.0; 10]);
        assert_eq!(binarise_mask(&img, -0.3, false, 0.3), vec![0.0; 10]);
        assert_eq!(binarise_mask(&img, 1.0, true, 0.5), vec![1.0; 10]);
        assert_eq!(binarise_mask(&img, 0.0, true, 0.5), vec![0.0; 10]);
    }

    #[test]
    fn images_are_exactly_point_symmetric_in_every_rank() {
        for spatial in [
            vec![65],
            vec![28, 20],
            vec![31, 17],
            vec![8, 9, 10],
            vec![5, 4, 6],
        ] {
            let mut rng = stream(1, Purpose::Mix, 0, 0);
            let param: Vec<f64> = (0..param_len(&spatial).unwrap())
                .map(|_| rng.sample(StandardNormal))
                .collect();
            let img = low_freq_image(FmixSpectrum::RealReshape, &spatial, 3.0, &param).unwrap();
            let twin = reflected_index(&spatial);
            assert!(img.iter().enumerate().all(|(p, v)| *v == img[twin[p]]));
            let (lo, hi) = img
                .iter()
                .fold((1.0f64, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
            assert_eq!((lo, hi), (0.0, 1.0));
        }
        assert_eq!(reflected_index(&[2, 3]), vec![0, 2, 1, 3, 5, 4]);
    }

    #[test]
    fn constant_images_normalise_to_zero_not_nan() {
        let real = FmixSpectrum::RealReshape;
        let img = low_freq_image(real, &[1], 3.0, &[0.3, -1.2]).unwrap();
        assert_eq!(img, vec![0.0]);
        let img = low_freq_image(real, &[1, 1, 1], 3.0, &[0.3, -1.2]).unwrap();
        assert_eq!(img, vec![0.0]);
        assert!(low_freq_image(real, &[4], 3.0, &[0.0; 3]).is_err());
        // The complex form reads two frequency rows, so it needs a first extent of 2 or more.
        let thin = SampleShape::d2(1, 1, 8).unwrap();
        let err = FmixConfig::default()
            .validate(&thin)
            .unwrap_err()
            .to_string();
        assert!(err.contains("real-reshape"), "{err}");
        FmixConfig::default()
            .with_spectrum(real)
            .validate(&thin)
            .unwrap();
        assert!(low_freq_image(FmixSpectrum::Complex, &[1, 8], 3.0, &[0.0; 10]).is_err());
    }

    #[test]
    fn complex_images_hold_one_cycle_across_the_last_axis() {
        // Master's complex array has a 2-long last axis, so every line along the last spatial axis
        // is a + b·cos(2πn/W + φ): its DFT has energy only in bins 0 and ±1.
        for spatial in [vec![65], vec![28, 20], vec![31, 17], vec![6, 7, 9]] {
            let mut rng = stream(2, Purpose::Mix, 0, 0);
            let param: Vec<f64> = (0..param_len(&spatial).unwrap())
                .map(|_| rng.sample(StandardNormal))
                .collect();
            let img = low_freq_image(FmixSpectrum::Complex, &spatial, 3.0, &param).unwrap();
            let w = *spatial.last().unwrap();
            let tau = 2.0 * std::f64::consts::PI;
            let mut first_bin = 0.0f64;
            for line in img.chunks_exact(w) {
                for k in 0..w {
                    let (re, im) = line
                        .iter()
                        .enumerate()
                        .fold((0.0, 0.0), |(re, im), (n, v)| {
                            let ang = tau * (k * n) as f64 / w as f64;
                            (re + v * ang.cos(), im - v * ang.sin())
                        });
                    let mag = (re * re + im * im).sqrt();
                    if k == 1 {
                        first_bin = first_bin.max(mag);
                    } else if k != 0 && k != w - 1 {
                        assert!(mag < 1e-9, "{spatial:?}: bin {k} has {mag}");
                    }
                }
            }
            assert!(first_bin > 1e-3, "{spatial:?}: no first harmonic");
            let (lo, hi) = img
                .iter()
                .fold((1.0f64, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
            assert_eq!((lo, hi), (0.0, 1.0));
        }
    }

    #[test]
    fn draws_are_deterministic_and_every_rank_works() {
        for cfg in [
            FmixConfig::default(),
            FmixConfig::default().with_spectrum(FmixSpectrum::RealReshape),
        ] {
            for shape in [
                SampleShape::d1(2, 65).unwrap(),
                SampleShape::d2(3, 28, 20).unwrap(),
                SampleShape::d2(1, 31, 17).unwrap(),
                SampleShape::d3(1, 8, 9, 10).unwrap(),
                SampleShape::d3(1, 6, 6, 6).unwrap(),
            ] {
                cfg.validate(&shape).unwrap();
                let a = draw(&cfg, &shape, 3);
                let b = draw(&cfg, &shape, 3);
                let c = draw(&cfg, &shape, 4);
                assert_eq!(a, b);
                assert_eq!(mask_of(&a), mask_of(&b));
                assert_ne!(mask_of(&a), mask_of(&c));
                assert_eq!(mask_of(&a).len(), shape.spatial_len());
            }
        }
    }

    #[test]
    fn label_weight_is_the_realised_mask_mean_over_many_seeds() {
        for (shape, soft) in [
            (SampleShape::d1(1, 37).unwrap(), 0.0),
            (SampleShape::d2(1, 12, 9).unwrap(), 0.0),
            (SampleShape::d2(1, 12, 9).unwrap(), 0.2),
            (SampleShape::d3(1, 5, 4, 7).unwrap(), 0.0),
            (SampleShape::d3(1, 5, 4, 7).unwrap(), 0.5),
        ] {
            let n = shape.spatial_len() as f64;
            let cfg = FmixConfig::default().with_max_soft(soft);
            let (mut ceil_seen, mut floor_seen) = (false, false);
            for seed in 0..1000 {
                let d = draw(&cfg, &shape, seed);
                let frac = d.weight.self_fraction(&shape);
                let lam = f64::from(d.lam_label);
                assert!((0.0..=1.0).contains(&lam));
                assert!((lam - frac).abs() <= 1.0 / n, "{shape} seed {seed}");
                if soft == 0.0 {
                    assert!(mask_of(&d).iter().all(|&v| v == 0.0 || v == 1.0));
                    // Rebuild λ from the same stream to check the count is ⌈λN⌉ or ⌊λN⌋.
                    let lam_drawn =
                        sample_beta(1.0, 1.0, &mut stream(seed, Purpose::Mix, 0, 0)).unwrap();
                    let kept = (frac * n).round();
                    let (c, f) = ((lam_drawn * n).ceil(), (lam_drawn * n).floor());
                    assert!(kept == c || kept == f, "{kept} vs {f}..{c}");
                    ceil_seen |= kept == c && c != f;
                    floor_seen |= kept == f && c != f;
                }
            }
            if soft == 0.0 {
                assert!(ceil_seen && floor_seen, "{shape}");
            }
        }
    }

    #[test]
    fn uncorrected_label_weight_is_lambda_and_reformulation_shifts_it_up() {
        let shape = SampleShape::d2(1, 16, 16).unwrap();
        let plain = FmixConfig::default().with_correct_lam(false);
        let reform = plain.clone().with_reformulate(true);
        let mean = |cfg: &FmixConfig| {
            (0..400)
                .map(|s| f64::from(draw(cfg, &shape, s).lam_label))
                .sum::<f64>()
                / 400.0
        };
        let lam0 = sample_beta(1.0, 1.0, &mut stream(9, Purpose::Mix, 0, 0)).unwrap();
        assert_eq!(draw(&plain, &shape, 9).lam_label, lam0 as f32);
        // E[Beta(1,1)] = 1/2, E[Beta(2,1)] = 2/3.
        assert!((mean(&plain) - 0.5).abs() < 0.05);
        assert!((mean(&reform) - 2.0 / 3.0).abs() < 0.05);
    }
}
