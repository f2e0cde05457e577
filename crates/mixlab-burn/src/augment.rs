//! Host-side augmentation of a training batch before it is mixed: the CIFAR crop-and-flip for images and
//! gain, shift and noise for waveforms. Each draws per sample from the step's `Augment` stream, so a
//! step's batch is a function of (seed, epoch, step).

use crate::config::{Augment, TrainConfig};
use crate::data::TrainData;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// The training samples `idx` of step `step` of `epoch`, augmented as the run says from that step's
/// `Augment` stream: the host batch every task's step starts from.
pub(crate) fn step_batch(
    cfg: &TrainConfig,
    tr: &TrainData,
    idx: &[usize],
    epoch: usize,
    step: usize,
) -> Vec<f32> {
    let mut xb = tr.rows(idx);
    augment(
        cfg.augment,
        &mut xb,
        &tr.shape,
        tr.zero.as_deref(),
        &mut stream(cfg.seed, Purpose::Augment, epoch as u64, step as u64),
    );
    xb
}

/// Augments `x` (samples of `shape`) in place; `zero` is per channel the value a raw 0 takes after the
/// input scaling (what padding fills with; `None`: 0).
pub(crate) fn augment<R: Rng>(
    kind: Augment,
    x: &mut [f32],
    shape: &SampleShape,
    zero: Option<&[f32]>,
    rng: &mut R,
) {
    let zeros = vec![0.0; shape.channels];
    let zero = zero.unwrap_or(&zeros);
    match kind {
        Augment::None => {}
        Augment::CropFlip => crop_flip(x, shape, zero, rng),
        Augment::Wave => wave(x, shape, zero, rng),
    }
}

/// Largest gain change of the waveform augmentation, in dB either way.
pub const WAVE_GAIN_DB: f32 = 6.0;
/// Largest time shift of the waveform augmentation, as a fraction of the clip, either way.
pub const WAVE_SHIFT: f32 = 0.1;
/// Signal-to-noise range of the waveform augmentation's white noise, in dB.
pub const WAVE_SNR_DB: (f32, f32) = (15.0, 30.0);

/// Per sample: a gain uniform in ±6 dB, a time shift uniform in ±10 % of the clip (filled with the
/// scaled zero, no wrap-around), then white Gaussian noise at an SNR uniform in 15–30 dB of the shifted
/// clip's RMS (none on a silent clip). Every channel of a sample moves together.
fn wave<R: Rng>(x: &mut [f32], shape: &SampleShape, zero: &[f32], rng: &mut R) {
    let len = shape.sample_len();
    let l = len / shape.channels;
    let max_shift = (WAVE_SHIFT * l as f32) as i64;
    let mut src = vec![0f32; len];
    for sample in x.chunks_exact_mut(len) {
        let gain = 10f32.powf(rng.random_range(-WAVE_GAIN_DB..=WAVE_GAIN_DB) / 20.0);
        let by = rng.random_range(-max_shift..=max_shift) as isize;
        let snr = rng.random_range(WAVE_SNR_DB.0..=WAVE_SNR_DB.1);
        src.copy_from_slice(sample);
        for (c, (out, inp)) in sample
            .chunks_exact_mut(l)
            .zip(src.chunks_exact(l))
            .enumerate()
        {
            for (t, o) in out.iter_mut().enumerate() {
                let s = t as isize - by;
                *o = if (0..l as isize).contains(&s) {
                    zero[c] + gain * (inp[s as usize] - zero[c])
                } else {
                    zero[c]
                };
            }
        }
        let power = sample
            .chunks_exact(l)
            .enumerate()
            .flat_map(|(c, ch)| ch.iter().map(move |&v| f64::from(v - zero[c]).powi(2)))
            .sum::<f64>()
            / len as f64;
        let sd = (power.sqrt() * 10f64.powf(-f64::from(snr) / 20.0)) as f32;
        for v in sample.iter_mut() {
            let n: f32 = StandardNormal.sample(rng);
            if sd > 0.0 {
                *v += sd * n;
            }
        }
    }
}

/// Crop padding on each side.
const PAD: usize = 4;

/// Pad 4 with `pad[c]` (a raw black pixel), random crop back to H×W, flip horizontally with p = 0.5; draws
/// (dy, dx, flip) per sample.
fn crop_flip<R: Rng>(x: &mut [f32], shape: &SampleShape, pad: &[f32], rng: &mut R) {
    let len = shape.sample_len();
    let mut src = vec![0f32; len];
    for sample in x.chunks_exact_mut(len) {
        let dy = rng.random_range(0..=2 * PAD);
        let dx = rng.random_range(0..=2 * PAD);
        let flip = rng.random::<bool>();
        crop_flip_at(sample, &mut src, shape, pad, (dy, dx, flip));
    }
}

