//! What decides a training run (`TrainConfig`, distillation, augmentation) and how it keeps its
//! checkpoints (`RunOptions`): plain data, checked by `TrainConfig::validate`.

use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::loss::{ClassLoss, RegLoss};
use crate::models::ModelConfig;
use crate::optim::{OptimizerConfig, Schedule, SchedulePer};
use mixlab_core::methods::MethodConfig;
use mixlab_core::mixer::MixerConfig;
use mixlab_core::shape::SampleShape;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Host-side augmentation before mixing: crop-flip for images, gain-shift-noise for waveforms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Augment {
    /// No augmentation: the samples as loaded (default).
    #[default]
    None,
    /// Random crop after zero-padding 4 pixels on each side, then a horizontal flip with p = 0.5 (the
    /// CIFAR recipe of the mixup papers).
    CropFlip,
    /// Waveforms: gain uniform in ±6 dB, a time shift uniform in ±10 % of the clip (no wrap-around) and
    /// white noise at 15–30 dB SNR, per sample.
    Wave,
}

/// Everything that decides a training run. Defaults: small CNN, 10 epochs, batch 128, lr 0.1, SGD
/// momentum 0.9, cosine schedule, no warm-up, weight decay 5e-4, seed 0, no mixing, input-level only,
/// no augmentation, soft CE / MSE, eval batch 512, CPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// The network to train (default the small CNN).
    pub model: ModelConfig,
    /// Epochs to train (≥ 1; default 10).
    pub epochs: usize,
    /// Training samples per step (in 1..=[`MAX_BATCH`]; default 128); an epoch's last batch may be smaller.
    pub batch_size: usize,
    /// Base (peak) learning rate, which the schedule and warm-up scale (finite, > 0; default 0.1).
    pub lr: f64,
    /// The optimiser and its hyper-parameters (default SGD, momentum 0.9).
    pub optimizer: OptimizerConfig,
    /// Shape of the learning-rate curve after warm-up (default cosine).
    pub schedule: Schedule,
    /// Whether the schedule (and warm-up) advances per step or per epoch (default per step).
    pub schedule_per: SchedulePer,
    /// Linear warm-up length in epochs.
    pub warmup_epochs: usize,
    /// timm's warm-up: linear from this rate at t = 0 to the base rate at t = warm-up length. `None`
    /// (default): mixlab's `base·(t+1)/W`, which reaches the base rate on the last warm-up step. Either way
    /// the cosine then spans the steps after warm-up (timm's `warmup_prefix=True`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_lr_init: Option<f64>,
    /// Weight decay (finite, ≥ 0; default 5e-4; 0 disables it): L2 on the gradient for SGD, decoupled for
    /// AdamW.
    pub weight_decay: f64,
    /// Seed of every random stream of the run (init, shuffle, mixing, augmentation) and of Burn's RNG
    /// (default 0).
    pub seed: u64,
    /// How batches are mixed: the methods, their weights, probability and label smoothing (default no
    /// mixing). A training-level method ([`representation`](Self::representation)) must be its only one.
    pub mixer: MixerConfig,
    /// Manifold mixup: the mixing points to draw from (uniformly, per step, from the Mix stream);
    /// `None` mixes the input (point 0).
    pub mix_at: Option<Vec<usize>>,
    /// Host-side augmentation before mixing (default none; crop-flip needs 2-D samples).
    pub augment: Augment,
    /// Loss of classification runs against the (mixed) soft targets (default soft cross-entropy).
    pub class_loss: ClassLoss,
    /// Loss of regression runs (default MSE).
    pub reg_loss: RegLoss,
    /// Samples per forward pass when evaluating or predicting (in 1..=[`MAX_BATCH`]; default 512).
    pub eval_batch_size: usize,
    /// The curve's test-split entries are evaluated in the last `test_last` epochs (default 10: the window
    /// of OpenMixup's median-of-the-last-10 protocol) and every `test_every` epochs (default 0: no others).
    /// Validation is evaluated every epoch; the final metrics always use the test split.
    pub test_last: usize,
    /// See [`test_last`](Self::test_last): also evaluate the test split after every `test_every`-th epoch
    /// (0: only in the last `test_last`).
    pub test_every: usize,
    /// Where the run's tensors live (default CPU).
    pub device: DeviceKind,
    /// Knowledge distillation: a finished run's teacher gives the targets on the mixed inputs.
    pub kd: Option<KdConfig>,
    /// Online class-incremental learning: the classes arrive as tasks, each seen once, with a replay
    /// buffer (`None`: every class from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continual: Option<ContinualConfig>,
}

