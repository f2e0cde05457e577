//! TL-Align (mixlab-core's `methods::tlalign`): the plan's token-aligned boxes are pasted, the model's
//! forward on the mixed batch returns the logits and every block's head-mean attention, and the token
//! labels (each token its source's label, the class token the area mix) are carried through those
//! attentions (`L ← (Ā·L + L)/2` per block) on the host; the class token's final label is the target.
//! One forward, as the reference (the attention is detached: it only moves labels).

use super::{StepInput, Strategy, batch_labels, majority_hits, to_i64};
use crate::engine::{batch_tensor, to_f32};
use crate::error::{Error, Result};
use crate::models::{Model, ModelConfig};
use burn::prelude::*;
use mixlab_core::methods::TlalignConfig;
use mixlab_core::methods::tlalign::{initial_labels, propagate};
use mixlab_core::methods::transmix::pasted_boxes;
use rand::rngs::ChaCha8Rng;

pub(crate) struct Tlalign {
    patch: usize,
}

impl Tlalign {
    pub(crate) fn new(cfg: &TlalignConfig, model: &ModelConfig) -> Result<Self> {
        match model {
            ModelConfig::VitTiny(v) if v.patch == cfg.patch => Ok(Self { patch: v.patch }),
            ModelConfig::VitTiny(v) => Err(Error::Incompatible(format!(
                "tlalign's token boxes must lie on the model's patch grid: tlalign patch {} but vit-tiny patch {}",
                cfg.patch, v.patch
            ))),
            other => Err(Error::Incompatible(format!(
                "tlalign carries labels through a vision transformer's attention: use --model vit-tiny, not {}",
                other.name()
            ))),
        }
    }
}

impl Strategy for Tlalign {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let (labels, classes) = batch_labels(input.data, input.idx)?;
        let n = labels.len();
        let plan = &input.plan;
        let mixed = mixlab_core::apply::apply_to_vec(plan, &input.xb)?;
        let (out, attns) = model.forward_block_attention(batch_tensor(mixed, &shape, input.dev))?;
        let grid = [shape.dims[1] / self.patch, shape.dims[2] / self.patch];
        let l0 = initial_labels(
            &labels,
            &plan.partner,
            &plan.lam_label,
            &pasted_boxes(&plan.weights),
            grid,
            self.patch,
            classes,
            cfg.mixer.label_smoothing,
        )?;
        let attns = attns
            .into_iter()
            .map(|a| to_f32(a.into_data()))
            .collect::<Result<Vec<_>>>()?;
        let cls = propagate(&attns, &l0, n, 1 + grid[0] * grid[1], classes)?;
        let t = Tensor::<2>::from_data(TensorData::new(cls, [n, classes]), input.dev);
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
    use mixlab_core::methods::{MethodConfig, TlalignConfig};
    use mixlab_core::mixer::MixerConfig;

    fn run(c: TlalignConfig, patch: usize) -> crate::error::Result<TrainResult> {
        let cfg = small_cfg()
            .with_model(ModelConfig::VitTiny(VitConfig {
                dim: 16,
                depth: 2,
                heads: 2,
                patch,
                mlp_ratio: 2,
            }))
            .with_epochs(2)
            .with_mixer(MixerConfig::single(MethodConfig::Tlalign(c)));
        match train(&cfg, &toy_splits(), &RunOptions::default(), &mut NoProgress)? {
            Outcome::Finished(r) => Ok(*r),
            Outcome::Stopped { .. } => panic!("stopped"),
        }
    }

    #[test]
    fn token_labels_train_deterministically_on_the_models_grid() {
        let c = TlalignConfig {
            patch: 2,
            ..Default::default()
        };
        let (a, b) = (run(c.clone(), 2).unwrap(), run(c.clone(), 2).unwrap());
        assert_eq!(a.final_metrics, b.final_metrics);
        assert!(a.curve.iter().all(|e| e.train_loss.is_finite()));
        let e = run(c, 4).unwrap_err().to_string();
        assert!(e.contains("tlalign patch 2 but vit-tiny patch 4"), "{e}");
    }
}
