//! PuzzleMix (mixlab-core's `methods::puzzlemix`): the model in the loop through its input gradients. The
//! plan gives partners and the prior λ; this step draws the batch's block count, runs the saliency pass on
//! the clean batch, lets the core cut, transport and mix, and scores the mixed batch against the realised
//! mask means with the run's class loss (soft-target cross-entropy by default, as OpenMixup; the official
//! `main.py` uses BCE on the softmax probabilities).

use super::plain::soft_target_forward;
use super::{StepInput, Strategy, batch_labels};
use crate::error::Result;
use crate::models::Model;
use crate::saliency::input_saliency;
use burn::prelude::*;
use mixlab_core::methods::PuzzlemixConfig;
use mixlab_core::methods::puzzlemix::{Denorm, Pairs};
use mixlab_core::plan::SampleWeight;
use rand::rngs::ChaCha8Rng;

pub(crate) struct Puzzlemix {
    pub cfg: PuzzlemixConfig,
    /// How the training inputs map back to raw pixels (the seam term is measured there).
    pub denorm: Option<Vec<Denorm>>,
}

impl Strategy for Puzzlemix {
    fn loss(
        &self,
        model: &Model,
        mut input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        // Drawn every step, mixed or not, so the stream does not depend on the coin.
        let blocks = self.cfg.draw_blocks(shape.dims[2], rng)?;
        if input
            .plan
            .weights
            .iter()
            .any(|w| !matches!(w, SampleWeight::Keep))
        {
            let (labels, classes) = batch_labels(input.data, input.idx)?;
            let saliency = input_saliency(model, &input.xb, &shape, &labels, classes, input.dev)?;
            let plan = &input.plan;
            let pairs = Pairs {
                shape,
                partner: &plan.partner,
                weights: &plan.weights,
                lam: &plan.lam_label,
            };
            let mixed =
                self.cfg
                    .mix(&pairs, &input.xb, &saliency, blocks, self.denorm.as_deref())?;
            input.xb = mixed.mixed;
            input.plan.lam_label = mixed.lam_label;
            // The inputs are mixed already: the forward must not apply the masks again.
            input.plan.weights.fill(SampleWeight::Keep);
        }
        let (out, t, hits) = soft_target_forward(model, input)?;
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }
}