/// An online class-incremental run (experience replay, ER): `tasks` tasks of consecutive classes, each an
/// epoch over its own training samples in stream batches of `batch_size`, each batch trained together with
/// `replay_batch` samples drawn from a reservoir buffer of `buffer` samples.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContinualConfig {
    /// Tasks (default 5: 2 classes each for 10 classes); the run's `epochs` must equal it.
    pub tasks: usize,
    /// Replay buffer size in samples (default 500).
    pub buffer: usize,
    /// Replayed samples per step (default 10, as the stream batch of the online literature).
    pub replay_batch: usize,
}

impl Default for ContinualConfig {
    fn default() -> Self {
        Self {
            tasks: 5,
            buffer: 500,
            replay_batch: 10,
        }
    }
}

/// Mixup in knowledge distillation: the student is trained on the mixed inputs against the teacher's
/// temperature-softened outputs on the same inputs (Hinton et al. 2015; "function matching" on mixed
/// images, Beyer et al. CVPR'22): `w·T²·CE(softmax(t/T), log_softmax(s/T)) + (1 − w)·CE(mixed labels, s)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdConfig {
    /// Checkpoint folder of the teacher's finished run (`<run>/checkpoint`).
    pub teacher: PathBuf,
    /// Softening temperature T (> 0; default 4).
    #[serde(default = "default_kd_temperature")]
    pub temperature: f64,
    /// Weight w of the distillation term (in [0, 1]; default 1: the teacher alone, as in function matching).
    #[serde(default = "default_kd_weight")]
    pub weight: f64,
}

fn default_kd_temperature() -> f64 {
    4.0
}

fn default_kd_weight() -> f64 {
    1.0
}

impl KdConfig {
    /// A teacher checkpoint with the default temperature and weight.
    pub fn new(teacher: PathBuf) -> Self {
        Self {
            teacher,
            temperature: default_kd_temperature(),
            weight: default_kd_weight(),
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::param(
                "kd temperature",
                "a finite number > 0",
                self.temperature,
            ));
        }
        if !(self.weight.is_finite() && (0.0..=1.0).contains(&self.weight)) {
            return Err(Error::param("kd weight", "in [0, 1]", self.weight));
        }
        Ok(())
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: ModelConfig::default(),
            epochs: 10,
            batch_size: 128,
            lr: 0.1,
            optimizer: OptimizerConfig::default(),
            schedule: Schedule::Cosine,
            schedule_per: SchedulePer::Step,
            warmup_epochs: 0,
            warmup_lr_init: None,
            weight_decay: 5e-4,
            seed: 0,
            mixer: MixerConfig::default(),
            mix_at: None,
            augment: Augment::None,
            class_loss: ClassLoss::SoftCe,
            reg_loss: RegLoss::Mse,
            eval_batch_size: 512,
            test_last: DEFAULT_TEST_LAST,
            test_every: 0,
            device: DeviceKind::Cpu,
            kd: None,
            continual: None,
        }
    }
}

