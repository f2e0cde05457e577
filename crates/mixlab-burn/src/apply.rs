//! Device-side apply of a mixlab-core [`MixPlan`]: the same batch as `mixlab_core::apply`, built from
//! differentiable tensor ops so it also mixes hidden features (manifold mixup).
//!
//! Every sample kind reduces to one formula, `out = w ⊙ x + w̄ ⊙ p`, with `p` the partner batch
//! (`x.select(0, partner)`, one gather for the whole batch) and the weights `w`, `w̄ = 1 − w` built on
//! the host per sample and spatial position (a box is a 0/1 map, a mask is its own map, a blend is a
//! scalar). `w̄` is computed on the host in f32 exactly as the host mixer does, so Keep/Paste/Mask give
//! bit-identical results and Blend differs at most by the device's rounding. Where any sample pastes a
//! resized partner, `p` is replaced by the resized partner: per interpolation tap a gather along the
//! flattened spatial axis with host-computed indices, weighted and summed (PyTorch's
//! `align_corners=False` taps, the ones `mixlab_core::apply` uses). Boxes use the weight map rather
//! than `slice_assign`: one fused multiply-add over the batch instead of one small op per sample (the
//! primer measured the mask path faster than slice_assign for CutMix).

use crate::error::{Error, Result};
use burn::prelude::*;
use mixlab_core::plan::{Interp, MixPlan, Region, SampleWeight};

/// Mixes a batch `x` of shape N×C×(spatial) (rank 3, 4 or 5 for 1-D, 2-D, 3-D samples).
pub fn apply_plan<const D: usize>(plan: &MixPlan, x: Tensor<D>) -> Result<Tensor<D>> {
    let dims = x.dims();
    let shape = plan.shape;
    let want: Vec<usize> = [plan.len(), shape.channels]
        .into_iter()
        .chain(shape.spatial().iter().copied())
        .collect();
    if dims.as_slice() != want.as_slice() {
        return Err(Error::Incompatible(format!(
            "batch tensor has shape {dims:?} but the plan is for {want:?}"
        )));
    }
    let flat: Tensor<3> = x.reshape([plan.len(), shape.channels, shape.spatial_len()]);
    Ok(apply_flat(plan, flat)?.reshape(dims))
}

/// True when every sample is kept or blended with a scalar (the only kinds that make sense on hidden
/// features, whose layout has nothing to do with the input's boxes and masks).
pub fn is_scalar_plan(plan: &MixPlan) -> bool {
    plan.weights
        .iter()
        .all(|w| matches!(w, SampleWeight::Keep | SampleWeight::Blend { .. }))
}

/// Mixes a batch viewed as N×C×S. A scalar-only plan (see [`is_scalar_plan`]) accepts any C and S,
/// which is how hidden features are mixed; other plans need C and S to match the plan's shape.
pub fn apply_flat(plan: &MixPlan, x: Tensor<3>) -> Result<Tensor<3>> {
    plan.validate()?;
    let [n, c, s] = x.dims();
    if n != plan.len() {
        return Err(Error::SizeMismatch {
            what: "batch size of the tensor to mix",
            expected: plan.len(),
            got: n,
        });
    }
    let scalar = is_scalar_plan(plan);
    if !scalar && (c != plan.shape.channels || s != plan.shape.spatial_len()) {
        return Err(Error::Incompatible(format!(
            "plan with boxes or masks for samples {} cannot mix a {c}x{s} feature map",
            plan.shape
        )));
    }
    if plan.weights.iter().all(|w| matches!(w, SampleWeight::Keep)) {
        return Ok(x);
    }
    let device = x.device();
    let partner: Vec<i64> = plan.partner.iter().map(|&j| j as i64).collect();
    let partner = Tensor::<1, Int>::from_data(TensorData::new(partner, [n]), &device);
    let xp = x.clone().select(0, partner);
    if scalar {
        let w: Vec<f32> = plan.weights.iter().map(scalar_weight).collect();
        let w1: Vec<f32> = w.iter().map(|&v| 1.0 - v).collect();
        let w = Tensor::<3>::from_data(TensorData::new(w, [n, 1, 1]), &device);
        let w1 = Tensor::<3>::from_data(TensorData::new(w1, [n, 1, 1]), &device);
        return Ok(x * w + xp * w1);
    }
    let (w, w1) = weight_maps(plan);
    let w = Tensor::<3>::from_data(TensorData::new(w, [n, 1, s]), &device);
    let w1 = Tensor::<3>::from_data(TensorData::new(w1, [n, 1, s]), &device);
    let p = if plan
        .weights
        .iter()
        .any(|w| matches!(w, SampleWeight::PasteResized { .. }))
    {
        resized_partners(plan, xp, c)
    } else {
        xp
    };
    Ok(x * w + p * w1)
}

