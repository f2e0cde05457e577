//! Host-side apply: one fused pass from the input batch to the mixed batch, on f32 or u8 buffers.
//!
//! Each output sample is formed from x_i and x_j with no temporaries; samples are independent, so large
//! batches are split across threads with rayon, and every element is computed by the same expression
//! whichever thread runs it (results are bit-identical for any thread count). u8 mixing rounds half to
//! even like timm's `FastCollateMixup` (`np.rint`). The inner loops are written to vectorise on the
//! baseline x86-64 target (no libm call, no branch per element); figures are in `bench/README.md`.

use crate::error::{Error, Result};
use crate::plan::{Interp, MixPlan, Region, SampleWeight};
use crate::shape::SampleShape;
use rayon::prelude::*;

/// Below this many output elements a batch is mixed on the calling thread (thread hand-off costs more).
const PARALLEL_MIN_ELEMS: usize = 1 << 17;

/// 2^23: at this magnitude an f32 has no fraction bits, so `x + 2^23` rounds x (0 ≤ x < 2^23) to the
/// nearest integer, ties to even, and leaves that integer in the low mantissa bits.
const ROUND_MAGIC: f32 = 8_388_608.0;

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
    #[allow(
        clippy::manual_clamp,
        reason = "clamp keeps NaN (and its payload bits); max maps it to 0"
    )]
    fn from_f32(v: f32) -> u8 {
        // Same result as `v.round_ties_even() as u8` (saturating, NaN to 0) for every input, but
        // branch-free and without a libm call, so the loops vectorise: `max` maps NaN to 0, and adding
        // 2^23 to a value in [0, 255] rounds it half to even into the low mantissa bits.
        let clamped = v.max(0.0).min(255.0);
        (clamped + ROUND_MAGIC).to_bits() as u8
    }
}

/// Mixes `input` (B samples of `plan.shape`, contiguous N×C×spatial) into `out` as the plan says.
pub fn apply<T: Elem>(plan: &MixPlan, input: &[T], out: &mut [T]) -> Result<()> {
    let len = plan.shape.sample_len();
    if input.len() != plan.len() * len {
        return Err(Error::SizeMismatch {
            what: "input buffer",
            expected: plan.len() * len,
            got: input.len(),
        });
    }
    apply_with(plan, out, |i| &input[i * len..(i + 1) * len])
}

/// Mixes B separately stored samples (a collate function's list of images) into the contiguous `out`:
/// the stacking and the mixing in one pass.
pub fn apply_gathered<T: Elem>(plan: &MixPlan, samples: &[&[T]], out: &mut [T]) -> Result<()> {
    let len = plan.shape.sample_len();
    if samples.len() != plan.len() {
        return Err(Error::SizeMismatch {
            what: "samples",
            expected: plan.len(),
            got: samples.len(),
        });
    }
    if let Some(s) = samples.iter().find(|s| s.len() != len) {
        return Err(Error::SizeMismatch {
            what: "sample buffer",
            expected: len,
            got: s.len(),
        });
    }
    apply_with(plan, out, |i| samples[i])
}

fn apply_with<'s, T: Elem>(
    plan: &MixPlan,
    out: &mut [T],
    sample: impl Fn(usize) -> &'s [T] + Sync,
) -> Result<()> {
    plan.validate()?;
    let len = plan.shape.sample_len();
    let expected = plan.len() * len;
    if out.len() != expected {
        return Err(Error::SizeMismatch {
            what: "output buffer",
            expected,
            got: out.len(),
        });
    }
    if len == 0 {
        return Ok(());
    }
    let tasks = pair_up(plan, out, len);
    let run = |task: Task<'_, T>| match task {
        Task::One(i, o) => {
            let j = plan.partner[i];
            mix_sample(&plan.shape, &plan.weights[i], sample(i), sample(j), o);
        }
        Task::Pair {
            i,
            j,
            wi,
            wj,
            oi,
            oj,
        } => blend_pair(sample(i), sample(j), wi, wj, oi, oj),
    };
    if expected >= PARALLEL_MIN_ELEMS {
        tasks.into_par_iter().for_each(run);
    } else {
        tasks.into_iter().for_each(run);
    }
    Ok(())
}