impl TrainConfig {
    /// A continual run trains with ER (method `none`) or DualMix, one epoch per task; DualMix needs one.
    fn validate_continual(&self) -> Result<()> {
        let dualmix = matches!(self.representation(), Some(MethodConfig::Dualmix(_)));
        let Some(c) = &self.continual else {
            return match dualmix {
                true => Err(Error::Incompatible(
                    "dualmix is a continual method: set continual (mixlab train --tasks N)".into(),
                )),
                false => Ok(()),
            };
        };
        if c.tasks < 2 || c.buffer == 0 || c.replay_batch == 0 {
            return Err(Error::param(
                "continual",
                "at least 2 tasks, a buffer of 1 or more and a replay batch of 1 or more",
                format!("{c:?}"),
            ));
        }
        if self.epochs != c.tasks {
            return Err(Error::Incompatible(format!(
                "a continual run passes once over each task: epochs must equal tasks ({}), got {}",
                c.tasks, self.epochs
            )));
        }
        let plain = self
            .mixer
            .methods
            .iter()
            .all(|m| matches!(m.config, MethodConfig::None | MethodConfig::Dualmix(_)));
        if !plain || self.mix_at.is_some() || self.kd.is_some() {
            return Err(Error::Incompatible(
                "a continual run trains with experience replay (method none) or dualmix, without mix_at \
                 or distillation"
                    .into(),
            ));
        }
        Ok(())
    }

    /// True when the run trains an embedding (Metrix, MI-Mix, ProxyDet, SupReMix) rather than a classifier or
    /// regressor.
    pub fn trains_embedding(&self) -> bool {
        self.representation()
            .is_some_and(|m| m.embedding_task().is_some() || matches!(m, MethodConfig::Supremix(_)))
    }
}

