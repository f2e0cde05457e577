//! DecoupleMix (OpenMixup's decoupled mixup loss): the mixed-label cross-entropy plus η × a term that scores
//! each source label against the logits with the other one removed; it needs the partner labels.

use super::plain::soft_target_forward;
use super::{StepInput, Strategy, batch_labels};
use crate::error::Result;
use crate::models::Model;
use burn::prelude::*;
use rand::rngs::ChaCha8Rng;

/// DecoupleMix with its η.
pub(crate) struct Decouple {
    pub eta: f64,
}

impl Strategy for Decouple {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let (yb, _) = batch_labels(input.data, input.idx)?;
        let partner_labels: Vec<usize> = input.plan.partner.iter().map(|&j| yb[j]).collect();
        let lam = input.plan.lam_label.clone();
        let (out, t, hits) = soft_target_forward(model, input)?;
        let loss = crate::loss::decoupled_mix_ce(out, t, &yb, &partner_labels, &lam, self.eta)?;
        Ok((loss, Some(hits)))
    }
}
