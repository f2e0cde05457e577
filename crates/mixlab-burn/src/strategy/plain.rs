//! The strategies a plan alone decides: soft-target classification (mixed labels, label smoothing) and
//! regression on mixed targets, at the input or at a hidden mixing point.

use super::{StepInput, Strategy, batch_labels, forward_planned, majority_hits, to_i64};
use crate::data::Targets;
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::Model;
use burn::prelude::*;
use rand::rngs::ChaCha8Rng;

/// Classification against the plan's soft targets with the configured class loss.
pub(crate) struct SoftTargets;

impl Strategy for SoftTargets {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let (out, t, hits) = soft_target_forward(model, input)?;
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }
}

/// Logits of the planned batch, its soft targets (on the device) and the majority-label hits; shared with
/// the strategies that only change the loss.
pub(crate) fn soft_target_forward(
    model: &Model,
    input: StepInput<'_>,
) -> Result<(Tensor<2>, Tensor<2>, usize)> {
    let (yb, classes) = batch_labels(input.data, input.idx)?;
    let b = input.idx.len();
    let cfg = input.cfg;
    let soft = input
        .plan
        .soft_targets(&yb, classes, cfg.mixer.label_smoothing)?;
    let t = Tensor::<2>::from_data(TensorData::new(soft, [b, classes]), input.dev);
    let shape = input.data.train.shape;
    let out = forward_planned(
        model,
        batch_tensor(input.xb, &shape, input.dev),
        &input.plan,
        input.stage,
    )?;
    let pred: Vec<i64> = to_i64(out.clone().argmax(1).into_data())?;
    let hits = majority_hits(&input.plan, &yb, &pred);
    Ok((out, t, hits))
}

/// Regression against the plan's mixed targets with the configured regression loss.
pub(crate) struct PlainRegression;

impl Strategy for PlainRegression {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let tr = &input.data.train;
        let Targets::Regression { values, dim } = &tr.targets else {
            return Err(Error::Incompatible(
                "a regression strategy got class labels".into(),
            ));
        };
        let b = input.idx.len();
        let out = forward_planned(
            model,
            batch_tensor(input.xb, &tr.shape, input.dev),
            &input.plan,
            input.stage,
        )?;
        let mut yb = Vec::with_capacity(b * dim);
        for &i in input.idx {
            yb.extend_from_slice(&values[i * dim..(i + 1) * dim]);
        }
        let t = input.plan.mix_regression(&yb, *dim)?;
        let t = Tensor::<2>::from_data(TensorData::new(t, [b, *dim]), input.dev);
        Ok((input.cfg.reg_loss.eval(out, t), None))
    }
}