impl TrainConfig {
    /// Sets [`model`](Self::model).
    pub fn with_model(mut self, m: ModelConfig) -> Self {
        self.model = m;
        self
    }
    /// Sets [`epochs`](Self::epochs).
    pub fn with_epochs(mut self, e: usize) -> Self {
        self.epochs = e;
        self
    }
    /// Sets [`batch_size`](Self::batch_size).
    pub fn with_batch_size(mut self, b: usize) -> Self {
        self.batch_size = b;
        self
    }
    /// Sets the base learning rate [`lr`](Self::lr).
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }
    /// Sets [`optimizer`](Self::optimizer).
    pub fn with_optimizer(mut self, o: OptimizerConfig) -> Self {
        self.optimizer = o;
        self
    }
    /// Sets [`schedule`](Self::schedule).
    pub fn with_schedule(mut self, s: Schedule) -> Self {
        self.schedule = s;
        self
    }
    /// Sets [`warmup_epochs`](Self::warmup_epochs).
    pub fn with_warmup_epochs(mut self, w: usize) -> Self {
        self.warmup_epochs = w;
        self
    }
    /// Sets [`weight_decay`](Self::weight_decay).
    pub fn with_weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = wd;
        self
    }
    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// Sets [`mixer`](Self::mixer).
    pub fn with_mixer(mut self, m: MixerConfig) -> Self {
        self.mixer = m;
        self
    }
    /// Sets [`mix_at`](Self::mix_at) (`None`: mix the input).
    pub fn with_mix_at(mut self, m: Option<Vec<usize>>) -> Self {
        self.mix_at = m;
        self
    }
    /// Sets [`augment`](Self::augment).
    pub fn with_augment(mut self, a: Augment) -> Self {
        self.augment = a;
        self
    }
    /// Sets [`device`](Self::device).
    pub fn with_device(mut self, d: DeviceKind) -> Self {
        self.device = d;
        self
    }

    /// Whether the curve evaluates the test split after `epoch` (0-based).
    pub fn tests_after(&self, epoch: usize) -> bool {
        epoch + self.test_last >= self.epochs
            || (self.test_every > 0 && (epoch + 1).is_multiple_of(self.test_every))
    }

    /// Learning rate of step `k` of `epoch` with `steps` steps per epoch (schedule, `schedule_per`, warm-up).
    pub fn lr_at(&self, epoch: usize, k: usize, steps: usize) -> f64 {
        let (t, total, warm, per_epoch) = match self.schedule_per {
            SchedulePer::Step => (
                epoch * steps + k,
                steps * self.epochs,
                steps * self.warmup_epochs,
                steps,
            ),
            SchedulePer::Epoch => (epoch, self.epochs, self.warmup_epochs, 1),
        };
        match self.warmup_lr_init {
            Some(init) if t < warm => init + t as f64 * (self.lr - init) / warm as f64,
            _ => self.schedule.lr_at(self.lr, t, total, warm, per_epoch),
        }
    }

    /// The run's training-level method (ManifoldMix, C-Mixup, DecoupleMix), if the mixer has one.
    pub fn representation(&self) -> Option<&MethodConfig> {
        self.mixer
            .methods
            .iter()
            .map(|m| &m.config)
            .find(|c| !c.method().is_input_level())
    }

    /// The mixing points a step draws from: the method's `layers`, else `mix_at`; `None` = the input.
    pub fn mix_points(&self) -> Option<&[usize]> {
        match self.representation() {
            Some(MethodConfig::Manifoldmix(c)) => Some(&c.layers),
            Some(MethodConfig::CMixup(c)) => Some(&c.layers),
            Some(MethodConfig::Mimix(c)) => Some(&c.layers),
            _ => self.mix_at.as_deref(),
        }
    }

    /// Checks the config against the data before any work starts.
    pub fn validate(&self, shape: &SampleShape, outputs: usize) -> Result<()> {
        self.model.validate(shape, outputs)?;
        self.validate_continual()?;
        self.mixer.validate(shape)?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        if self.epochs == 0 {
            return Err(Error::param("epochs", ">= 1", 0));
        }
        // The batch is assembled in memory before anything else happens: cap it (as `plan --batch`).
        for (name, v) in [
            ("batch size", self.batch_size),
            ("eval batch size", self.eval_batch_size),
        ] {
            if !(1..=MAX_BATCH).contains(&v) {
                return Err(Error::param(name, "in 1..=65536", v));
            }
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::param(
                "learning rate",
                "a finite number > 0",
                self.lr,
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::param(
                "weight decay",
                "a finite number >= 0",
                self.weight_decay,
            ));
        }
        if let Some(init) = self.warmup_lr_init
            && !(init.is_finite() && init >= 0.0)
        {
            return Err(Error::param(
                "warm-up start rate",
                "a finite number >= 0",
                init,
            ));
        }
        if self.warmup_epochs > self.epochs {
            return Err(Error::param(
                "warm-up epochs",
                "at most the number of epochs",
                self.warmup_epochs,
            ));
        }
        if self.augment == Augment::CropFlip && shape.rank != 2 {
            return Err(Error::Incompatible(format!(
                "crop-flip augmentation needs 2-D samples, got {shape}"
            )));
        }
        if self.augment == Augment::Wave && shape.rank != 1 {
            return Err(Error::Incompatible(format!(
                "wave augmentation needs 1-D samples (waveforms), got {shape}"
            )));
        }
        if let Some(rep) = self.representation() {
            let name = rep.method().name();
            if self.mixer.methods.len() > 1 {
                return Err(Error::Incompatible(format!(
                    "{name} must be the run's only method (it is combined with {} others)",
                    self.mixer.methods.len() - 1
                )));
            }
            if self.mix_at.is_some()
                && matches!(
                    rep,
                    MethodConfig::Manifoldmix(_)
                        | MethodConfig::CMixup(_)
                        | MethodConfig::Mimix(_)
                        | MethodConfig::Metrix(_)
                        | MethodConfig::Proxydet(_)
                        | MethodConfig::Supremix(_)
                )
            {
                return Err(Error::Incompatible(format!(
                    "{name} takes its mixing points from its own `layers` / `level`; do not also set mix_at"
                )));
            }
            if self.mix_at.is_some() && matches!(rep, MethodConfig::Rankmixup(_)) {
                return Err(Error::Incompatible(
                    "rankmixup mixes inputs (the reference's layer_mix = 0): drop mix_at".into(),
                ));
            }
            if self.mix_at.is_some() && matches!(rep, MethodConfig::Puzzlemix(_)) {
                return Err(Error::Incompatible(
                    "puzzlemix mixes inputs (its masks live on the image's block grid): drop mix_at"
                        .into(),
                ));
            }
            if matches!(rep, MethodConfig::Snapmix(_))
                && !matches!(
                    self.model,
                    ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_)
                )
            {
                return Err(Error::Incompatible(format!(
                    "snapmix forms class activation maps, which need global average pooling before a linear \
                     head: use --model resnet18 or preact-resnet18, not {}",
                    self.model.name()
                )));
            }
            if matches!(rep, MethodConfig::Alignmix(_))
                && !matches!(
                    self.model,
                    ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_) | ModelConfig::Cnn(_)
                )
            {
                return Err(Error::Incompatible(format!(
                    "alignmix aligns the positions of the last spatial feature map: use --model resnet18, \
                     preact-resnet18 or cnn, not {}",
                    self.model.name()
                )));
            }
            if matches!(rep, MethodConfig::Attentivemix(_))
                && !matches!(
                    self.model,
                    ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_) | ModelConfig::Cnn(_)
                )
            {
                return Err(Error::Incompatible(format!(
                    "attentivemix reads a teacher's last spatial feature map: use --model resnet18, \
                     preact-resnet18 or cnn, not {}",
                    self.model.name()
                )));
            }
            if matches!(
                rep,
                MethodConfig::Transmix(_)
                    | MethodConfig::Mixpro(_)
                    | MethodConfig::Tlalign(_)
                    | MethodConfig::Smmix(_)
            ) && !matches!(self.model, ModelConfig::VitTiny(_))
            {
                return Err(Error::Incompatible(format!(
                    "{name} reads a vision transformer's attention: use --model vit-tiny, not {}",
                    self.model.name()
                )));
            }
            if matches!(rep, MethodConfig::Mixpro(c) if c.pal)
                && self.class_loss != crate::loss::ClassLoss::SoftCe
            {
                return Err(Error::Incompatible(
                    "mixpro's attention labelling trains with cross-entropy (the reference's): use class_loss \
                     soft-ce or pal = false"
                        .into(),
                ));
            }
            if self.mix_at.is_some() && matches!(rep, MethodConfig::Alignmix(_)) {
                return Err(Error::Incompatible(
                    "alignmix picks its own mixing point (the input or the last feature map): drop mix_at"
                        .into(),
                ));
            }
            if self.mix_at.is_some()
                && matches!(
                    rep,
                    MethodConfig::Guidedmix(_)
                        | MethodConfig::Snapmix(_)
                        | MethodConfig::Attentivemix(_)
                        | MethodConfig::Transmix(_)
                        | MethodConfig::Mixpro(_)
                        | MethodConfig::Tlalign(_)
                        | MethodConfig::Tokenmix(_)
                        | MethodConfig::Smmix(_)
                        | MethodConfig::Adamixup(_)
                        | MethodConfig::Automix(_)
                        | MethodConfig::Samix(_)
                        | MethodConfig::Adautomix(_)
                        | MethodConfig::Beatsync(_)
                        | MethodConfig::Mixmatch(_)
                )
            {
                return Err(Error::Incompatible(format!(
                    "{name} mixes inputs (its masks come from the images): drop mix_at"
                )));
            }
            if self.mixer.label_smoothing > 0.0
                && matches!(
                    rep,
                    MethodConfig::Decouplemix(_) | MethodConfig::Rankmixup(_)
                )
            {
                return Err(Error::Incompatible(format!(
                    "{name} reads the classes of each mixed pair from the targets: label smoothing must be 0"
                )));
            }
        }
        if let Some(kd) = &self.kd {
            kd.validate()?;
            if self.mix_points().is_some_and(|p| p.iter().any(|&k| k > 0)) {
                return Err(Error::Incompatible(
                    "knowledge distillation mixes inputs only: the teacher must see the student's inputs \
                     (drop mix_at / layers above 0)"
                        .into(),
                ));
            }
            if matches!(
                self.representation(),
                Some(
                    MethodConfig::Decouplemix(_)
                        | MethodConfig::CMixup(_)
                        | MethodConfig::Puzzlemix(_)
                        | MethodConfig::Guidedmix(_)
                        | MethodConfig::Snapmix(_)
                        | MethodConfig::Alignmix(_)
                        | MethodConfig::Attentivemix(_)
                        | MethodConfig::Transmix(_)
                        | MethodConfig::Mixpro(_)
                        | MethodConfig::Tlalign(_)
                        | MethodConfig::Tokenmix(_)
                        | MethodConfig::Smmix(_)
                        | MethodConfig::Adamixup(_)
                        | MethodConfig::Automix(_)
                        | MethodConfig::Samix(_)
                        | MethodConfig::Adautomix(_)
                        | MethodConfig::Beatsync(_)
                        | MethodConfig::Mixmatch(_)
                )
            ) {
                return Err(Error::Incompatible(
                    "knowledge distillation replaces the loss: use it with an input-level method"
                        .into(),
                ));
            }
        }
        if let Some(stages) = self.mix_points() {
            let points = self.model.num_mix_points();
            if stages.is_empty() {
                return Err(Error::param(
                    "mix_at",
                    "a non-empty set of mixing points",
                    "[]",
                ));
            }
            if let Some(&k) = stages.iter().find(|&&k| k >= points) {
                return Err(Error::param(
                    "mixing layer",
                    "below the model's number of mixing points (0 = input)",
                    format!(
                        "{k}, past the depth of {} (mixing points 0..={})",
                        self.model.name(),
                        points - 1
                    ),
                ));
            }
            let scalar_only = self.mixer.methods.iter().all(|m| match &m.config {
                MethodConfig::Mixup(_)
                | MethodConfig::None
                | MethodConfig::Manifoldmix(_)
                | MethodConfig::CMixup(_)
                | MethodConfig::Mimix(_) => true,
                MethodConfig::Decouplemix(d) => matches!(*d.base, MethodConfig::Mixup(_)),
                _ => false,
            });
            if stages.iter().any(|&k| k > 0) && !scalar_only {
                return Err(Error::Incompatible(
                    "mixing hidden features (mix_at > 0) needs mixup-only methods: boxes and masks \
                     describe input pixels"
                        .into(),
                ));
            }
        }
        self.device.device()?;
        Ok(())
    }
}

