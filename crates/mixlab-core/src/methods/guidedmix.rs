//! GuidedMixup (Kang & Kim, AAAI'23): pair images whose salient regions overlap least, then mix them
//! pixel by pixel with weight `s_a / (s_a + s_b)`; the label weight is that mask's mean.
//!
//! Follows the official code (github.com/3neutronstar/GuidedMixup @ 73494e18):
//! - **saliency** — `sr`: the repository's `SpectralResidual` (`spectral_residual.py`): torchvision's
//!   grey level (0.2989 R + 0.587 G + 0.114 B; a single channel is taken as is), `F = fft2(grey)`,
//!   `|F| = sqrt(re² + im² + 1e-10)`, residual `exp(ln|F| − box₃(ln|F|))` with a 3×3 mean filter of
//!   replicate padding over the unshifted spectrum, the phase kept, `|ifft2|`, then a Gaussian blur
//!   (7, σ 3). `ap`: the input-gradient saliency `sqrt(mean_c (∂L/∂x)²)` (the Burn side computes it).
//! - `mixup_process`'s guided branch: one more Gaussian blur (7, σ 3) — for `sr` maps this is the
//!   second, as in the official CIFAR script — then each map is scaled to sum 1.
//! - **pairing** — `greedy` (default): `onecycle_cover` (`pairing.pyx`) on the L2 distances between the
//!   maps: from the farthest pair, repeatedly go to the farthest partner not yet left, then close the
//!   cycle; every image gets one partner and the pairs form a single cycle. `random`: a permutation.
//!   The official CIFAR `mixup.py` asks `pairing()` for `condition='greedy_c'`, which `pairing()` does
//!   not know, so as published it silently pairs at random; the FGVC implementation
//!   (`pairing_with_distance_mat`) pairs greedily. mixlab does what both mean: the greedy cycle.
//! - `M = s_a / (s_a + s_b)`, `x̃ = M·x_a + (1 − M)·x_b` on every channel, `λ = mean(M)`, labels
//!   `λ·y_a + (1 − λ)·y_b`.
//!
//! Differences, all where the reference fails: where `s_a + s_b = 0` (an input-gradient map that is zero
//! on both images) the reference divides by zero and mixlab takes `M = 0.5`; images larger than 128 px,
//! which the reference's SR resizes to 128 and back, are treated at full size.
//!
//! Distances and the greedy walk run in `f32` as the reference's (`cdef float` matrix); the saliency in
//! `f64` (the reference's is `float32`): maps and mixed pixels agree to 1e-6 of their largest value.

use super::{Draw, DrawCtx, MixMethod, check_range};
use crate::error::{Error, Result};
use crate::fft::{fftn, ifftn};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use rand::seq::SliceRandom;
use rustfft::num_complex::Complex64;
use serde::{Deserialize, Serialize};

/// Where the saliency comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuidedSaliency {
    /// The spectral residual of the image (no model; the official CIFAR default `guided_type='sr'`).
    #[default]
    Sr,
    /// Input gradients of the class loss (`guided_type='ap'`; one more forward and backward).
    Ap,
}

/// How partners are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuidedPairing {
    /// The greedy one-cycle cover of the saliency distances (the paper's pairing).
    #[default]
    Greedy,
    /// A uniform permutation (the official `condition='random'`).
    Random,
}

/// GuidedMixup hyper-parameters (defaults as the official code; the CIFAR README mixes with
/// probability 0.5 for `sr` and 0.8 for `ap`, the mixer's `prob`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuidedmixConfig {
    /// Saliency source (default `sr`).
    pub saliency: GuidedSaliency,
    /// Partner choice (default `greedy`).
    pub pairing: GuidedPairing,
    /// Gaussian blur kernel side, odd (default 7).
    pub blur_size: usize,
    /// Gaussian blur σ (default 3).
    pub blur_sigma: f64,
}

