//! TransMix (mixlab-core's `methods::transmix`): the plan's CutMix boxes are pasted, the model's forward
//! on the mixed batch gives the logits and the last block's class-token attention, and each pasted
//! sample's label weights become the mean of the box's area share and its attention share. One forward,
//! as the reference: the attention is read from the pass whose logits are scored (detached, on the host).

use super::{StepInput, Strategy, batch_labels, majority_hits, to_i64};
use crate::engine::{batch_tensor, to_f32};
use crate::error::{Error, Result};
use crate::models::{Model, ModelConfig};
use burn::prelude::*;
use mixlab_core::methods::transmix::{attention_weights, pasted_boxes};
use rand::rngs::ChaCha8Rng;

pub(crate) struct Transmix {
    /// Side of the ViT's square patches: the token grid is the image over it.
    patch: usize,
}

impl Transmix {
    pub(crate) fn new(model: &ModelConfig) -> Result<Self> {
        match model {
            ModelConfig::VitTiny(v) => Ok(Self { patch: v.patch }),
            other => Err(Error::Incompatible(format!(
                "transmix re-weights labels by a vision transformer's class-token attention: use --model \
                 vit-tiny, not {}",
                other.name()
            ))),
        }
    }
}

impl Strategy for Transmix {
    fn loss(
        &self,
        model: &Model,
        mut input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let (labels, classes) = batch_labels(input.data, input.idx)?;
        let n = labels.len();
        let mixed = mixlab_core::apply::apply_to_vec(&input.plan, &input.xb)?;
        let (out, attn) = model.forward_with_attention(batch_tensor(mixed, &shape, input.dev))?;
        let [h, w] = [shape.dims[1], shape.dims[2]];
        let plan = &mut input.plan;
        attention_weights(
            &to_f32(attn.into_data())?,
            [h / self.patch, w / self.patch],
            [h, w],
            &pasted_boxes(&plan.weights),
            &mut plan.lam_label,
        )?;
        let soft = plan.soft_targets(&labels, classes, cfg.mixer.label_smoothing)?;
        let t = Tensor::<2>::from_data(TensorData::new(soft, [n, classes]), input.dev);
        let pred = to_i64(out.clone().argmax(1).into_data())?;
        let hits = majority_hits(plan, &labels, &pred);
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::RunOptions;
    use crate::models::{ModelConfig, VitConfig};
    use crate::records::{NoProgress, Outcome};
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::{TrainResult, train};
    use mixlab_core::methods::{CutmixConfig, MethodConfig, TransmixConfig};
    use mixlab_core::mixer::MixerConfig;

    fn vit() -> ModelConfig {
        ModelConfig::VitTiny(VitConfig {
            dim: 16,
            depth: 1,
            heads: 2,
            patch: 2,
            mlp_ratio: 2,
        })
    }

    fn run(method: MethodConfig, model: ModelConfig) -> crate::error::Result<TrainResult> {
        let cfg = small_cfg()
            .with_model(model)
            .with_epochs(2)
            .with_mixer(MixerConfig::single(method));
        match train(&cfg, &toy_splits(), &RunOptions::default(), &mut NoProgress)? {
            Outcome::Finished(r) => Ok(*r),
            Outcome::Stopped { .. } => panic!("stopped"),
        }
    }

    #[test]
    fn attention_reweights_cutmix_labels_deterministically() {
        let tm = || run(MethodConfig::Transmix(TransmixConfig::default()), vit()).unwrap();
        let (a, b) = (tm(), tm());
        assert_eq!(a.final_metrics, b.final_metrics);
        // The same boxes (TransMix draws CutMix's), other label weights: another loss.
        let cut = run(MethodConfig::Cutmix(CutmixConfig::default()), vit()).unwrap();
        let losses = |r: &TrainResult| -> Vec<u64> {
            r.curve.iter().map(|e| e.train_loss.to_bits()).collect()
        };
        assert_ne!(losses(&a), losses(&cut));
        let e = run(
            MethodConfig::Transmix(TransmixConfig::default()),
            crate::supervised::tests::small_cfg().model,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("use --model vit-tiny"), "{e}");
    }
}