/// One sample's crop at offset (dy, dx) of the padded image, flipped or not; `src` is scratch space.
fn crop_flip_at(
    sample: &mut [f32],
    src: &mut [f32],
    shape: &SampleShape,
    pad: &[f32],
    (dy, dx, flip): (usize, usize, bool),
) {
    let (c, h, w) = (shape.channels, shape.dims[1], shape.dims[2]);
    {
        src.copy_from_slice(sample);
        for ch in 0..c {
            for y in 0..h {
                // Output (y, x) reads padded (y + dy, x' + dx), i.e. source (y + dy − 4, x' + dx − 4).
                let sy = (y + dy).checked_sub(PAD).filter(|&v| v < h);
                for xo in 0..w {
                    let xs = if flip { w - 1 - xo } else { xo };
                    let sx = (xs + dx).checked_sub(PAD).filter(|&v| v < w);
                    sample[(ch * h + y) * w + xo] = match (sy, sx) {
                        (Some(sy), Some(sx)) => src[(ch * h + sy) * w + sx],
                        _ => pad[ch],
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mixlab_core::rng::{Purpose, stream};

    #[test]
    fn wave_moves_scales_and_adds_noise_at_the_stated_snr() {
        let shape = SampleShape::new(1, &[4000]).unwrap();
        // A 1 kHz-ish tone in the middle, silence around it.
        let x: Vec<f32> = (0..2 * 4000)
            .map(|k| {
                let t = k % 4000;
                if (1000..3000).contains(&t) {
                    (t as f32 * 0.8).sin()
                } else {
                    0.0
                }
            })
            .collect();
        let (mut a, mut b) = (x.clone(), x.clone());
        augment(
            Augment::Wave,
            &mut a,
            &shape,
            None,
            &mut stream(4, Purpose::Augment, 0, 0),
        );
        augment(
            Augment::Wave,
            &mut b,
            &shape,
            None,
            &mut stream(4, Purpose::Augment, 0, 0),
        );
        assert_eq!(a, b, "one stream, one batch");
        for (got, orig) in a.chunks(4000).zip(x.chunks(4000)) {
            // Find the shift and gain by least squares over the candidate shifts.
            let (mut best, mut best_err) = (0isize, f64::MAX);
            for by in -400isize..=400 {
                let moved = mixlab_core::beat::shift(orig, by);
                let g = got
                    .iter()
                    .zip(&moved)
                    .map(|(&u, &v)| f64::from(u * v))
                    .sum::<f64>()
                    / moved.iter().map(|&v| f64::from(v * v)).sum::<f64>();
                let err: f64 = got
                    .iter()
                    .zip(&moved)
                    .map(|(&u, &v)| (f64::from(u) - g * f64::from(v)).powi(2))
                    .sum();
                if err < best_err {
                    (best, best_err) = (by, err);
                }
            }
            let moved = mixlab_core::beat::shift(orig, best);
            let sig: f64 = moved.iter().map(|&v| f64::from(v * v)).sum();
            let g2 = got.iter().map(|&v| f64::from(v * v)).sum::<f64>() - best_err;
            let gain_db = 10.0 * (g2 / sig).log10();
            let snr_db = 10.0 * (g2 / best_err).log10();
            assert!(
                best.abs() <= 400 && gain_db.abs() <= 6.1,
                "shift {best}, gain {gain_db} dB"
            );
            assert!((14.0..=31.0).contains(&snr_db), "snr {snr_db} dB");
        }
        // A silent clip stays silent (no noise on nothing) and padding is the scaled zero.
        let mut quiet = vec![0.5f32; 4000];
        augment(
            Augment::Wave,
            &mut quiet,
            &shape,
            Some(&[0.5]),
            &mut stream(1, Purpose::Augment, 0, 0),
        );
        assert!(quiet.iter().all(|&v| v == 0.5));
    }

    #[test]
    fn crop_pads_with_a_black_pixel_as_torchvision() {
        // tools/golden/crop_pad.py: torchvision v2 pad(4, fill=0) → crop(top=2, left=5) → hflip →
        // normalize(mean [0.25, 0.5], std [0.2, 0.3]) of the 2×4×3 image (k+1)/32.
        let expected = [
            -1.25, -1.25, -1.25, -1.25, -1.25, -1.25, -1.25, -0.78125, -0.9375, -1.25, -0.3125,
            -0.46875, -1.6666666, -1.6666666, -1.6666666, -1.6666666, -1.6666666, -1.6666666,
            -1.6666666, -0.1041667, -0.2083333, -1.6666666, 0.2083333, 0.1041667,
        ];
        let shape = SampleShape::d2(2, 4, 3).unwrap();
        let (mean, std) = ([0.25f32, 0.5], [0.2f32, 0.3]);
        let mut x: Vec<f32> = (0..24)
            .map(|k| ((k as f32 + 1.0) / 32.0 - mean[k / 12]) / std[k / 12])
            .collect();
        let zero = [-mean[0] / std[0], -mean[1] / std[1]];
        let mut scratch = vec![0.0; 24];
        crop_flip_at(&mut x, &mut scratch, &shape, &zero, (2, 5, true));
        for (k, (a, e)) in x.iter().zip(expected).enumerate() {
            assert!((a - e).abs() < 1e-6, "pixel {k}: {a} vs torchvision {e}");
        }
    }

    #[test]
    fn crop_flip_keeps_values_and_is_reproducible() {
        let shape = SampleShape::d2(2, 6, 5).unwrap();
        let x: Vec<f32> = (0..2 * shape.sample_len())
            .map(|v| v as f32 + 1.0)
            .collect();
        let (mut a, mut b) = (x.clone(), x.clone());
        crop_flip(
            &mut a,
            &shape,
            &[0.0, 0.0],
            &mut stream(1, Purpose::Augment, 0, 0),
        );
        crop_flip(
            &mut b,
            &shape,
            &[0.0, 0.0],
            &mut stream(1, Purpose::Augment, 0, 0),
        );
        assert_eq!(a, b);
        // Every output value is 0 (padding) or a value of the same sample and channel.
        for (s, chunk) in a.chunks(shape.sample_len()).enumerate() {
            for (ci, ch) in chunk.chunks(30).enumerate() {
                let base = (s * 60 + ci * 30) as f32;
                assert!(
                    ch.iter()
                        .all(|&v| v == 0.0 || (v > base && v <= base + 30.0))
                );
            }
        }
    }
}