impl Default for GuidedmixConfig {
    fn default() -> Self {
        Self {
            saliency: GuidedSaliency::Sr,
            pairing: GuidedPairing::Greedy,
            blur_size: 7,
            blur_sigma: 3.0,
        }
    }
}

/// One GuidedMixup batch: the mixed inputs, each sample's partner and its own label weight.
#[derive(Clone, Debug, PartialEq)]
pub struct GuidedBatch {
    /// The mixed inputs, n × C × H × W like the input.
    pub mixed: Vec<f32>,
    /// Each sample's partner index, chosen by the configured pairing.
    pub partner: Vec<usize>,
    /// Per sample, the mean of its pixel-wise saliency ratio mask: the weight of its own label.
    pub lam_label: Vec<f32>,
}

impl GuidedmixConfig {
    /// The official `SpectralResidual.transform_spectral_residual` of each image (blurred once), as
    /// `n` maps of `h·w` values.
    pub fn sr_saliency(&self, images: &[f32], shape: &SampleShape) -> Result<Vec<f64>> {
        let (c, h, w) = image_dims(shape)?;
        let per = c * h * w;
        check_batch(images.len(), per)?;
        let mut out = Vec::with_capacity(images.len() / per * h * w);
        for img in images.chunks_exact(per) {
            let grey = grey_level(img, c, h * w);
            let map = spectral_residual(&grey, h, w)?;
            out.extend(gaussian_blur(&map, h, w, self.blur_size, self.blur_sigma));
        }
        Ok(out)
    }

    /// Mixes a batch given each image's raw saliency map (`n · h · w` values: [`Self::sr_saliency`] or
    /// the input-gradient maps). The random pairing draws from `rng`; the greedy one draws nothing.
    pub fn mix<R: Rng + ?Sized>(
        &self,
        images: &[f32],
        shape: &SampleShape,
        saliency: &[f64],
        rng: &mut R,
    ) -> Result<GuidedBatch> {
        let (c, h, w) = image_dims(shape)?;
        let (per, hw) = (c * h * w, h * w);
        check_batch(images.len(), per)?;
        let n = images.len() / per;
        if saliency.len() != n * hw {
            return Err(Error::SizeMismatch {
                what: "guidedmix saliency",
                expected: n * hw,
                got: saliency.len(),
            });
        }
        if let Some(bad) = saliency.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(Error::param("guidedmix saliency", "finite and >= 0", bad));
        }
        let mut maps = Vec::with_capacity(n * hw);
        for s in saliency.chunks_exact(hw) {
            let mut b = gaussian_blur(s, h, w, self.blur_size, self.blur_sigma);
            let total: f64 = b.iter().sum();
            if total > 0.0 {
                b.iter_mut().for_each(|v| *v /= total);
            }
            maps.extend(b);
        }
        let partner = match self.pairing {
            GuidedPairing::Greedy => one_cycle_cover(&l2_distances(&maps, n, hw)?, n),
            GuidedPairing::Random => {
                let mut p: Vec<usize> = (0..n).collect();
                p.shuffle(rng);
                p
            }
        };
        let mut mixed = vec![0.0f32; images.len()];
        let mut lam_label = Vec::with_capacity(n);
        for (i, &j) in partner.iter().enumerate() {
            let (sa, sb) = (&maps[i * hw..(i + 1) * hw], &maps[j * hw..(j + 1) * hw]);
            let m: Vec<f64> = sa
                .iter()
                .zip(sb)
                .map(|(&a, &b)| if a + b > 0.0 { a / (a + b) } else { 0.5 })
                .collect();
            lam_label.push((m.iter().sum::<f64>() / hw as f64) as f32);
            let (xa, xb) = (
                &images[i * per..(i + 1) * per],
                &images[j * per..(j + 1) * per],
            );
            let out = &mut mixed[i * per..(i + 1) * per];
            for ch in 0..c {
                let r = ch * hw..(ch + 1) * hw;
                for (((o, &a), &b), &mk) in out[r.clone()]
                    .iter_mut()
                    .zip(&xa[r.clone()])
                    .zip(&xb[r])
                    .zip(&m)
                {
                    *o = (mk * f64::from(a) + (1.0 - mk) * f64::from(b)) as f32;
                }
            }
        }
        Ok(GuidedBatch {
            mixed,
            partner,
            lam_label,
        })
    }
}

