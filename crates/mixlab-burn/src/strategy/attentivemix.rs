//! AttentiveMix (mixlab-core's `methods::attentivemix`): a teacher's last feature map on the clean batch
//! picks each image's most attended grid cells, which are kept while the rest comes from the partner.
//! The teacher is a finished run's model (`teacher = <run>/checkpoint`, the method's pretrained network
//! replaced by a mixlab checkpoint) or, without one, a momentum copy of the model being trained that this
//! strategy owns: built when the run begins, moved after every optimiser step and kept in the checkpoint
//! (`aux-ema-eK.safetensors`). Either runs on the plain device, in eval mode, without gradients. The
//! loss is the run's class loss against the kept shares' soft targets.

use super::plain::soft_target_forward;
use super::{StepInput, Strategy};
use crate::checkpoint::load_teacher;
use crate::data::Splits;
use crate::ema::Ema;
use crate::engine::{batch_tensor, to_f32};
use crate::error::{Error, Result};
use crate::models::{Model, ModelConfig};
use crate::state::{AuxFile, AuxKind};
use burn::prelude::*;
use mixlab_core::methods::AttentivemixConfig;
use mixlab_core::methods::attentivemix::masks_into_plan;
use mixlab_core::plan::SampleWeight;
use rand::rngs::ChaCha8Rng;
use std::path::Path;

/// Name of the momentum copy's file in the checkpoint.
const EMA: &str = "ema";

enum Teacher {
    /// A finished run's model.
    Fixed(Model),
    /// The momentum copy, built in `begin`.
    Momentum(Option<Ema>),
}

pub(crate) struct Attentivemix {
    cfg: AttentivemixConfig,
    teacher: Teacher,
    plain: Device,
}

/// Whether a model has a last spatial feature map ([`Model::feature_map`]).
fn has_feature_map(m: &ModelConfig) -> bool {
    matches!(
        m,
        ModelConfig::Cnn(_) | ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_)
    )
}

impl Attentivemix {
    /// Loads the checkpoint teacher, if the config names one (it must fit the run's inputs and classes
    /// and have a spatial feature map).
    pub(crate) fn new(
        cfg: &AttentivemixConfig,
        data: &Splits,
        model: &ModelConfig,
        plain: &Device,
    ) -> Result<Self> {
        let teacher = match &cfg.teacher {
            Some(dir) => {
                let (m, tcfg) = load_teacher(dir, &data.train.shape, data.train.outputs(), plain)?;
                if !has_feature_map(&tcfg.model) {
                    return Err(Error::ckpt(
                        dir,
                        format!(
                            "attentivemix reads the teacher's last spatial feature map: the teacher is a {}, \
                             not a cnn, resnet18 or preact-resnet18",
                            tcfg.model.name()
                        ),
                    ));
                }
                Teacher::Fixed(m)
            }
            None if has_feature_map(model) => Teacher::Momentum(None),
            None => {
                return Err(Error::Incompatible(format!(
                    "attentivemix's momentum teacher is a copy of the model, which needs a spatial feature map: \
                     use cnn, resnet18 or preact-resnet18, not {}",
                    model.name()
                )));
            }
        };
        Ok(Self {
            cfg: cfg.clone(),
            teacher,
            plain: plain.clone(),
        })
    }

    fn teacher(&self) -> Result<&Model> {
        match &self.teacher {
            Teacher::Fixed(m) => Ok(m),
            Teacher::Momentum(Some(ema)) => Ok(ema.model()),
            Teacher::Momentum(None) => Err(Error::Incompatible(
                "attentivemix's momentum teacher was used before the run began".into(),
            )),
        }
    }
}

impl Strategy for Attentivemix {
    fn begin(&mut self, model: &Model, saved: Vec<AuxFile>, origin: &Path) -> Result<()> {
        let Teacher::Momentum(slot) = &mut self.teacher else {
            return match saved.first() {
                None => Ok(()),
                Some(f) => Err(Error::ckpt(
                    origin,
                    format!(
                        "it holds a {} file, but this run's teacher is a checkpoint",
                        f.name
                    ),
                )),
            };
        };
        *slot = Some(Ema::begin_single(
            model,
            self.cfg.momentum,
            saved,
            EMA,
            "attentivemix",
            origin,
        )?);
        Ok(())
    }

    fn loss(
        &self,
        model: &Model,
        mut input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let lams: Vec<f32> = input
            .plan
            .weights
            .iter()
            .map(|w| match w {
                SampleWeight::Keep => Ok(1.0),
                SampleWeight::Blend { lam } => Ok(*lam),
                other => Err(Error::Incompatible(format!(
                    "attentivemix turns one λ per sample into its mask; the plan has {other:?}"
                ))),
            })
            .collect::<Result<_>>()?;
        if input
            .plan
            .weights
            .iter()
            .any(|w| !matches!(w, SampleWeight::Keep))
        {
            let x = batch_tensor(input.xb.clone(), &shape, &self.plain);
            let fm = self.teacher()?.feature_map(x)?;
            let dims = fm.dims();
            let masks = self.cfg.masks(
                &to_f32(fm.into_data())?,
                dims,
                &lams,
                [shape.dims[1], shape.dims[2]],
            )?;
            let plan = &mut input.plan;
            masks_into_plan(&mut plan.weights, &mut plan.lam_label, masks)?;
        }
        let (out, t, hits) = soft_target_forward(model, input)?;
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }

