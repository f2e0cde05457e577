//! Host-side apply: one fused pass from the input batch to the mixed batch, on f32 or u8 buffers.
//!
//! Each output sample is written exactly once from x_i and x_j, with no temporaries; samples are
//! independent, so large batches are split across threads with rayon. u8 mixing rounds half to even
//! like timm's `FastCollateMixup` (`np.rint`).

use crate::error::{Error, Result};
use crate::plan::{Interp, MixPlan, Region, SampleWeight};
use crate::shape::SampleShape;
use rayon::prelude::*;

/// Below this many output elements a batch is mixed on the calling thread (thread hand-off costs more).
const PARALLEL_MIN_ELEMS: usize = 1 << 17;

/// An element type the host mixers can write.
pub trait Elem: Copy + Send + Sync + 'static {
    /// `w·a + (1 − w)·b`, rounded for integer types.
    fn lerp(a: Self, b: Self, w: f32) -> Self;
    /// Converts to f32 for interpolation.
    fn to_f32(self) -> f32;
    /// Converts back from f32 (rounding and saturating for integer types).
    fn from_f32(v: f32) -> Self;
}

impl Elem for f32 {
    #[inline(always)]
    fn lerp(a: f32, b: f32, w: f32) -> f32 {
        a * w + b * (1.0 - w)
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_f32(v: f32) -> f32 {
        v
    }
}

impl Elem for u8 {
    #[inline(always)]
    fn lerp(a: u8, b: u8, w: f32) -> u8 {
        Self::from_f32(f32::from(a) * w + f32::from(b) * (1.0 - w))
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    #[inline(always)]
    fn from_f32(v: f32) -> u8 {
        // `as` saturates and maps NaN to 0, so no value can escape 0..=255.
        v.round_ties_even() as u8
    }
}

/// Mixes `input` (B samples of `plan.shape`, contiguous N×C×spatial) into `out` as the plan says.
pub fn apply<T: Elem>(plan: &MixPlan, input: &[T], out: &mut [T]) -> Result<()> {
    plan.validate()?;
    let len = plan.shape.sample_len();
    let expected = plan.len() * len;
    for (what, got) in [("input buffer", input.len()), ("output buffer", out.len())] {
        if got != expected {
            return Err(Error::SizeMismatch {
                what,
                expected,
                got,
            });
        }
    }
    if len == 0 {
        return Ok(());
    }
    let one = |(i, o): (usize, &mut [T])| {
        let j = plan.partner[i];
        let a = &input[i * len..(i + 1) * len];
        let b = &input[j * len..(j + 1) * len];
        mix_sample(&plan.shape, &plan.weights[i], a, b, o);
    };
    if expected >= PARALLEL_MIN_ELEMS {
        out.par_chunks_mut(len).enumerate().for_each(one);
    } else {
        out.chunks_mut(len).enumerate().for_each(one);
    }
    Ok(())
}

/// Convenience: mixes into a freshly allocated buffer.
pub fn apply_to_vec<T: Elem + Default>(plan: &MixPlan, input: &[T]) -> Result<Vec<T>> {
    let mut out = vec![T::default(); input.len()];
    apply(plan, input, &mut out)?;
    Ok(out)
}

/// Mixes one sample: `a` is x_i, `b` is x_j, `o` the output (all C×spatial).
fn mix_sample<T: Elem>(shape: &SampleShape, weight: &SampleWeight, a: &[T], b: &[T], o: &mut [T]) {
    match weight {
        SampleWeight::Keep => o.copy_from_slice(a),
        SampleWeight::Blend { lam } => {
            let w = *lam;
            for ((o, &x), &y) in o.iter_mut().zip(a).zip(b) {
                *o = T::lerp(x, y, w);
            }
        }
        SampleWeight::Paste { region } => {
            o.copy_from_slice(a);
            paste(shape, region, b, o);
        }
        SampleWeight::PasteResized { region, interp } => {
            o.copy_from_slice(a);
            paste_resized(shape, region, *interp, b, o);
        }
        SampleWeight::Mask { mask } => {
            let n = shape.spatial_len();
            for ((oc, ac), bc) in o
                .chunks_exact_mut(n)
                .zip(a.chunks_exact(n))
                .zip(b.chunks_exact(n))
            {
                for (((o, &x), &y), &m) in oc.iter_mut().zip(ac).zip(bc).zip(mask.iter()) {
                    *o = T::lerp(x, y, m);
                }
            }
        }
    }
}

/// Copies `region` of `src` into the same place of `dst`, row by row (rows are contiguous along w).
fn paste<T: Elem>(shape: &SampleShape, r: &Region, src: &[T], dst: &mut [T]) {
    let [_, h, w] = shape.dims;
    let n = shape.spatial_len();
    if r.volume() == 0 {
        return;
    }
    for c in 0..shape.channels {
        for z in r.start[0]..r.end[0] {
            for y in r.start[1]..r.end[1] {
                let row = c * n + (z * h + y) * w;
                let (s, e) = (row + r.start[2], row + r.end[2]);
                dst[s..e].copy_from_slice(&src[s..e]);
            }
        }
    }
}

/// Source taps along one axis: for each output index, (i0, i1, weight of i1).
fn taps(input: usize, output: usize, interp: Interp) -> Vec<(usize, usize, f32)> {
    // PyTorch computes the scale as in/out in float and, for nearest, floors dst·scale.
    let scale = input as f32 / output as f32;
    (0..output)
        .map(|d| match interp {
            Interp::Nearest => {
                let s = ((d as f32 * scale).floor() as usize).min(input - 1);
                (s, s, 0.0)
            }
            Interp::Linear => {
                let src = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
                let i0 = (src.floor() as usize).min(input - 1);
                let i1 = (i0 + 1).min(input - 1);
                (i0, i1, src - i0 as f32)
            }
        })
        .collect()
}

/// Writes the whole of `src` resized to the region's extent into `region` of `dst`.
fn paste_resized<T: Elem>(
    shape: &SampleShape,
    r: &Region,
    interp: Interp,
    src: &[T],
    dst: &mut [T],
) {
    let [d, h, w] = shape.dims;
    let ext = r.extent();
    if r.volume() == 0 {
        return;
    }
    let tz = taps(d, ext[0], interp);
    let ty = taps(h, ext[1], interp);
    let tx = taps(w, ext[2], interp);
    let n = shape.spatial_len();
    for c in 0..shape.channels {
        let s = &src[c * n..(c + 1) * n];
        let dc = &mut dst[c * n..(c + 1) * n];
        for (oz, &(z0, z1, wz)) in tz.iter().enumerate() {
            for (oy, &(y0, y1, wy)) in ty.iter().enumerate() {
                let row = ((r.start[0] + oz) * h + r.start[1] + oy) * w + r.start[2];
                let out_row = &mut dc[row..row + ext[2]];
                match interp {
                    Interp::Nearest => {
                        let src_row = &s[(z0 * h + y0) * w..(z0 * h + y0 + 1) * w];
                        for (o, &(x0, _, _)) in out_row.iter_mut().zip(&tx) {
                            *o = src_row[x0];
                        }
                    }
                    Interp::Linear => {
                        let at = |z: usize, y: usize, x: usize| s[(z * h + y) * w + x].to_f32();
                        for (o, &(x0, x1, wx)) in out_row.iter_mut().zip(&tx) {
                            let plane = |z: usize| {
                                let top = at(z, y0, x0) * (1.0 - wx) + at(z, y0, x1) * wx;
                                let bot = at(z, y1, x0) * (1.0 - wx) + at(z, y1, x1) * wx;
                                top * (1.0 - wy) + bot * wy
                            };
                            *o = T::from_f32(plane(z0) * (1.0 - wz) + plane(z1) * wz);
                        }
                    }
                }
            }
        }
    }
}

/// The baseline every mixer is measured against: `out = a·λ + b·(1 − λ)` over two equal buffers.
pub fn plain_blend(a: &[f32], b: &[f32], lam: f32, out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x * lam + y * (1.0 - lam);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn plan(shape: SampleShape, weights: Vec<SampleWeight>, partner: Vec<usize>) -> MixPlan {
        let b = weights.len();
        MixPlan {
            shape,
            partner,
            weights,
            lam_label: vec![1.0; b],
            method: vec![crate::methods::Method::Mixup; b],
        }
    }

    #[test]
    fn blend_paste_mask_and_resize_on_a_tiny_batch() {
        let shape = SampleShape::d2(1, 2, 3).unwrap();
        let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let region = Region {
            start: [0, 0, 1],
            end: [1, 2, 3],
        };
        let mask: Arc<[f32]> = vec![1.0, 0.0, 0.5, 0.5, 0.0, 1.0].into();
        for (weight, want) in [
            (SampleWeight::Keep, vec![0., 1., 2., 3., 4., 5.]),
            (
                SampleWeight::Blend { lam: 0.25 },
                vec![4.5, 5.5, 6.5, 7.5, 8.5, 9.5],
            ),
            (
                SampleWeight::Paste { region },
                vec![0., 7., 8., 3., 10., 11.],
            ),
            (
                SampleWeight::Mask { mask: mask.clone() },
                vec![0., 7., 5., 6., 10., 5.],
            ),
            (
                SampleWeight::PasteResized {
                    region,
                    interp: Interp::Nearest,
                },
                // 2x3 partner resized to 2x2: columns floor(0*1.5)=0, floor(1*1.5)=1
                vec![0., 6., 7., 3., 9., 10.],
            ),
        ] {
            let p = plan(shape, vec![weight.clone(), SampleWeight::Keep], vec![1, 0]);
            let out = apply_to_vec(&p, &x).unwrap();
            assert_eq!(&out[..6], &want[..], "{weight:?}");
            assert_eq!(&out[6..], &x[6..]);
        }
    }

    #[test]
    fn u8_rounds_half_to_even_and_rejects_wrong_sizes() {
        let shape = SampleShape::d1(1, 2).unwrap();
        let p = plan(shape, vec![SampleWeight::Blend { lam: 0.5 }; 2], vec![1, 0]);
        // (1+2)/2 = 1.5 -> 2, (3+2)/2 = 2.5 -> 2
        let out = apply_to_vec::<u8>(&p, &[1, 3, 2, 2]).unwrap();
        assert_eq!(out, vec![2, 2, 2, 2]);
        assert!(apply_to_vec::<u8>(&p, &[1, 2, 3]).is_err());
    }

    #[test]
    fn linear_resize_matches_pytorch_align_corners_false() {
        // torch.nn.functional.interpolate(torch.arange(4.).view(1,1,1,4), size=(1,2), mode="bilinear")
        // -> [[0.5, 2.5]]
        let shape = SampleShape::d2(1, 1, 4).unwrap();
        let region = Region {
            start: [0, 0, 0],
            end: [1, 1, 2],
        };
        let p = plan(
            shape,
            vec![
                SampleWeight::PasteResized {
                    region,
                    interp: Interp::Linear,
                },
                SampleWeight::Keep,
            ],
            vec![1, 0],
        );
        let x = [9., 9., 9., 9., 0., 1., 2., 3.];
        let out = apply_to_vec::<f32>(&p, &x).unwrap();
        assert_eq!(&out[..4], &[0.5, 2.5, 9., 9.]);
    }
}