fn image_dims(shape: &SampleShape) -> Result<(usize, usize, usize)> {
    if shape.rank != 2 {
        return Err(Error::UnsupportedRank {
            method: GuidedmixConfig::NAME,
            rank: shape.rank,
        });
    }
    Ok((shape.channels, shape.dims[1], shape.dims[2]))
}

fn check_batch(len: usize, per: usize) -> Result<()> {
    if per == 0 || !len.is_multiple_of(per) {
        return Err(Error::SizeMismatch {
            what: "guidedmix batch",
            expected: per,
            got: len,
        });
    }
    Ok(())
}

/// torchvision's `rgb_to_grayscale` for three channels; one channel as is; otherwise the channel mean.
fn grey_level(img: &[f32], c: usize, hw: usize) -> Vec<f64> {
    let ch = |k: usize| &img[k * hw..(k + 1) * hw];
    match c {
        1 => ch(0).iter().map(|&v| f64::from(v)).collect(),
        3 => (0..hw)
            .map(|p| {
                0.2989 * f64::from(ch(0)[p])
                    + 0.587 * f64::from(ch(1)[p])
                    + 0.114 * f64::from(ch(2)[p])
            })
            .collect(),
        _ => (0..hw)
            .map(|p| (0..c).map(|k| f64::from(ch(k)[p])).sum::<f64>() / c as f64)
            .collect(),
    }
}

/// The reference's `transform_saliency_map` + magnitude on one grey image (before its blur).
pub fn spectral_residual(grey: &[f64], h: usize, w: usize) -> Result<Vec<f64>> {
    let mut f: Vec<Complex64> = grey.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    fftn(&mut f, &[h, w])?;
    let mag: Vec<f64> = f
        .iter()
        .map(|z| (z.re * z.re + z.im * z.im + 1e-10).sqrt())
        .collect();
    let log: Vec<f64> = mag.iter().map(|m| m.ln()).collect();
    let at = |y: isize, x: isize| {
        let (y, x) = (y.clamp(0, h as isize - 1), x.clamp(0, w as isize - 1));
        log[y as usize * w + x as usize]
    };
    for y in 0..h {
        for x in 0..w {
            let p = y * w + x;
            let mut box3 = 0.0;
            for dy in -1..=1isize {
                for dx in -1..=1isize {
                    box3 += at(y as isize + dy, x as isize + dx);
                }
            }
            let residual = (log[p] - box3 / 9.0).exp();
            f[p] *= residual / mag[p];
        }
    }
    ifftn(&mut f, &[h, w])?;
    Ok(f.iter().map(|z| z.norm()).collect())
}

/// torchvision's `gaussian_blur`: kernel `exp(−x²/2σ²)` on `linspace(−(k−1)/2, (k−1)/2, k)`, normalised,
/// applied as one 2-D kernel over a reflect-padded map (the padding needs `h, w > k/2`).
pub fn gaussian_blur(map: &[f64], h: usize, w: usize, k: usize, sigma: f64) -> Vec<f64> {
    let half = (k as f64 - 1.0) * 0.5;
    let pdf: Vec<f64> = (0..k)
        .map(|i| {
            let x = -half
                + i as f64
                    * if k > 1 {
                        2.0 * half / (k - 1) as f64
                    } else {
                        0.0
                    };
            (-0.5 * (x / sigma).powi(2)).exp()
        })
        .collect();
    let total: f64 = pdf.iter().sum();
    let kern: Vec<f64> = pdf.iter().map(|v| v / total).collect();
    let r = (k / 2) as isize;
    let reflect = |i: isize, n: usize| -> usize {
        let n = n as isize;
        let i = if i < 0 { -i } else { i };
        (if i >= n { 2 * (n - 1) - i } else { i }) as usize
    };
    let mut out = vec![0.0; h * w];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (a, ka) in kern.iter().enumerate() {
                let yy = reflect(y as isize + a as isize - r, h);
                for (b, kb) in kern.iter().enumerate() {
                    let xx = reflect(x as isize + b as isize - r, w);
                    acc += ka * kb * map[yy * w + xx];
                }
            }
            out[y * w + x] = acc;
        }
    }
    out
}