    fn after_step(&mut self, model: &Model, _at: super::StepAt) -> Result<()> {
        match &mut self.teacher {
            Teacher::Momentum(Some(ema)) => ema.update(model),
            _ => Ok(()),
        }
    }

    fn state(&self) -> Result<Vec<AuxFile>> {
        match &self.teacher {
            Teacher::Momentum(Some(ema)) => Ok(vec![AuxFile {
                name: EMA.into(),
                kind: AuxKind::Weights,
                bytes: ema.to_bytes()?,
            }]),
            _ => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Augment, RunOptions};
    use crate::models::{ModelConfig, VitConfig};
    use crate::records::{NoProgress, Outcome};
    use crate::supervised::tests::{small_cfg, toy_regression, toy_splits};
    use crate::trainer::train;
    use mixlab_core::methods::{AttentivemixConfig, MethodConfig};
    use mixlab_core::mixer::MixerConfig;

    fn with(c: AttentivemixConfig) -> MixerConfig {
        MixerConfig::single(MethodConfig::Attentivemix(c))
    }

    #[test]
    fn a_killed_run_resumes_its_momentum_teacher_to_the_uninterrupted_numbers() {
        // k from λ on the CNN's 2×2 grid, so every step's masks depend on the momentum copy.
        let data = toy_splits();
        let cfg = small_cfg()
            .with_epochs(3)
            .with_mixer(with(AttentivemixConfig {
                momentum: 0.5,
                ..Default::default()
            }));
        let tmp = tempfile::tempdir().unwrap();
        let (full, resumed) = crate::checkpoint::tests::uninterrupted_and_resumed(
            &cfg,
            &data,
            2,
            tmp.path(),
            |dir| {
                let manifest = crate::checkpoint::read_manifest(dir).unwrap().unwrap();
                assert_eq!(manifest.aux, vec!["aux-ema-e0002.safetensors".to_string()]);
            },
        );
        assert_eq!(resumed.final_metrics, full.final_metrics);
        let losses = |r: &crate::trainer::TrainResult| -> Vec<u64> {
            r.curve.iter().map(|e| e.train_loss.to_bits()).collect()
        };
        assert_eq!(losses(&resumed), losses(&full));
        // Without its file the copy cannot be continued, and the resume is refused.
        let mut restarted = RunOptions {
            checkpoint_dir: Some(tmp.path().join("fresh")),
            resume: false,
            stop_after_epochs: Some(2),
            checkpoint_every: 1,
        };
        train(&cfg, &data, &restarted, &mut NoProgress).unwrap();
        std::fs::remove_file(tmp.path().join("fresh").join("aux-ema-e0002.safetensors")).unwrap();
        restarted.resume = true;
        restarted.stop_after_epochs = None;
        let e = train(&cfg, &data, &restarted, &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("aux-ema-e0002"), "{e}");
    }

    #[test]
    fn a_finished_run_is_the_teacher_and_unusable_setups_are_refused() {
        let data = toy_splits();
        let dir = tempfile::tempdir().unwrap();
        let teacher_dir = dir.path().join("teacher");
        let teacher = small_cfg().with_epochs(2).with_augment(Augment::None);
        let opts = RunOptions {
            checkpoint_dir: Some(teacher_dir.clone()),
            ..Default::default()
        };
        assert!(matches!(
            train(&teacher, &data, &opts, &mut NoProgress).unwrap(),
            Outcome::Finished(_)
        ));
        // small_cfg's CNN leaves a 2×2 grid of an 8×8 image: keep 2 cells.
        let cfg = small_cfg()
            .with_epochs(2)
            .with_mixer(with(AttentivemixConfig {
                teacher: Some(teacher_dir.clone()),
                top_k: Some(2),
                ..Default::default()
            }));
        let run = |cfg: &crate::config::TrainConfig| match train(
            cfg,
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap()
        {
            Outcome::Finished(r) => *r,
            Outcome::Stopped { .. } => panic!("stopped"),
        };
        let (a, b) = (run(&cfg), run(&cfg));
        assert_eq!(a.final_metrics, b.final_metrics);
        assert!(a.curve.iter().all(|e| e.train_loss.is_finite()));
        // The checkpoint teacher changes the masks, so the run differs from the momentum teacher's.
        let ema = run(&small_cfg()
            .with_epochs(2)
            .with_mixer(with(AttentivemixConfig {
                top_k: Some(2),
                ..Default::default()
            })));
        assert_ne!(ema.final_metrics, a.final_metrics);
        let refuse = |cfg: crate::config::TrainConfig, data: &crate::data::Splits, want: &str| {
            let e = train(&cfg, data, &RunOptions::default(), &mut NoProgress)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        };
        refuse(
            small_cfg().with_mixer(with(AttentivemixConfig {
                teacher: Some(dir.path().join("nothing")),
                ..Default::default()
            })),
            &data,
            "checkpoint",
        );
        refuse(
            small_cfg()
                .with_model(ModelConfig::VitTiny(VitConfig::default()))
                .with_mixer(with(AttentivemixConfig::default())),
            &data,
            "spatial feature map",
        );
        refuse(
            small_cfg().with_mixer(with(AttentivemixConfig {
                momentum: 1.0,
                ..Default::default()
            })),
            &data,
            "momentum",
        );
        refuse(
            crate::supervised::tests::mlp_cfg(MethodConfig::Attentivemix(
                AttentivemixConfig::default(),
            )),
            &toy_regression(),
            "does not support 1-D samples",
        );
    }
}