/// One unit of work: a sample on its own, or two samples blended with each other.
enum Task<'a, T> {
    One(usize, &'a mut [T]),
    Pair {
        i: usize,
        j: usize,
        wi: f32,
        wj: f32,
        oi: &'a mut [T],
        oj: &'a mut [T],
    },
}

/// Splits `out` into per-sample tasks, joining i and j into one task when they are each other's
/// partner and both blend (timm's flip pairing, pair granularity). A joined pair reads x_i and x_j
/// once for both outputs, a third less memory traffic than two separate blends; each output element
/// is still the same expression, so results do not change.
fn pair_up<'a, T>(plan: &MixPlan, out: &'a mut [T], len: usize) -> Vec<Task<'a, T>> {
    let mut slots: Vec<Option<&'a mut [T]>> = out.chunks_mut(len).map(Some).collect();
    let mut tasks = Vec::with_capacity(slots.len());
    for i in 0..slots.len() {
        let Some(oi) = slots[i].take() else {
            continue; // already joined to an earlier sample
        };
        let j = plan.partner[i];
        if let (SampleWeight::Blend { lam: wi }, SampleWeight::Blend { lam: wj }) =
            (&plan.weights[i], &plan.weights[j])
            && j > i
            && plan.partner[j] == i
            && let Some(oj) = slots[j].take()
        {
            let (wi, wj) = (*wi, *wj);
            tasks.push(Task::Pair {
                i,
                j,
                wi,
                wj,
                oi,
                oj,
            });
            continue;
        }
        tasks.push(Task::One(i, oi));
    }
    tasks
}

/// `oi = lerp(a, b, wi)` and `oj = lerp(b, a, wj)` in one pass over `a` and `b`.
fn blend_pair<T: Elem>(a: &[T], b: &[T], wi: f32, wj: f32, oi: &mut [T], oj: &mut [T]) {
    for (((oi, oj), &x), &y) in oi.iter_mut().zip(oj.iter_mut()).zip(a).zip(b) {
        *oi = T::lerp(x, y, wi);
        *oj = T::lerp(y, x, wj);
    }
}

