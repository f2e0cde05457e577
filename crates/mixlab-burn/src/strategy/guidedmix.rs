//! GuidedMixup (mixlab-core's `methods::guidedmix`): the whole batch's saliency picks the partners and
//! the pixel masks. With `saliency = sr` the maps are the images' spectral residuals (no model); with
//! `ap` they are input gradients of the class loss, from the same BatchNorm-preserving pass PuzzleMix
//! uses. When the plan's coin keeps the batch it trains on the clean batch; samples the plan keeps stay
//! unmixed inside a mixed batch.

use super::plain::soft_target_forward;
use super::{StepInput, Strategy, batch_labels};
use crate::error::Result;
use crate::models::Model;
use crate::saliency::input_saliency;
use burn::prelude::*;
use mixlab_core::methods::GuidedmixConfig;
use mixlab_core::methods::guidedmix::GuidedSaliency;
use mixlab_core::plan::SampleWeight;
use rand::rngs::ChaCha8Rng;

pub(crate) struct Guidedmix {
    pub cfg: GuidedmixConfig,
}

impl Strategy for Guidedmix {
    fn loss(
        &self,
        model: &Model,
        mut input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let keep: Vec<bool> = input
            .plan
            .weights
            .iter()
            .map(|w| matches!(w, SampleWeight::Keep))
            .collect();
        if keep.iter().any(|k| !k) {
            let saliency: Vec<f64> = match self.cfg.saliency {
                GuidedSaliency::Sr => self.cfg.sr_saliency(&input.xb, &shape)?,
                GuidedSaliency::Ap => {
                    let (labels, classes) = batch_labels(input.data, input.idx)?;
                    input_saliency(model, &input.xb, &shape, &labels, classes, input.dev)?
                        .into_iter()
                        .map(f64::from)
                        .collect()
                }
            };
            let mut mixed = self.cfg.mix(&input.xb, &shape, &saliency, rng)?;
            let per = shape.sample_len();
            for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
                mixed.mixed[i * per..(i + 1) * per]
                    .copy_from_slice(&input.xb[i * per..(i + 1) * per]);
                mixed.partner[i] = i;
                mixed.lam_label[i] = 1.0;
            }
            input.xb = mixed.mixed;
            input.plan.partner = mixed.partner;
            input.plan.lam_label = mixed.lam_label;
            // The inputs are mixed already: the forward must not apply the masks again.
            input.plan.weights.fill(SampleWeight::Keep);
        }
        let (out, t, hits) = soft_target_forward(model, input)?;
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }
}
