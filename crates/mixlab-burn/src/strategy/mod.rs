//! Training strategies of the classification / regression task: what one step computes from the host
//! batch and its plan (the loss and, for classification, the arg-max hits). One room per strategy that
//! needs more than the plan: the model in the loop (RankMixup's extra forward), other training rows
//! (C-Mixup's partners), another model (distillation) or its own loss (DecoupleMix). The task's step
//! gathers, augments and plans the batch, asks the strategy for the loss, and takes the optimiser step;
//! the strategy never sees the optimiser.
//!
//! A strategy may draw from the step's `Mix` stream after the plan and the mixing point were drawn
//! (C-Mixup's partners, RankMixup's further plans), so a step stays a function of (seed, epoch, step).

mod adamixup;
mod adautomix;
mod alignmix;
mod attentivemix;
mod automix;
mod beatsync;
mod cmixup;
mod decouple;
mod distill;
mod guidedmix;
mod learned;
mod mixmatch;
mod mixpro;
mod plain;
mod puzzlemix;
mod rankmixup;
mod smmix;
mod snapmix;
mod tlalign;
mod tokenmix;
mod transmix;

use crate::apply::apply_flat;
use crate::config::TrainConfig;
use crate::data::{Splits, Targets};
use crate::error::{Error, Result};
use crate::models::Model;
use crate::state::AuxFile;
use burn::prelude::*;
use burn::tensor::Gradients;
use mixlab_core::methods::MethodConfig;
use mixlab_core::plan::MixPlan;
use rand::rngs::ChaCha8Rng;
use std::path::Path;

/// One step's batch as the task prepared it.
pub(crate) struct StepInput<'a> {
    pub cfg: &'a TrainConfig,
    pub data: &'a Splits,
    /// Training rows of the batch.
    pub idx: &'a [usize],
    /// The batch on the host (augmented, not yet mixed), `idx.len()` samples.
    pub xb: Vec<f32>,
    pub plan: MixPlan,
    /// The mixing point drawn for this step (0 = input).
    pub stage: usize,
    pub epoch: usize,
    /// The step's index over the whole run (0-based).
    pub iter: usize,
    /// The autodiff device.
    pub dev: &'a Device,
}

/// Where a step stands in the run: its index over all epochs (0-based) and the run's number of steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StepAt {
    pub iter: usize,
    pub total: usize,
}

/// What a training strategy does in one step, and what it keeps between steps.
///
/// The task calls [`Strategy::begin`] once per process before the first step, [`Strategy::loss`] and
/// [`Strategy::own_step`] in every step, [`Strategy::after_step`] after every optimiser step, and
/// [`Strategy::state`] whenever it writes a checkpoint. A strategy that owns modules of its own (a
/// momentum copy, a trained head) builds them in `begin`, moves them in `own_step` or `after_step` and
/// hands their weights (and optimiser state) to the checkpoint through `state`, so a resumed run
/// continues them bit for bit.
pub(crate) trait Strategy {
    /// Prepares the strategy for a run whose model is `model` (fresh or resumed); `saved` holds the
    /// files this strategy kept in the checkpoint the run resumed from (empty for a fresh run), read
    /// from `origin`.
    fn begin(&mut self, _model: &Model, saved: Vec<AuxFile>, origin: &Path) -> Result<()> {
        no_saved_files(&saved, origin)
    }

    /// The batch's loss on the autodiff device and, for classification, how many arg-max predictions hit
    /// the label the strategy scores against.
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)>;

    /// Steps the strategy's own trainable modules (SMMix's token head) at the run's learning rate, with
    /// the gradients the loss left after the model took its own; runs before the model's step.
    fn own_step(&mut self, _grads: &mut Gradients, _lr: f64) -> Result<()> {
        Ok(())
    }

    /// Runs after every optimiser step with the updated model (a momentum copy follows it here); `at`
    /// is the step just taken.
    fn after_step(&mut self, _model: &Model, _at: StepAt) -> Result<()> {
        Ok(())
    }

    /// The files the strategy keeps in a checkpoint (`aux-<name>-eK.safetensors` for weights, `.bpk`
    /// for an optimiser state).
    fn state(&self) -> Result<Vec<AuxFile>> {
        Ok(Vec::new())
    }

    /// The model the run evaluates and reports, where the strategy keeps its own (MixMatch's weight
    /// average); `None`: the trained model.
    fn eval_model(&self) -> Option<&Model> {
        None
    }
}

/// Refuses a checkpoint that holds strategy files for a strategy that keeps none.
pub(crate) fn no_saved_files(saved: &[AuxFile], origin: &Path) -> Result<()> {
    match saved.first() {
        None => Ok(()),
        Some(f) => Err(Error::ckpt(
            origin,
            format!(
                "it holds a strategy file ({}) this run's method does not keep",
                f.name
            ),
        )),
    }
}