/// The `n × n` L2 distances between flattened maps, in `f32` like the reference's matrix.
pub fn l2_distances(maps: &[f64], n: usize, len: usize) -> Result<Vec<f32>> {
    if maps.len() != n * len {
        return Err(Error::SizeMismatch {
            what: "guidedmix maps",
            expected: n * len,
            got: maps.len(),
        });
    }
    let mut d = vec![0.0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            let (a, b) = (&maps[i * len..(i + 1) * len], &maps[j * len..(j + 1) * len]);
            d[i * n + j] = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt() as f32;
        }
    }
    Ok(d)
}

/// The official `onecycle_cover`: start at the largest off-diagonal distance (row, col); from each
/// column go on to its farthest partner among those not yet left (first index on ties, as
/// `np.argmax`), and close the cycle back to the first row. `partner[i]` is i's partner.
pub fn one_cycle_cover(dist: &[f32], n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let mut d = dist.to_vec();
    for i in 0..n {
        d[i * n + i] = f32::NEG_INFINITY;
    }
    let argmax = |v: &[f32]| {
        let mut best = 0;
        for (k, &x) in v.iter().enumerate() {
            if x > v[best] {
                best = k;
            }
        }
        best
    };
    let first = argmax(&d);
    let (mut row, mut col) = (first / n, first % n);
    let first_row = row;
    let mut partner = vec![0usize; n];
    partner[row] = col;
    let block = |d: &mut [f32], c: usize| (0..n).for_each(|r| d[r * n + c] = f32::NEG_INFINITY);
    block(&mut d, row);
    for _ in 0..n.saturating_sub(2) {
        row = col;
        col = argmax(&d[row * n..(row + 1) * n]);
        partner[row] = col;
        block(&mut d, row);
    }
    partner[col] = first_row;
    partner
}