/// Mixes the batch in place, as timm's `Mixup` does: `x` becomes what [`apply`] would write, bit for bit.
/// What each sample reads from its partner is copied before anything is written: the box rows of a
/// paste, nothing for two samples blended with each other (both outputs come from the two originals in
/// one pass), the sample and its partner whole for the other kinds.
pub fn apply_in_place<T: Elem>(plan: &MixPlan, x: &mut [T]) -> Result<()> {
    plan.validate()?;
    let len = plan.shape.sample_len();
    if x.len() != plan.len() * len {
        return Err(Error::SizeMismatch {
            what: "batch buffer",
            expected: plan.len() * len,
            got: x.len(),
        });
    }
    if len == 0 {
        return Ok(());
    }
    let shape = &plan.shape;
    let mutual_blend = |i: usize| {
        let j = plan.partner[i];
        j != i
            && plan.partner[j] == i
            && matches!(plan.weights[i], SampleWeight::Blend { .. })
            && matches!(plan.weights[j], SampleWeight::Blend { .. })
    };
    enum Copied<T> {
        Nothing,
        Rows(Vec<T>),
        Whole(Vec<T>, Vec<T>),
    }
    let copies: Vec<Copied<T>> = (0..plan.len())
        .map(|i| {
            let j = plan.partner[i];
            match &plan.weights[i] {
                SampleWeight::Keep => Copied::Nothing,
                _ if mutual_blend(i) => Copied::Nothing,
                SampleWeight::Paste { region } => {
                    let seg = region.end[2].saturating_sub(region.start[2]);
                    let partner = &x[j * len..(j + 1) * len];
                    let mut rows = Vec::with_capacity(region.volume() * shape.channels);
                    if region.volume() > 0 {
                        for_each_row(shape, region, |s| {
                            rows.extend_from_slice(&partner[s..s + seg])
                        });
                    }
                    Copied::Rows(rows)
                }
                _ => Copied::Whole(
                    x[i * len..(i + 1) * len].to_vec(),
                    x[j * len..(j + 1) * len].to_vec(),
                ),
            }
        })
        .collect();
    for (i, copied) in copies.into_iter().enumerate() {
        let j = plan.partner[i];
        match copied {
            Copied::Nothing => {
                if let (
                    true,
                    true,
                    SampleWeight::Blend { lam: wi },
                    SampleWeight::Blend { lam: wj },
                ) = (mutual_blend(i), i < j, &plan.weights[i], &plan.weights[j])
                {
                    let (head, tail) = x.split_at_mut(j * len);
                    let (xi, xj) = (&mut head[i * len..(i + 1) * len], &mut tail[..len]);
                    for (a, b) in xi.iter_mut().zip(xj.iter_mut()) {
                        let (u, v) = (*a, *b);
                        *a = T::lerp(u, v, *wi);
                        *b = T::lerp(v, u, *wj);
                    }
                }
            }
            Copied::Rows(rows) => {
                if let SampleWeight::Paste { region } = &plan.weights[i] {
                    let seg = region.end[2].saturating_sub(region.start[2]);
                    let xi = &mut x[i * len..(i + 1) * len];
                    let mut from = rows.chunks_exact(seg.max(1));
                    if region.volume() > 0 {
                        for_each_row(shape, region, |s| {
                            if let Some(r) = from.next() {
                                xi[s..s + seg].copy_from_slice(r);
                            }
                        });
                    }
                }
            }
            Copied::Whole(own, partner) => {
                mix_sample(
                    shape,
                    &plan.weights[i],
                    &own,
                    &partner,
                    &mut x[i * len..(i + 1) * len],
                );
            }
        }
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
            if fits_l1(o) {
                o.copy_from_slice(a);
                paste(shape, region, b, o);
            } else {
                paste_interleaved(shape, region, a, b, o);
            }
        }
        SampleWeight::PasteResized { region, interp } => {
            if fits_l1(o) {
                o.copy_from_slice(a);
            } else {
                copy_outside(shape, region, a, o);
            }
            paste_resized(shape, region, *interp, b, o);
        }
        SampleWeight::Mask { mask } => {
            let n = shape.spatial_len();
            for ((oc, ac), bc) in o
                .chunks_exact_mut(n)
                .zip(a.chunks_exact(n))
                .zip(b.chunks_exact(n))
            {
                lerp_masked(oc, ac, bc, mask);
            }
        }
    }
}

/// Lanes per step of the masked lerp: fixed-size blocks give the compiler a fully unrolled vector body
/// (measured a few percent faster on u8 than a zip of four iterators).
const LANES: usize = 16;

/// `o = lerp(a, b, m)` element-wise over one channel.
fn lerp_masked<T: Elem>(o: &mut [T], a: &[T], b: &[T], m: &[f32]) {
    let mut oc = o.chunks_exact_mut(LANES);
    let mut ac = a.chunks_exact(LANES);
    let mut bc = b.chunks_exact(LANES);
    let mut mc = m.chunks_exact(LANES);
    for (((o, a), b), m) in (&mut oc).zip(&mut ac).zip(&mut bc).zip(&mut mc) {
        for k in 0..LANES {
            o[k] = T::lerp(a[k], b[k], m[k]);
        }
    }
    let tail = oc
        .into_remainder()
        .iter_mut()
        .zip(ac.remainder())
        .zip(bc.remainder());
    for (((o, &x), &y), &w) in tail.zip(mc.remainder()) {
        *o = T::lerp(x, y, w);
    }
}

