//! TokenMix (mixlab-core's `methods::tokenmix`): the plan's token masks are applied, and the label
//! weights come from a teacher's dense class maps: the class activation maps of a finished ResNet run at
//! each image's own label (a no-grad, eval-mode pass on the clean batch, plain device), made
//! non-negative and summed over each token's pixels. The loss is the run's class loss against
//! `y1·ẏ_a + y2·ẏ_b`; samples the plan keeps get their usual targets.

use super::snapmix::own_class_percent_maps;
use super::{StepInput, Strategy, batch_labels, forward_planned, majority_hits, to_i64};
use crate::checkpoint::load_teacher;
use crate::data::Splits;
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::{Model, ModelConfig};
use burn::prelude::*;
use mixlab_core::methods::TokenmixConfig;
use mixlab_core::methods::tokenmix::token_targets;
use mixlab_core::plan::SampleWeight;
use rand::rngs::ChaCha8Rng;

pub(crate) struct Tokenmix {
    cfg: TokenmixConfig,
    teacher: Model,
    plain: Device,
}

impl Tokenmix {
    pub(crate) fn new(cfg: &TokenmixConfig, data: &Splits, plain: &Device) -> Result<Self> {
        let dir = cfg.teacher.as_ref().ok_or_else(|| {
            Error::Incompatible(
                "tokenmix takes its label maps from a teacher: give --teacher <run>/checkpoint of a finished \
                 resnet18 or preact-resnet18 run"
                    .into(),
            )
        })?;
        let (teacher, tcfg) = load_teacher(dir, &data.train.shape, data.train.outputs(), plain)?;
        if !matches!(
            tcfg.model,
            ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_)
        ) {
            return Err(Error::ckpt(
                dir,
                format!(
                    "tokenmix's label maps are class activation maps, which need a resnet18 or \
                     preact-resnet18 teacher, not a {}",
                    tcfg.model.name()
                ),
            ));
        }
        Ok(Self {
            cfg: cfg.clone(),
            teacher,
            plain: plain.clone(),
        })
    }
}

impl Strategy for Tokenmix {
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
        let [h, w] = [shape.dims[1], shape.dims[2]];
        let p = self.cfg.patch;
        let [gh, gw] = self.cfg.grid(&shape);
        let mut soft = plan.soft_targets(&labels, classes, cfg.mixer.label_smoothing)?;
        if plan
            .weights
            .iter()
            .any(|w| !matches!(w, SampleWeight::Keep))
        {
            let x = batch_tensor(input.xb.clone(), &shape, &self.plain);
            let percent = own_class_percent_maps(&self.teacher, x, &labels, classes, [h, w])?;
            // Per sample, its own-class map summed over each token (uniform where the map is flat).
            let mut maps = vec![1f32; n * gh * gw];
            for (i, m) in percent.into_iter().enumerate() {
                let Some(m) = m else { continue };
                for r in 0..gh {
                    for q in 0..gw {
                        let s: f64 = (r * p..(r + 1) * p)
                            .flat_map(|y| (q * p..(q + 1) * p).map(move |x| y * w + x))
                            .map(|k| m[k])
                            .sum();
                        maps[i * gh * gw + r * gw + q] = s as f32;
                    }
                }
            }
            let masked: Vec<Vec<bool>> = plan
                .weights
                .iter()
                .map(|wt| {
                    (0..gh * gw)
                        .map(|t| match wt {
                            SampleWeight::Mask { mask } => {
                                mask[(t / gw) * p * w + (t % gw) * p] == 0.0
                            }
                            _ => false,
                        })
                        .collect()
                })
                .collect();
            let t = token_targets(
                &maps,
                &masked,
                &labels,
                &plan.partner,
                classes,
                cfg.mixer.label_smoothing,
            )?;
            for (i, wt) in plan.weights.iter().enumerate() {
                if !matches!(wt, SampleWeight::Keep) {
                    soft[i * classes..(i + 1) * classes]
                        .copy_from_slice(&t[i * classes..(i + 1) * classes]);
                }
            }
        }
        let t = Tensor::<2>::from_data(TensorData::new(soft, [n, classes]), input.dev);
        let out = forward_planned(model, batch_tensor(input.xb, &shape, input.dev), plan, 0)?;
        let pred = to_i64(out.clone().argmax(1).into_data())?;
        let hits = majority_hits(plan, &labels, &pred);
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Augment, RunOptions};
    use crate::models::{ModelConfig, ResNetConfig};
    use crate::records::{NoProgress, Outcome};
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::{TrainResult, train};
    use mixlab_core::methods::{MethodConfig, TokenmixConfig};
    use mixlab_core::mixer::MixerConfig;

    #[test]
    fn a_resnet_teacher_labels_the_token_masks_of_any_student() {
        let data = toy_splits();
        let dir = tempfile::tempdir().unwrap();
        let teacher_dir = dir.path().join("teacher");
        let teacher = small_cfg()
            .with_model(ModelConfig::Resnet18(ResNetConfig { width: 4 }))
            .with_epochs(1)
            .with_augment(Augment::None);
        let opts = RunOptions {
            checkpoint_dir: Some(teacher_dir.clone()),
            ..Default::default()
        };
        assert!(matches!(
            train(&teacher, &data, &opts, &mut NoProgress).unwrap(),
            Outcome::Finished(_)
        ));
        let with = |t: Option<std::path::PathBuf>| {
            small_cfg()
                .with_epochs(2)
                .with_mixer(MixerConfig::single(MethodConfig::Tokenmix(
                    TokenmixConfig {
                        patch: 2,
                        teacher: t,
                        ..Default::default()
                    },
                )))
        };
        let run = |cfg: &crate::config::TrainConfig| -> crate::error::Result<TrainResult> {
            match train(cfg, &data, &RunOptions::default(), &mut NoProgress)? {
                Outcome::Finished(r) => Ok(*r),
                Outcome::Stopped { .. } => panic!("stopped"),
            }
        };
        let cfg = with(Some(teacher_dir));
        let (a, b) = (run(&cfg).unwrap(), run(&cfg).unwrap());
        assert_eq!(a.final_metrics, b.final_metrics);
        assert!(a.curve.iter().all(|e| e.train_loss.is_finite()));
        let e = run(&with(None)).unwrap_err().to_string();
        assert!(e.contains("give --teacher"), "{e}");
    }
}
