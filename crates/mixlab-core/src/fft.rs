//! N-D FFT helpers over rustfft for the spectral methods (FMix masks, spectral-residual saliency).
//!
//! Arrays are dense, C order (last axis fastest), `f64`. Plans come from a per-thread
//! [`FftPlannerScalar`], which caches every length it has planned, so a shape is planned once per
//! thread and later draws only look the plan up. The scalar planner is chosen over the SIMD one on
//! purpose: its arithmetic does not depend on which CPU features the machine has, so a mask drawn
//! from a seed is the same on every x86/ARM host (a one-ulp change can flip the order of two
//! nearly equal pixels and so change a binarised FMix mask). Masks are small; speed is not at stake.

use crate::error::{Error, Result};
use rustfft::{Fft, FftDirection, FftPlannerScalar};
use std::cell::RefCell;
use std::sync::Arc;

pub use rustfft::num_complex::Complex64;

thread_local! {
    static PLANNER: RefCell<FftPlannerScalar<f64>> = RefCell::new(FftPlannerScalar::new());
}

/// The cached plan for a length and direction (unnormalised, like every rustfft transform).
fn plan(len: usize, direction: FftDirection) -> Arc<dyn Fft<f64>> {
    PLANNER.with(|p| p.borrow_mut().plan_fft(len, direction))
}

/// numpy `fft.fftfreq(n)` (unit spacing): `[0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1] / n`.
///
/// Each value is `k · (1/n)` as numpy computes it, so results agree bit for bit.
pub fn fftfreq(n: usize) -> Vec<f64> {
    let step = 1.0 / n as f64;
    let positive = n.div_ceil(2);
    (0..n)
        .map(|k| {
            let signed = if k < positive {
                k as f64
            } else {
                k as f64 - n as f64
            };
            signed * step
        })
        .collect()
}

fn check_len(what: &'static str, dims: &[usize], got: usize) -> Result<usize> {
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::Incompatible(format!("array extents {dims:?} overflow")))?;
    if expected != got {
        return Err(Error::SizeMismatch {
            what,
            expected,
            got,
        });
    }
    Ok(expected)
}

/// Unnormalised 1-D transform of every line along `axis` of a C-order array with extents `dims`.
///
/// Lines along an inner axis are strided; they are gathered block-wise (all lines of one outer index
/// at once, transposed) so the transform itself always runs on contiguous memory.
pub fn transform_axis(
    data: &mut [Complex64],
    dims: &[usize],
    axis: usize,
    direction: FftDirection,
) -> Result<()> {
    check_len("fft buffer", dims, data.len())?;
    if axis >= dims.len() {
        return Err(Error::param("fft axis", "below the array rank", axis));
    }
    let len = dims[axis];
    if len <= 1 || data.is_empty() {
        return Ok(());
    }
    let inner: usize = dims[axis + 1..].iter().product();
    let fft = plan(len, direction);
    let mut scratch = vec![Complex64::default(); fft.get_inplace_scratch_len()];
    if inner == 1 {
        fft.process_with_scratch(data, &mut scratch);
        return Ok(());
    }
    let block = len * inner;
    let mut lines = vec![Complex64::default(); block];
    for chunk in data.chunks_exact_mut(block) {
        transpose(chunk, &mut lines, len, inner);
        fft.process_with_scratch(&mut lines, &mut scratch);
        transpose(&lines, chunk, inner, len);
    }
    Ok(())
}