/// Calls `f` with the start offset (within one sample) of every row segment of `r`, channel by
/// channel, in memory order. Plain nested loops: this runs once per box row, and at 32-wide images the
/// per-row bookkeeping is a visible share of a paste.
#[inline(always)]
fn for_each_row(shape: &SampleShape, r: &Region, mut f: impl FnMut(usize)) {
    let [_, h, w] = shape.dims;
    let n = shape.spatial_len();
    for c in 0..shape.channels {
        for z in r.start[0]..r.end[0] {
            let plane = c * n + z * h * w + r.start[2];
            for y in r.start[1]..r.end[1] {
                f(plane + y * w);
            }
        }
    }
}

/// Samples up to this size (bytes) are pasted as one block copy of x_i and then the box rows of x_j:
/// the doubly written box stays in L1, and one large copy beats two short copies per row. Larger
/// samples take [`paste_interleaved`], which writes each element once (measured on 3×32×32 vs
/// 3×224×224, u8 and f32).
const SMALL_SAMPLE_BYTES: usize = 16 << 10;

/// True when one sample is small enough for the copy-then-overwrite paste.
fn fits_l1<T>(sample: &[T]) -> bool {
    std::mem::size_of_val(sample) <= SMALL_SAMPLE_BYTES
}

/// x_i with `r` taken from x_j in one forward pass: the run of x_i up to each box row, then the row
/// segment of x_j, so each output element is written once and both sources stream in order.
fn paste_interleaved<T: Copy>(shape: &SampleShape, r: &Region, a: &[T], b: &[T], o: &mut [T]) {
    let mut pos = 0;
    if r.volume() > 0 {
        let seg = r.end[2] - r.start[2];
        for_each_row(shape, r, |s| {
            o[pos..s].copy_from_slice(&a[pos..s]);
            o[s..s + seg].copy_from_slice(&b[s..s + seg]);
            pos = s + seg;
        });
    }
    o[pos..].copy_from_slice(&a[pos..]);
}

/// Copies everything of `src` outside `r` into `dst`, in as few contiguous runs as the layout allows,
/// so each output element is written once (the region is filled by the caller).
fn copy_outside<T: Copy>(shape: &SampleShape, r: &Region, src: &[T], dst: &mut [T]) {
    let mut pos = 0;
    if r.volume() > 0 {
        let seg = r.end[2] - r.start[2];
        for_each_row(shape, r, |s| {
            dst[pos..s].copy_from_slice(&src[pos..s]);
            pos = s + seg;
        });
    }
    dst[pos..].copy_from_slice(&src[pos..]);
}

/// Copies `region` of `src` into the same place of `dst`, row by row (rows are contiguous along w).
fn paste<T: Copy>(shape: &SampleShape, r: &Region, src: &[T], dst: &mut [T]) {
    if r.volume() == 0 {
        return;
    }
    let seg = r.end[2] - r.start[2];
    for_each_row(shape, r, |s| {
        dst[s..s + seg].copy_from_slice(&src[s..s + seg])
    });
}

