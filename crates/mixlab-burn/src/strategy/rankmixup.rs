//! RankMixup (Noh et al., ICCV'23): cross-entropy on the raw batch plus a ranking term over M mixes of it,
//! which needs the model in the loop for a second forward.

use super::{StepInput, Strategy, batch_labels, label_hits};
use crate::engine::batch_tensor;
use crate::error::Result;
use crate::models::Model;
use burn::prelude::*;
use mixlab_core::methods::RankmixupConfig;
use mixlab_core::mixer::{BatchInfo, MixerConfig};
use mixlab_core::plan::MixPlan;
use rand::rngs::ChaCha8Rng;

/// RankMixup with its configuration.
pub(crate) struct Rankmixup {
    rc: RankmixupConfig,
}

impl Rankmixup {
    pub(crate) fn new(rc: RankmixupConfig) -> Self {
        Self { rc }
    }
}

impl Strategy for Rankmixup {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let (yb, classes) = batch_labels(input.data, input.idx)?;
        let (loss, hits) = rankmixup_loss(
            model,
            &input.cfg.mixer,
            &self.rc,
            input.plan,
            &input.xb,
            &yb,
            classes,
            input.epoch,
            rng,
            input.dev,
        )?;
        Ok((loss, Some(hits)))
    }
}

/// RankMixup's objective (Noh et al., ICCV'23; cvlab-yonsei/RankMixup `RankMixup_MRL` / `RankMixup_MNDCG`):
/// cross-entropy on the raw batch plus `weight` × the ranking term over `M` mixes of it (each its own λ and
/// permutation: `first` and M − 1 more plans from the Mix stream). Returns the loss and the raw batch's hits;
/// the ranking term is [`crate::loss::rank_mixup_term`].
#[allow(clippy::too_many_arguments)]
fn rankmixup_loss(
    model: &Model,
    mixer: &MixerConfig,
    rc: &RankmixupConfig,
    first: MixPlan,
    xb: &[f32],
    yb: &[usize],
    classes: usize,
    epoch: usize,
    rng: &mut ChaCha8Rng,
    dev: &Device,
) -> Result<(Tensor<1>, usize)> {
    let shape = first.shape;
    let b = yb.len();
    let m = rc.num_mixes();
    let mut onehot = vec![0f32; b * classes];
    for (i, &y) in yb.iter().enumerate() {
        onehot[i * classes + y] = 1.0;
    }
    let z = model.forward(batch_tensor(xb.to_vec(), &shape, dev))?;
    let hits = label_hits(z.clone(), yb)?;
    let ce = crate::loss::soft_cross_entropy(
        z.clone(),
        Tensor::<2>::from_data(TensorData::new(onehot, [b, classes]), dev),
    );
    // Mix-major rows (m·B + i), as the reference stacks them; relevance = max label weight per row.
    let mut xm = Vec::with_capacity(m * xb.len());
    let mut rel = Vec::with_capacity(m * b);
    let mut plan = first;
    for k in 0..m {
        if k > 0 {
            let info = BatchInfo {
                batch: b,
                shape,
                epoch: epoch as u64,
                data: Some(xb),
            };
            plan = mixer.sample(&info, rng)?;
        }
        xm.extend(mixlab_core::apply::apply_to_vec(&plan, xb)?);
        let t = plan.soft_targets(yb, classes, 0.0)?;
        rel.extend(
            t.chunks_exact(classes)
                .map(|row| row.iter().copied().fold(0.0, f32::max)),
        );
    }
    let zm = model.forward(batch_tensor(xm, &shape, dev))?;
    let term = crate::loss::rank_mixup_term(rc.loss, rc.margin, z, zm, &rel)?;
    Ok((ce + term.mul_scalar(rc.rank_weight), hits))
}