fn scalar_weight(w: &SampleWeight) -> f32 {
    match w {
        SampleWeight::Blend { lam } => *lam,
        _ => 1.0,
    }
}

/// Per sample and position: the weight of the sample itself and of the partner content.
fn weight_maps(plan: &MixPlan) -> (Vec<f32>, Vec<f32>) {
    let s = plan.shape.spatial_len();
    let mut w = vec![1f32; plan.len() * s];
    for (weight, row) in plan.weights.iter().zip(w.chunks_exact_mut(s)) {
        match weight {
            SampleWeight::Keep => {}
            SampleWeight::Blend { lam } => row.fill(*lam),
            SampleWeight::Paste { region } | SampleWeight::PasteResized { region, .. } => {
                for_each_in(region, plan.shape.dims, |pos, _| row[pos] = 0.0);
            }
            SampleWeight::Mask { mask } => row.copy_from_slice(mask),
        }
    }
    let w1 = w.iter().map(|&v| 1.0 - v).collect();
    (w, w1)
}

/// Calls `f(flat position, [oz, oy, ox] offset inside the region)` for every position of a region.
fn for_each_in(r: &Region, dims: [usize; 3], mut f: impl FnMut(usize, [usize; 3])) {
    let [_, h, w] = dims;
    for z in r.start[0]..r.end[0] {
        for y in r.start[1]..r.end[1] {
            for x in r.start[2]..r.end[2] {
                f(
                    (z * h + y) * w + x,
                    [z - r.start[0], y - r.start[1], x - r.start[2]],
                );
            }
        }
    }
}

/// Source taps along one axis, exactly as `mixlab_core::apply` computes them.
fn taps(input: usize, output: usize, interp: Interp) -> Vec<[(usize, f32); 2]> {
    let scale = input as f32 / output as f32;
    (0..output)
        .map(|d| match interp {
            Interp::Nearest => {
                let s = ((d as f32 * scale).floor() as usize).min(input - 1);
                [(s, 1.0), (s, 0.0)]
            }
            Interp::Linear => {
                let src = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
                let i0 = (src.floor() as usize).min(input - 1);
                let i1 = (i0 + 1).min(input - 1);
                let l = src - i0 as f32;
                [(i0, 1.0 - l), (i1, l)]
            }
        })
        .collect()
}