/// Source taps along one axis: for each output index, (i0, i1, weight of i1).
pub(crate) fn taps(input: usize, output: usize, interp: Interp) -> Vec<(usize, usize, f32)> {
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
#[allow(clippy::unwrap_used, reason = "tests may unwrap")]
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
            // The same batch given as separate samples (a collate function's list), and mixed in place.
            let mut gathered = vec![0f32; 12];
            apply_gathered(&p, &[&x[..6], &x[6..]], &mut gathered).unwrap();
            assert_eq!(gathered, out);
            let mut inplace = x.clone();
            apply_in_place(&p, &mut inplace).unwrap();
            assert_eq!(inplace, out);
        }
        let p = plan(shape, vec![SampleWeight::Keep; 2], vec![1, 0]);
        let mut out = vec![0f32; 12];
        assert!(matches!(
            apply_gathered(&p, &[&x[..6], &x[6..11]], &mut out),
            Err(Error::SizeMismatch {
                what: "sample buffer",
                expected: 6,
                got: 5
            })
        ));
        assert!(apply_gathered(&p, &[&x[..6]], &mut out).is_err());
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

    #[test]
    fn u8_conversion_matches_round_ties_even_with_saturation() {
        let mut probes = vec![
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            -0.5,
            -0.51,
            1e9,
            -1e9,
        ];
        // Every quarter step across and beyond the u8 range, so all ties and both edges are hit.
        probes.extend((-40..=1100).map(|q| q as f32 * 0.25));
        probes.extend([254.5, 255.49, 255.5, 255.51, 256.5, 0.49999997, 0.50000006]);
        for v in probes {
            assert_eq!(u8::from_f32(v), v.round_ties_even() as u8, "{v}");
        }
        // And the lerp over every pair of a sparse grid of inputs and weights, against the direct formula.
        for a in (0..=255u8).step_by(5) {
            for b in (0..=255u8).step_by(7) {
                for w in [0.0f32, 0.1, 0.25, 0.5, 0.75, 0.999, 1.0] {
                    let direct =
                        (f32::from(a) * w + f32::from(b) * (1.0 - w)).round_ties_even() as u8;
                    assert_eq!(u8::lerp(a, b, w), direct, "{a} {b} {w}");
                }
            }
        }
    }

    /// Reference for the paste kernels: copy x_i, then overwrite the region element by element.
    fn naive_paste(shape: &SampleShape, r: &Region, a: &[f32], b: &[f32]) -> Vec<f32> {
        let [_, h, w] = shape.dims;
        let n = shape.spatial_len();
        let mut o = a.to_vec();
        for c in 0..shape.channels {
            for z in r.start[0]..r.end[0] {
                for y in r.start[1]..r.end[1] {
                    for x in r.start[2]..r.end[2] {
                        let k = c * n + (z * h + y) * w + x;
                        o[k] = b[k];
                    }
                }
            }
        }
        o
    }

    #[test]
    fn paste_writes_the_region_from_the_partner_and_the_rest_from_the_sample() {
        // The small shape takes the copy-then-overwrite path, the large one the interleaved pass.
        let small = SampleShape::d3(2, 3, 4, 5).unwrap();
        let large = SampleShape::d3(2, 4, 40, 30).unwrap();
        assert!(fits_l1(&vec![0f32; small.sample_len()]));
        assert!(!fits_l1(&vec![0f32; large.sample_len()]));
        let cases = [
            (small, [0, 0, 0], [3, 4, 5]),
            (small, [1, 1, 2], [2, 3, 4]),
            (small, [0, 2, 0], [3, 4, 5]),
            (small, [2, 0, 4], [3, 4, 5]),
            (small, [1, 1, 1], [1, 3, 3]),
            (small, [0, 0, 0], [1, 1, 1]),
            (large, [0, 0, 0], [4, 40, 30]),
            (large, [1, 7, 3], [3, 33, 29]),
            (large, [0, 39, 0], [4, 40, 30]),
            (large, [3, 0, 29], [4, 40, 30]),
            (large, [2, 5, 5], [2, 9, 9]),
            (large, [0, 10, 0], [4, 20, 30]),
        ];
        for (shape, start, end) in cases {
            let len = shape.sample_len();
            let x: Vec<f32> = (0..2 * len).map(|v| v as f32).collect();
            let region = Region { start, end };
            let p = plan(
                shape,
                vec![SampleWeight::Paste { region }, SampleWeight::Keep],
                vec![1, 0],
            );
            let out = apply_to_vec(&p, &x).unwrap();
            let want = naive_paste(&shape, &region, &x[..len], &x[len..]);
            assert_eq!(&out[..len], &want[..], "{shape} {region:?}");
            assert_eq!(&out[len..], &x[len..]);
        }
    }

    #[test]
    fn results_are_bit_identical_across_thread_counts_and_to_per_sample_mixing() {
        // Large enough to take the parallel path. Plan 1 mixes every weight kind; plan 2 blends every
        // sample with its flip partner (odd batch: the middle one pairs with itself), so most samples
        // go through the joined-pair kernel, and a few Keep/Paste ones break pairs up.
        let shape = SampleShape::d2(3, 64, 64).unwrap();
        let len = shape.sample_len();
        let mask: Arc<[f32]> = (0..shape.spatial_len())
            .map(|k| (k % 17) as f32 / 16.0)
            .collect();
        let region = Region {
            start: [0, 5, 9],
            end: [1, 40, 33],
        };
        let kinds = |b: usize| -> Vec<SampleWeight> {
            (0..b)
                .map(|i| match i % 5 {
                    0 => SampleWeight::Blend {
                        lam: i as f32 / b as f32,
                    },
                    1 => SampleWeight::Paste { region },
                    2 => SampleWeight::PasteResized {
                        region,
                        interp: Interp::Linear,
                    },
                    3 => SampleWeight::Mask { mask: mask.clone() },
                    _ => SampleWeight::Keep,
                })
                .collect()
        };
        let blends = |b: usize| -> Vec<SampleWeight> {
            (0..b)
                .map(|i| match i {
                    3 => SampleWeight::Keep,
                    7 => SampleWeight::Paste { region },
                    _ => SampleWeight::Blend {
                        lam: (i as f32 * 0.37).fract(),
                    },
                })
                .collect()
        };
        for (b, weights) in [(48, kinds(48)), (49, blends(49))] {
            let x: Vec<f32> = (0..b * len)
                .map(|v| ((v * 7919) % 1013) as f32 / 1013.0)
                .collect();
            let xu: Vec<u8> = x.iter().map(|&v| (v * 255.0) as u8).collect();
            let p = plan(shape, weights, (0..b).rev().collect());
            let mut scratch = vec![0f32; b * len];
            let joined = pair_up(&p, &mut scratch, len)
                .iter()
                .filter(|t| matches!(t, Task::Pair { .. }))
                .count();
            // Plan 2: 24 flip pairs, less the two that Keep/Paste break up.
            assert_eq!(joined, if b == 49 { 22 } else { 0 });
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    (
                        apply_to_vec(&p, &x).unwrap(),
                        apply_to_vec(&p, &xu).unwrap(),
                    )
                })
            };
            let (f1, u1) = run(1);
            let (f3, u3) = run(3);
            assert!(f1.iter().zip(&f3).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(u1, u3);
            // In place: every kind, the joined blend pairs included, writes the same bits.
            let (mut fi, mut ui) = (x.clone(), xu.clone());
            apply_in_place(&p, &mut fi).unwrap();
            apply_in_place(&p, &mut ui).unwrap();
            assert!(fi.iter().zip(&f1).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(ui, u1);
            for i in 0..b {
                let j = b - 1 - i;
                let mut o = vec![0f32; len];
                let (a, bb) = (&x[i * len..(i + 1) * len], &x[j * len..(j + 1) * len]);
                mix_sample(&shape, &p.weights[i], a, bb, &mut o);
                assert!(
                    f1[i * len..(i + 1) * len]
                        .iter()
                        .zip(&o)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "batch {b}, sample {i}"
                );
                let mut ou = vec![0u8; len];
                let (a, bb) = (&xu[i * len..(i + 1) * len], &xu[j * len..(j + 1) * len]);
                mix_sample(&shape, &p.weights[i], a, bb, &mut ou);
                assert_eq!(
                    &u1[i * len..(i + 1) * len],
                    &ou[..],
                    "batch {b}, sample {i}"
                );
            }
        }
    }
}
