//! C-Mixup (Yao et al., NeurIPS'22) for regression: each sample mixes with a training partner drawn by
//! target distance, which needs rows outside the batch.

use super::{StepInput, Strategy};
use crate::apply::apply_flat;
use crate::data::Targets;
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::Model;
use burn::prelude::*;
use mixlab_core::cmixup::CMixupSampler;
use mixlab_core::plan::MixPlan;
use rand::rngs::ChaCha8Rng;

/// C-Mixup's partner sampler over the training targets, built once per run.
pub(crate) struct CMixup {
    sampler: CMixupSampler,
}

impl CMixup {
    pub(crate) fn new(values: &[f32], dim: usize, bandwidth: f64) -> Result<Self> {
        Ok(Self {
            sampler: CMixupSampler::new(values, dim, bandwidth)?,
        })
    }
}

impl Strategy for CMixup {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let tr = &input.data.train;
        let Targets::Regression { values, dim } = &tr.targets else {
            return Err(Error::Incompatible(
                "c-mixup needs regression targets".into(),
            ));
        };
        let partners = self.sampler.partners(input.idx, rng)?;
        let b = input.idx.len();
        let (out, t) = cmixup_forward(
            model,
            &input.plan,
            input.xb,
            &tr.x,
            values,
            *dim,
            input.idx,
            &partners,
            input.stage,
            input.dev,
        )?;
        let t = Tensor::<2>::from_data(TensorData::new(t, [b, *dim]), input.dev);
        Ok((input.cfg.reg_loss.eval(out, t), None))
    }
}

/// C-Mixup's forward pass: sample i (rows `idx` of the training set) mixes with training sample
/// `partners[i]` using the plan's λ (its `Blend` weights; `Keep` stays unmixed). At the input the mix
/// happens on the host and the model sees B rows; at a hidden point the partners ride along as rows
/// B..2B so that their features exist, and only rows 0..B are returned. Returns outputs and mixed
/// targets.
#[allow(clippy::too_many_arguments)]
fn cmixup_forward(
    model: &Model,
    plan: &MixPlan,
    mut xb: Vec<f32>,
    train_x: &[f32],
    values: &[f32],
    dim: usize,
    idx: &[usize],
    partners: &[usize],
    stage: usize,
    dev: &Device,
) -> Result<(Tensor<2>, Vec<f32>)> {
    let shape = plan.shape;
    let len = shape.sample_len();
    let b = idx.len();
    let lam: Vec<Option<f32>> = plan
        .weights
        .iter()
        .map(|w| match w {
            mixlab_core::plan::SampleWeight::Blend { lam } => Some(*lam),
            mixlab_core::plan::SampleWeight::Keep => None,
            other => {
                debug_assert!(false, "c-mixup draws blends, got {other:?}");
                None
            }
        })
        .collect();
    let mut targets = Vec::with_capacity(b * dim);
    for (i, (&a, &p)) in idx.iter().zip(partners).enumerate() {
        let (ya, yp) = (
            &values[a * dim..(a + 1) * dim],
            &values[p * dim..(p + 1) * dim],
        );
        match lam[i] {
            Some(l) => targets.extend(ya.iter().zip(yp).map(|(&u, &v)| l * u + (1.0 - l) * v)),
            None => targets.extend_from_slice(ya),
        }
    }
    if stage == 0 {
        for (i, &p) in partners.iter().enumerate() {
            if let Some(l) = lam[i] {
                let src = &train_x[p * len..(p + 1) * len];
                for (o, &v) in xb[i * len..(i + 1) * len].iter_mut().zip(src) {
                    *o = l * *o + (1.0 - l) * v;
                }
            }
        }
        return Ok((model.forward(batch_tensor(xb, &shape, dev))?, targets));
    }
    for &p in partners {
        xb.extend_from_slice(&train_x[p * len..(p + 1) * len]);
    }
    let wide = MixPlan {
        shape,
        partner: (0..b).map(|i| b + i).chain(b..2 * b).collect(),
        weights: plan
            .weights
            .iter()
            .cloned()
            .chain(std::iter::repeat_n(
                mixlab_core::plan::SampleWeight::Keep,
                b,
            ))
            .collect(),
        lam_label: plan
            .lam_label
            .iter()
            .copied()
            .chain(std::iter::repeat_n(1.0, b))
            .collect(),
        method: plan
            .method
            .iter()
            .copied()
            .chain(std::iter::repeat_n(mixlab_core::methods::Method::None, b))
            .collect(),
    };
    let out = model.forward_mixed(batch_tensor(xb, &shape, dev), stage, |f| {
        apply_flat(&wide, f)
    })?;
    let outputs = out.dims()[1];
    Ok((out.slice([0..b, 0..outputs]), targets))
}