/// The partner batch with every PasteResized sample's region holding the resized partner.
fn resized_partners(plan: &MixPlan, xp: Tensor<3>, c: usize) -> Tensor<3> {
    let dims = plan.shape.dims;
    let [_, h, w] = dims;
    let (n, s) = (plan.len(), plan.shape.spatial_len());
    let any_linear = plan.weights.iter().any(|w| {
        matches!(
            w,
            SampleWeight::PasteResized {
                interp: Interp::Linear,
                ..
            }
        )
    });
    // Axes of extent 1 only ever have one tap, so a linear resize needs 2^(axes > 1) gathers.
    let live: Vec<usize> = (0..3).filter(|&a| dims[a] > 1).collect();
    let ntaps = if any_linear { 1usize << live.len() } else { 1 };
    // Default: each position reads itself from tap 0 with weight 1 (= the plain partner).
    let mut idx: Vec<Vec<i64>> = (0..ntaps)
        .map(|_| (0..n).flat_map(|_| 0..s as i64).collect())
        .collect();
    let mut wts: Vec<Vec<f32>> = (0..ntaps)
        .map(|t| vec![if t == 0 { 1.0 } else { 0.0 }; n * s])
        .collect();
    for (i, weight) in plan.weights.iter().enumerate() {
        let SampleWeight::PasteResized { region, interp } = weight else {
            continue;
        };
        let ext = region.extent();
        let tz = taps(dims[0], ext[0].max(1), *interp);
        let ty = taps(dims[1], ext[1].max(1), *interp);
        let tx = taps(dims[2], ext[2].max(1), *interp);
        for_each_in(region, dims, |pos, [oz, oy, ox]| {
            let axis_taps = [tz[oz], ty[oy], tx[ox]];
            for (t, (idx_t, w_t)) in idx.iter_mut().zip(wts.iter_mut()).enumerate() {
                // Bit k of t picks the second tap along the k-th live axis.
                let mut src = [0usize; 3];
                let mut wt = 1f32;
                for a in 0..3 {
                    let second = live
                        .iter()
                        .position(|&l| l == a)
                        .is_some_and(|k| t >> k & 1 == 1);
                    // An axis of extent 1 has tap 0 only, with weight 1 for either interpolation.
                    let (at, aw) = axis_taps[a][usize::from(second)];
                    src[a] = at;
                    wt *= aw;
                }
                idx_t[i * s + pos] = ((src[0] * h + src[1]) * w + src[2]) as i64;
                w_t[i * s + pos] = wt;
            }
        });
    }
    let device = xp.device();
    let mut out: Option<Tensor<3>> = None;
    for (idx_t, w_t) in idx.into_iter().zip(wts) {
        let it = Tensor::<3, Int>::from_data(TensorData::new(idx_t, [n, 1, s]), &device)
            .expand([n, c, s]);
        let wt = Tensor::<3>::from_data(TensorData::new(w_t, [n, 1, s]), &device);
        let term = xp.clone().gather(2, it) * wt;
        out = Some(match out {
            Some(acc) => acc + term,
            None => term,
        });
    }
    // ntaps >= 1, so the loop ran at least once.
    out.unwrap_or(xp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mixlab_core::apply::apply_to_vec;
    use mixlab_core::methods::{CutmixConfig, Method, MethodConfig, MixupConfig};
    use mixlab_core::mixer::{BatchInfo, MixerConfig};
    use mixlab_core::rng::{Purpose, stream};
    use mixlab_core::shape::SampleShape;
    use rand::RngExt;
    use std::sync::Arc;

    fn host_batch(n: usize, shape: SampleShape, seed: u64) -> Vec<f32> {
        let mut rng = stream(seed, Purpose::Augment, 0, 0);
        (0..n * shape.sample_len())
            .map(|_| rng.random_range(-2.0f32..2.0))
            .collect()
    }

    fn device_mix(plan: &MixPlan, x: &[f32]) -> Vec<f32> {
        let dev = Device::flex();
        let shape = plan.shape;
        let n = plan.len();
        let out = match shape.rank {
            1 => {
                let t = Tensor::<3>::from_data(
                    TensorData::new(x.to_vec(), [n, shape.channels, shape.dims[2]]),
                    &dev,
                );
                apply_plan(plan, t).unwrap().into_data()
            }
            2 => {
                let t = Tensor::<4>::from_data(
                    TensorData::new(
                        x.to_vec(),
                        [n, shape.channels, shape.dims[1], shape.dims[2]],
                    ),
                    &dev,
                );
                apply_plan(plan, t).unwrap().into_data()
            }
            _ => {
                let [d, h, w] = shape.dims;
                let t = Tensor::<5>::from_data(
                    TensorData::new(x.to_vec(), [n, shape.channels, d, h, w]),
                    &dev,
                );
                apply_plan(plan, t).unwrap().into_data()
            }
        };
        out.try_into_vec_as::<f32>().unwrap()
    }

    fn hand_plan(shape: SampleShape) -> MixPlan {
        let [d, h, w] = shape.dims;
        let region = Region {
            start: [d / 3, h / 4, w / 3],
            end: [d, h - h / 4, w - 1],
        };
        let mut mrng = stream(3, Purpose::Mix, 0, 0);
        let mask: Arc<[f32]> = (0..shape.spatial_len())
            .map(|_| mrng.random::<f32>())
            .collect();
        let weights = vec![
            SampleWeight::Keep,
            SampleWeight::Blend { lam: 0.3 },
            SampleWeight::Paste { region },
            SampleWeight::PasteResized {
                region,
                interp: Interp::Nearest,
            },
            SampleWeight::PasteResized {
                region,
                interp: Interp::Linear,
            },
            SampleWeight::Mask { mask },
            SampleWeight::Blend { lam: 0.9 },
        ];
        let b = weights.len();
        MixPlan {
            shape,
            partner: vec![3, 2, 0, 6, 1, 4, 5],
            weights,
            lam_label: vec![0.5; b],
            method: vec![Method::Mixup; b],
        }
    }

    #[test]
    fn matches_host_apply_for_every_kind_and_rank() {
        for shape in [
            SampleShape::d1(2, 13).unwrap(),
            SampleShape::d2(3, 7, 9).unwrap(),
            SampleShape::d3(2, 4, 5, 6).unwrap(),
        ] {
            let plan = hand_plan(shape);
            let x = host_batch(plan.len(), shape, 9);
            let want = apply_to_vec(&plan, &x).unwrap();
            let got = device_mix(&plan, &x);
            let worst = want
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst <= 1e-6, "{shape}: max |diff| {worst}");
        }
    }

    #[test]
    fn matches_host_apply_for_sampled_mixup_and_cutmix() {
        let shape = SampleShape::d2(3, 8, 10).unwrap();
        for (k, cfg) in [
            MethodConfig::Mixup(MixupConfig::default()),
            MethodConfig::Cutmix(CutmixConfig::default()),
        ]
        .into_iter()
        .enumerate()
        {
            for step in 0..4 {
                let mixer = MixerConfig::single(cfg.clone())
                    .with_granularity(mixlab_core::mixer::Granularity::Elem);
                let info = BatchInfo {
                    batch: 5,
                    shape,
                    epoch: 0,
                    data: None,
                };
                let plan = mixer
                    .sample(&info, &mut stream(k as u64, Purpose::Mix, 0, step))
                    .unwrap();
                let x = host_batch(5, shape, step);
                let want = apply_to_vec(&plan, &x).unwrap();
                let got = device_mix(&plan, &x);
                for (a, b) in want.iter().zip(&got) {
                    assert!((a - b).abs() <= 1e-6, "{cfg:?} step {step}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn gradients_flow_to_the_input() {
        let dev = Device::flex().autodiff();
        let shape = SampleShape::d2(2, 5, 6).unwrap();
        let plan = hand_plan(shape);
        let x = host_batch(plan.len(), shape, 1);
        let t =
            Tensor::<4>::from_data(TensorData::new(x, [plan.len(), 2, 5, 6]), &dev).require_grad();
        let y = apply_plan(&plan, t.clone()).unwrap();
        let grads = (y.clone() * y).sum().backward();
        let g = t.grad(&grads).expect("input has a gradient");
        let total: f32 = g.abs().sum().into_scalar();
        assert!(total.is_finite() && total > 0.0, "{total}");
    }

    #[test]
    fn rejects_wrong_shapes_and_accepts_scalar_plans_on_features() {
        let dev = Device::flex();
        let shape = SampleShape::d2(2, 5, 6).unwrap();
        let plan = hand_plan(shape);
        let t = Tensor::<4>::zeros([plan.len(), 2, 5, 7], &dev);
        assert!(apply_plan(&plan, t).is_err());
        let t = Tensor::<3>::zeros([plan.len(), 4, 3], &dev);
        assert!(apply_flat(&plan, t).is_err());
        let mut scalar = plan.clone();
        scalar.weights = vec![SampleWeight::Blend { lam: 0.25 }; plan.len()];
        let t = Tensor::<3>::ones([plan.len(), 4, 3], &dev);
        let out: Vec<f32> = apply_flat(&scalar, t)
            .unwrap()
            .into_data()
            .try_into_vec_as()
            .unwrap();
        assert!(out.iter().all(|&v| (v - 1.0).abs() < 1e-7));
    }
}