/// `dst[c][r] = src[r][c]` for a `rows × cols` C-order matrix, in tiles that stay in cache.
fn transpose(src: &[Complex64], dst: &mut [Complex64], rows: usize, cols: usize) {
    const TILE: usize = 16;
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

/// Forward N-D FFT over every axis, unnormalised (numpy `fftn`).
pub fn fftn(data: &mut [Complex64], dims: &[usize]) -> Result<()> {
    for axis in 0..dims.len() {
        transform_axis(data, dims, axis, FftDirection::Forward)?;
    }
    Ok(())
}

/// Inverse N-D FFT over every axis, scaled by `1/N` (numpy `ifftn`).
pub fn ifftn(data: &mut [Complex64], dims: &[usize]) -> Result<()> {
    for axis in 0..dims.len() {
        transform_axis(data, dims, axis, FftDirection::Inverse)?;
    }
    let scale = 1.0 / data.len().max(1) as f64;
    data.iter_mut().for_each(|v| *v *= scale);
    Ok(())
}

/// Copies a C-order array into a new one with other extents, cropping or zero-padding each axis at its
/// end (numpy's `s` argument to the FFT functions).
fn crop_pad<T: Copy, U: Copy + Default>(
    input: &[T],
    in_dims: &[usize],
    out_dims: &[usize],
    convert: impl Fn(T) -> U,
) -> Vec<U> {
    debug_assert_eq!(in_dims.len(), out_dims.len());
    let total: usize = out_dims.iter().product();
    let mut out = vec![U::default(); total];
    let rank = out_dims.len();
    if total == 0 || input.is_empty() {
        return out;
    }
    let (in_last, out_last) = (in_dims[rank - 1], out_dims[rank - 1]);
    let copy = in_last.min(out_last);
    let rows = total / out_last;
    let mut index = vec![0usize; rank.saturating_sub(1)];
    for row in 0..rows {
        // `index` holds this output row's coordinates on the leading axes (odometer order).
        if index.iter().zip(in_dims).all(|(&i, &d)| i < d) {
            let src_row = index
                .iter()
                .zip(in_dims)
                .fold(0, |acc, (&i, &d)| acc * d + i);
            let (src, dst) = (src_row * in_last, row * out_last);
            for k in 0..copy {
                out[dst + k] = convert(input[src + k]);
            }
        }
        for a in (0..index.len()).rev() {
            index[a] += 1;
            if index[a] < out_dims[a] {
                break;
            }
            index[a] = 0;
        }
    }
    out
}

/// numpy `fft.irfftn(a, s)` of a **real** array `a` (extents `in_dims`); see [`irfftn`].
pub fn irfftn_real(input: &[f64], in_dims: &[usize], s: &[usize]) -> Result<Vec<f64>> {
    check_len("irfftn input", in_dims, input.len())?;
    check_out_dims(in_dims, s)?;
    let spec = crop_pad(input, in_dims, &half_dims(s), |v| Complex64::new(v, 0.0));
    irfftn_padded(spec, s)
}

/// numpy `fft.irfftn(a, s)` of a complex array `a` (extents `in_dims`), transforming all of its axes:
/// each axis is cropped / zero-padded to `s` (the last one to `s_last/2 + 1`), an inverse complex FFT
/// runs over every axis but the last, then a complex-to-real inverse FFT of length `s_last` over the
/// last axis, which (as pocketfft's c2r) ignores the imaginary parts of the zero and Nyquist bins.
/// Scaling is numpy's default `backward` (`1/n` per axis).
pub fn irfftn(input: &[Complex64], in_dims: &[usize], s: &[usize]) -> Result<Vec<f64>> {
    check_len("irfftn input", in_dims, input.len())?;
    check_out_dims(in_dims, s)?;
    let spec = crop_pad(input, in_dims, &half_dims(s), |v| v);
    irfftn_padded(spec, s)
}

fn check_out_dims(in_dims: &[usize], s: &[usize]) -> Result<()> {
    if s.len() != in_dims.len() || s.is_empty() {
        return Err(Error::Incompatible(format!(
            "irfftn output extents {s:?} must name every axis of an input with extents {in_dims:?}"
        )));
    }
    if s.contains(&0) {
        return Err(Error::param(
            "irfftn output extents",
            "all >= 1",
            format!("{s:?}"),
        ));
    }
    Ok(())
}

/// The half spectrum's extents for output extents `s`: the last axis holds `s_last/2 + 1` bins.
fn half_dims(s: &[usize]) -> Vec<usize> {
    let mut d = s.to_vec();
    if let Some(last) = d.last_mut() {
        *last = *last / 2 + 1;
    }
    d
}

/// The transforms of [`irfftn`] on a spectrum already cropped / padded to [`half_dims`]`(s)`.
fn irfftn_padded(mut spec: Vec<Complex64>, s: &[usize]) -> Result<Vec<f64>> {
    let rank = s.len();
    let n_last = s[rank - 1];
    let spec_dims = half_dims(s);
    let half = spec_dims[rank - 1];
    for axis in 0..rank - 1 {
        transform_axis(&mut spec, &spec_dims, axis, FftDirection::Inverse)?;
    }
    let rows = spec.len() / half;
    let inv = plan(n_last, FftDirection::Inverse);
    let mut scratch = vec![Complex64::default(); inv.get_inplace_scratch_len()];
    let mut full = vec![Complex64::default(); n_last];
    let mut out = vec![0.0f64; rows * n_last];
    let lead: usize = s[..rank - 1].iter().product();
    let scale = 1.0 / (lead as f64 * n_last as f64);
    for (row, dst) in spec.chunks_exact(half).zip(out.chunks_exact_mut(n_last)) {
        // Hermitian extension; the real part of the full inverse equals c2r, which drops Im of the
        // DC and (even n) Nyquist bins: those only ever add an imaginary term here.
        full[..half].copy_from_slice(row);
        for k in half..n_last {
            full[k] = row[n_last - k].conj();
        }
        inv.process_with_scratch(&mut full, &mut scratch);
        for (o, v) in dst.iter_mut().zip(&full) {
            *o = v.re * scale;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct O(N²) inverse DFT, for checking the fast paths on small arrays.
    fn naive_idft(x: &[Complex64]) -> Vec<Complex64> {
        let n = x.len();
        (0..n)
            .map(|t| {
                x.iter()
                    .enumerate()
                    .fold(Complex64::default(), |acc, (k, &v)| {
                        let ang = 2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
                        acc + v * Complex64::new(ang.cos(), ang.sin())
                    })
                    / n as f64
            })
            .collect()
    }

    #[test]
    fn fftfreq_matches_numpy_layout() {
        assert_eq!(fftfreq(4), vec![0.0, 0.25, -0.5, -0.25]);
        assert_eq!(fftfreq(5), vec![0.0, 0.2, 0.4, -0.4, -0.2]);
        assert_eq!(fftfreq(1), vec![0.0]);
    }

    #[test]
    fn fftn_then_ifftn_is_identity_on_a_3d_array() {
        let dims = [3, 4, 5];
        let orig: Vec<Complex64> = (0..60)
            .map(|i| Complex64::new((i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()))
            .collect();
        let mut x = orig.clone();
        fftn(&mut x, &dims).unwrap();
        assert!((x[0] - orig.iter().sum::<Complex64>()).norm() < 1e-12);
        ifftn(&mut x, &dims).unwrap();
        for (a, b) in x.iter().zip(&orig) {
            assert!((a - b).norm() < 1e-12);
        }
    }

    #[test]
    fn middle_axis_transform_matches_a_direct_dft() {
        let dims = [2, 5, 3];
        let orig: Vec<Complex64> = (0..30)
            .map(|i| Complex64::new(i as f64, (i * i % 7) as f64))
            .collect();
        let mut x = orig.clone();
        transform_axis(&mut x, &dims, 1, FftDirection::Inverse).unwrap();
        for o in 0..2 {
            for i in 0..3 {
                let line: Vec<_> = (0..5).map(|k| orig[(o * 5 + k) * 3 + i]).collect();
                let want = naive_idft(&line);
                for k in 0..5 {
                    assert!((x[(o * 5 + k) * 3 + i] - want[k] * 5.0).norm() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn irfft_matches_a_direct_hermitian_sum_for_odd_and_even_lengths() {
        for n in [1usize, 2, 5, 8] {
            let input: Vec<f64> = (0..7).map(|k| (k as f64 + 1.0).recip()).collect();
            let got = irfftn_real(&input, &[7], &[n]).unwrap();
            let half = n / 2 + 1;
            let mut full = vec![Complex64::default(); n];
            for (k, v) in full.iter_mut().enumerate() {
                let src = if k < half { k } else { n - k };
                *v = Complex64::new(input[src], 0.0);
            }
            let want = naive_idft(&full);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w.re).abs() < 1e-12, "n={n}");
            }
        }
    }

    #[test]
    fn crop_pad_zero_pads_and_crops_each_axis() {
        let x: Vec<f64> = (0..6).map(f64::from).collect();
        let out = crop_pad(&x, &[2, 3], &[3, 2], |v| v);
        assert_eq!(out, vec![0.0, 1.0, 3.0, 4.0, 0.0, 0.0]);
    }

    #[test]
    fn rejects_mismatched_buffers() {
        let mut x = vec![Complex64::default(); 5];
        assert!(matches!(
            fftn(&mut x, &[2, 3]),
            Err(Error::SizeMismatch { .. })
        ));
        assert!(irfftn_real(&[0.0; 4], &[4], &[2, 2]).is_err());
        assert!(irfftn_real(&[0.0; 4], &[4], &[0]).is_err());
        assert!(irfftn(&[Complex64::default(); 3], &[4], &[4]).is_err());
    }

    #[test]
    fn complex_irfftn_matches_a_direct_sum_over_the_padded_spectrum() {
        // 2-D input [3, 2] → output [4, 5]: axis 0 zero-padded to 4 (full inverse), axis 1 padded to
        // 5/2 + 1 = 3 bins, then the Hermitian c2r of length 5, which drops Im of the DC bin.
        let input: Vec<Complex64> = (0..6)
            .map(|i| Complex64::new(f64::from(i) * 0.3 - 0.7, f64::from(i * i % 5) * 0.2))
            .collect();
        let got = irfftn(&input, &[3, 2], &[4, 5]).unwrap();
        let at = |a: usize, b: usize| {
            if a < 3 && b < 2 {
                input[a * 2 + b]
            } else {
                Complex64::default()
            }
        };
        // Inverse along axis 0, then c2r along axis 1: Re of bin 0 plus twice Re of bins 1 and 2.
        let tau = 2.0 * std::f64::consts::PI;
        for m in 0..4 {
            for n in 0..5 {
                let mut acc = 0.0;
                for bin in 0..3usize {
                    let col: Complex64 = (0..4)
                        .map(|k| {
                            let ang = tau * (k * m) as f64 / 4.0;
                            at(k, bin) * Complex64::new(ang.cos(), ang.sin())
                        })
                        .sum();
                    let ang = tau * (bin * n) as f64 / 5.0;
                    let term = (col * Complex64::new(ang.cos(), ang.sin())).re;
                    acc += if bin == 0 { col.re } else { 2.0 * term };
                }
                let want = acc / 20.0;
                let g = got[m * 5 + n];
                assert!((g - want).abs() < 1e-12, "({m}, {n}): {g} vs {want}");
            }
        }
    }
}