/// Default of [`TrainConfig::test_last`].
pub const DEFAULT_TEST_LAST: usize = 10;

/// Largest training or evaluation batch.
pub const MAX_BATCH: usize = 65_536;

/// Where and how a run keeps its checkpoints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// Write a checkpoint after every epoch into this folder.
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from the checkpoint in `checkpoint_dir` when there is one.
    pub resume: bool,
    /// Stop (as if killed) after this many epochs in total; for tests and time-boxed jobs.
    pub stop_after_epochs: Option<usize>,
    /// Write the checkpoint after every `checkpoint_every`-th epoch (0 or 1: every epoch) and after the
    /// last; a resumed run replays the epochs since, bit-identically.
    pub checkpoint_every: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::SchedulePer;

    #[test]
    fn schedules_step_per_epoch_and_warm_up_as_timm() {
        let cfg = TrainConfig::default().with_lr(0.1).with_epochs(4);
        let by_epoch = TrainConfig {
            schedule_per: SchedulePer::Epoch,
            ..cfg.clone()
        };
        let e1 = 0.05 * (1.0 + (std::f64::consts::PI / 4.0).cos());
        for k in 0..5 {
            assert!((by_epoch.lr_at(1, k, 5) - e1).abs() < 1e-15);
        }
        assert_eq!(by_epoch.lr_at(0, 3, 5), 0.1);
        assert!(cfg.lr_at(1, 0, 5) > cfg.lr_at(1, 4, 5));
        assert!((cfg.lr_at(2, 0, 5) - 0.05).abs() < 1e-15);
        // timm: warmup_lr_init at t = 0, linear to the base rate at t = warm-up length.
        let warm = TrainConfig {
            warmup_epochs: 2,
            warmup_lr_init: Some(1e-4),
            ..by_epoch
        };
        assert_eq!(warm.lr_at(0, 3, 5), 1e-4);
        assert!((warm.lr_at(1, 0, 5) - (1e-4 + (0.1 - 1e-4) / 2.0)).abs() < 1e-15);
        assert_eq!(warm.lr_at(2, 0, 5), 0.1);
        let mixlab_rule = TrainConfig {
            warmup_lr_init: None,
            ..warm
        };
        assert_eq!(mixlab_rule.lr_at(0, 0, 5), 0.05);
    }
}