impl MixMethod for GuidedmixConfig {
    const NAME: &'static str = "guidedmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        let (_, h, w) = image_dims(shape)?;
        if self.blur_size == 0 || self.blur_size.is_multiple_of(2) {
            return Err(Error::param(
                "blur_size",
                "an odd number >= 1",
                self.blur_size,
            ));
        }
        check_range(
            "blur_sigma",
            self.blur_sigma,
            f64::MIN_POSITIVE,
            f64::MAX,
            "a finite number > 0",
        )?;
        if self.blur_size / 2 >= h.min(w) {
            return Err(Error::UnsupportedLayout {
                method: Self::NAME,
                shape: shape.to_string(),
                why: "its blur pads by reflection, which needs both sides longer than half the kernel",
            });
        }
        Ok(())
    }

    /// Nothing to draw up front: partners and masks come from the batch's saliency in [`Self::mix`].
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Ok(Draw {
            weight: SampleWeight::Blend { lam: 0.5 },
            lam_label: 0.5,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};
    use rand::RngExt;

    fn shape() -> SampleShape {
        SampleShape::d2(2, 8, 6).unwrap()
    }

    fn images(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = stream(seed, Purpose::Mix, 0, 0);
        (0..n * 2 * 48).map(|_| rng.random::<f32>()).collect()
    }

    #[test]
    fn equal_saliencies_mix_half_and_half() {
        let cfg = GuidedmixConfig::default();
        let x = images(3, 1);
        let sal = vec![1.0; 3 * 48];
        let b = cfg
            .mix(&x, &shape(), &sal, &mut stream(0, Purpose::Mix, 0, 0))
            .unwrap();
        for (i, &j) in b.partner.iter().enumerate() {
            assert!((b.lam_label[i] - 0.5).abs() < 1e-6);
            for p in 0..96 {
                let want = 0.5 * (x[i * 96 + p] + x[j * 96 + p]);
                assert!((b.mixed[i * 96 + p] - want).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn greedy_pairs_form_one_cycle_and_labels_follow_the_masks() {
        let cfg = GuidedmixConfig::default();
        for n in [2usize, 3, 7, 16] {
            let x = images(n, n as u64);
            let sal = cfg.sr_saliency(&x, &shape()).unwrap();
            let b = cfg
                .mix(&x, &shape(), &sal, &mut stream(0, Purpose::Mix, 0, 0))
                .unwrap();
            let (mut at, mut steps) = (0, 0);
            loop {
                assert_ne!(b.partner[at], at, "n {n}: a fixed point");
                at = b.partner[at];
                steps += 1;
                if at == 0 {
                    break;
                }
            }
            assert_eq!(steps, n, "n {n}: not one cycle");
            assert!(b.lam_label.iter().all(|l| (0.0..=1.0).contains(l)));
            // Pair masks are complementary: M_ij + M_ji = 1 wherever i and j are each other's partner.
            if n == 2 {
                assert!((b.lam_label[0] + b.lam_label[1] - 1.0).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn the_walk_goes_to_the_farthest_unvisited_image() {
        // Points on a line at 0, 1, 3, 7: farthest pair (0, 3) → from 3 the farthest not yet left is 1
        // (0 is the start) → from 1 only 2 is left → 2 closes the cycle to 0.
        let pos = [0.0f32, 1.0, 3.0, 7.0];
        let d: Vec<f32> = (0..16).map(|k| (pos[k / 4] - pos[k % 4]).abs()).collect();
        assert_eq!(one_cycle_cover(&d, 4), vec![3, 2, 0, 1]);
        assert_eq!(one_cycle_cover(&[0.0], 1), vec![0]);
    }

    #[test]
    fn random_pairing_is_seeded_and_zero_saliency_is_split_evenly() {
        let cfg = GuidedmixConfig {
            pairing: GuidedPairing::Random,
            ..Default::default()
        };
        let x = images(6, 3);
        let sal = vec![0.0; 6 * 48];
        let a = cfg
            .mix(&x, &shape(), &sal, &mut stream(4, Purpose::Mix, 0, 0))
            .unwrap();
        let b = cfg
            .mix(&x, &shape(), &sal, &mut stream(4, Purpose::Mix, 0, 0))
            .unwrap();
        assert_eq!(a, b);
        assert!(a.lam_label.iter().all(|&l| l == 0.5));
    }

    #[test]
    fn bad_inputs_are_refused() {
        let cfg = GuidedmixConfig::default();
        assert!(cfg.validate(&SampleShape::d1(1, 32).unwrap()).is_err());
        assert!(cfg.validate(&SampleShape::d2(1, 3, 32).unwrap()).is_err());
        for bad in [
            GuidedmixConfig {
                blur_size: 6,
                ..Default::default()
            },
            GuidedmixConfig {
                blur_sigma: 0.0,
                ..Default::default()
            },
            GuidedmixConfig {
                blur_sigma: f64::NAN,
                ..Default::default()
            },
        ] {
            assert!(bad.validate(&shape()).is_err(), "{bad:?}");
        }
        cfg.validate(&shape()).unwrap();
        let x = images(2, 0);
        let mut rng = stream(0, Purpose::Mix, 0, 0);
        assert!(cfg.mix(&x, &shape(), &[1.0; 95], &mut rng).is_err());
        assert!(cfg.mix(&x, &shape(), &[f64::NAN; 96], &mut rng).is_err());
        assert!(cfg.mix(&x[..95], &shape(), &[1.0; 96], &mut rng).is_err());
    }
}