/// The strategy a run's config asks for; `plain` is the device without autodiff (for a teacher).
pub(crate) fn for_run(
    cfg: &TrainConfig,
    data: &Splits,
    plain: &Device,
) -> Result<Box<dyn Strategy>> {
    let regression = data.is_regression();
    if cfg.kd.is_some() && regression {
        return Err(Error::Incompatible(
            "knowledge distillation needs a classification task".into(),
        ));
    }
    Ok(match (&data.train.targets, cfg.representation()) {
        (Targets::Regression { values, dim }, Some(MethodConfig::CMixup(c))) => {
            Box::new(cmixup::CMixup::new(values, *dim, c.bandwidth)?)
        }
        (Targets::Classes { .. }, Some(MethodConfig::CMixup(_))) => {
            return Err(Error::Incompatible(
                "c-mixup is a regression method (partners chosen by target distance), but this \
                 dataset's targets are class labels"
                    .into(),
            ));
        }
        (Targets::Regression { .. }, Some(MethodConfig::Puzzlemix(_))) => {
            return Err(Error::Incompatible(
                "puzzlemix is a classification method (its saliency is the gradient of the class loss)"
                    .into(),
            ));
        }
        (Targets::Regression { .. }, Some(MethodConfig::Snapmix(_))) => {
            return Err(Error::Incompatible(
                "snapmix is a classification method (its label weights are class-activation shares)"
                    .into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Snapmix(c))) => {
            Box::new(snapmix::Snapmix { cfg: c.clone() })
        }
        (Targets::Regression { .. }, Some(MethodConfig::Alignmix(_))) => {
            return Err(Error::Incompatible(
                "alignmix is a classification method (its feature maps are mixed with the labels' λ)"
                    .into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Alignmix(c))) => {
            Box::new(alignmix::Alignmix { cfg: c.clone() })
        }
        (Targets::Regression { .. }, Some(MethodConfig::Attentivemix(_))) => {
            return Err(Error::Incompatible(
                "attentivemix is a classification method (its labels are mixed by the kept share)"
                    .into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Attentivemix(c))) => {
            Box::new(attentivemix::Attentivemix::new(c, data, &cfg.model, plain)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Tokenmix(_))) => {
            return Err(Error::Incompatible(
                "tokenmix is a classification method (its labels come from class maps)".into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Tokenmix(c))) => {
            Box::new(tokenmix::Tokenmix::new(c, data, plain)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Tlalign(_))) => {
            return Err(Error::Incompatible(
                "tlalign is a classification method (its labels travel through attention)".into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Tlalign(c))) => {
            Box::new(tlalign::Tlalign::new(c, &cfg.model)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Mixpro(_))) => {
            return Err(Error::Incompatible(
                "mixpro is a classification method (its labels are weighted by attention)".into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Mixpro(c))) => {
            Box::new(mixpro::Mixpro::new(c, &cfg.model)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Adautomix(_))) => {
            return Err(Error::Incompatible(
                "adautomix is a classification method (its generator learns from mixup cross-entropy)"
                    .into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Adautomix(c))) => {
            Box::new(adautomix::Adautomix::new(c, cfg, data, plain)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Automix(_) | MethodConfig::Samix(_))) => {
            return Err(Error::Incompatible(
                "automix and samix are classification methods (their MixBlock learns from mixup \
                 cross-entropy)"
                    .into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Automix(c))) => {
            Box::new(automix::Automix::new(c, false, cfg, data, plain)?)
        }
        (Targets::Classes { .. }, Some(MethodConfig::Samix(c))) => {
            Box::new(automix::Automix::new(c, true, cfg, data, plain)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Adamixup(_))) => {
            return Err(Error::Incompatible(
                "adamixup is a classification method (its discriminator and labels are class-based)"
                    .into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Adamixup(c))) => {
            Box::new(adamixup::Adamixup::new(c, cfg, data, plain))
        }
        (Targets::Regression { .. }, Some(MethodConfig::Smmix(_))) => {
            return Err(Error::Incompatible(
                "smmix is a classification method (its labels are mixed by the token share)".into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Smmix(c))) => {
            Box::new(smmix::Smmix::new(c, cfg, data, plain)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Transmix(_))) => {
            return Err(Error::Incompatible(
                "transmix is a classification method (its labels are weighted by attention)".into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Transmix(_))) => {
            Box::new(transmix::Transmix::new(&cfg.model)?)
        }
        (Targets::Regression { .. }, Some(MethodConfig::Guidedmix(_))) => {
            return Err(Error::Incompatible(
                "guidedmix is a classification method (its labels are mixed by the saliency ratio)"
                    .into(),
            ));
        }
        (Targets::Regression { .. }, Some(MethodConfig::Mixmatch(_))) => {
            return Err(Error::Incompatible(
                "mixmatch is a classification method (it guesses class labels)".into(),
            ));
        }
        (Targets::Classes { .. }, Some(MethodConfig::Mixmatch(c))) => {
            Box::new(mixmatch::Mixmatch::new(c, data)?)
        }
        (targets, Some(MethodConfig::Beatsync(c))) => Box::new(beatsync::Beatsync {
            cfg: c.clone(),
            regression: matches!(targets, Targets::Regression { .. }),
        }),
        (Targets::Regression { .. }, _) => Box::new(plain::PlainRegression),
        (Targets::Classes { .. }, Some(MethodConfig::Guidedmix(c))) => {
            Box::new(guidedmix::Guidedmix { cfg: c.clone() })
        }
        (Targets::Classes { .. }, Some(MethodConfig::Puzzlemix(c))) => {
            Box::new(puzzlemix::Puzzlemix {
                cfg: c.clone(),
                denorm: data.train.denorm.clone(),
            })
        }
        (Targets::Classes { .. }, Some(MethodConfig::Rankmixup(rc))) => {
            Box::new(rankmixup::Rankmixup::new(rc.clone()))
        }
        (Targets::Classes { .. }, representation) => match (&cfg.kd, representation) {
            (Some(kd), _) => Box::new(distill::Distill::new(kd, data, plain)?),
            (None, Some(MethodConfig::Decouplemix(d))) => {
                Box::new(decouple::Decouple { eta: d.eta })
            }
            (None, _) => Box::new(plain::SoftTargets),
        },
    })
}

/// Labels of the batch rows.
pub(crate) fn batch_labels(data: &Splits, idx: &[usize]) -> Result<(Vec<usize>, usize)> {
    match &data.train.targets {
        Targets::Classes { labels, classes } => {
            Ok((idx.iter().map(|&i| labels[i]).collect(), *classes))
        }
        Targets::Regression { .. } => Err(Error::Incompatible(
            "a classification strategy got regression targets".into(),
        )),
    }
}

pub(crate) fn to_i64(d: TensorData) -> Result<Vec<i64>> {
    d.try_into_vec_as::<i64>()
        .map_err(|e| Error::Data(format!("{e:?}")))
}

/// Arg-max hits of `logits` against the labels `y`.
pub(crate) fn label_hits(logits: Tensor<2>, y: &[usize]) -> Result<usize> {
    let pred = to_i64(logits.argmax(1).into_data())?;
    Ok(pred
        .iter()
        .zip(y)
        .filter(|(p, y)| **p == **y as i64)
        .count())
}

/// Arg-max hits against the label with the larger weight in each mixed sample.
pub(crate) fn majority_hits(plan: &MixPlan, y: &[usize], pred: &[i64]) -> usize {
    (0..y.len())
        .filter(|&i| {
            let target = if plan.lam_label[i] >= 0.5 {
                y[i]
            } else {
                y[plan.partner[i]]
            };
            pred[i] == target as i64
        })
        .count()
}

/// Logits of a batch under its plan: a plain forward when the plan keeps every sample.
pub(crate) fn forward_planned(
    model: &Model,
    x: Tensor<3>,
    plan: &MixPlan,
    stage: usize,
) -> Result<Tensor<2>> {
    if plan
        .weights
        .iter()
        .all(|w| matches!(w, mixlab_core::plan::SampleWeight::Keep))
    {
        model.forward(x)
    } else {
        model.forward_mixed(x, stage, |f| apply_flat(plan, f))
    }
}

/// Helpers the strategies' tests share: golden-fixture parsing, PyTorch 1×1 convs as linear layers, and
/// a run's per-epoch training losses as bits.
#[cfg(test)]
pub(crate) mod test_util {
    use crate::trainer::TrainResult;
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};
    use burn::prelude::*;
    use serde_json::Value;

    /// A fixture's space-separated floats.
    pub(crate) fn f32s(v: &Value) -> Vec<f32> {
        v.as_str()
            .unwrap()
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect()
    }

    /// A fixture's array of indices.
    pub(crate) fn usizes(v: &Value) -> Vec<usize> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    }

    /// A linear layer holding PyTorch's 1×1 conv weight (out × in; Burn's is in × out) and bias.
    pub(crate) fn torch_conv1x1(
        w: Vec<f32>,
        b: Option<Vec<f32>>,
        d_in: usize,
        d_out: usize,
        dev: &Device,
    ) -> Linear {
        let wt: Vec<f32> = (0..d_in)
            .flat_map(|i| (0..d_out).map(move |o| (i, o)))
            .map(|(i, o)| w[o * d_in + i])
            .collect();
        let mut l = LinearConfig::new(d_in, d_out).init(dev);
        l.weight = Param::from_tensor(Tensor::from_data(TensorData::new(wt, [d_in, d_out]), dev));
        l.bias = b.map(|b| Param::from_tensor(Tensor::from_data(TensorData::new(b, [d_out]), dev)));
        l
    }

    /// The run's per-epoch training losses, bit for bit.
    pub(crate) fn losses(r: &TrainResult) -> Vec<u64> {
        r.curve.iter().map(|e| e.train_loss.to_bits()).collect()
    }
}
