//! `mixlab train`: one training run of a model on a dataset with a mixing method, written to a folder.

use crate::mixargs::MixArgs;
use crate::run::{Bars, RunConfig, RunStatus, execute};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use mixlab_burn::DeviceKind;
use mixlab_burn::models::ModelConfig;
use mixlab_burn::optim::{OptimizerConfig, Schedule, SchedulePer};
use mixlab_burn::trainer::{Augment, ContinualConfig, KdConfig, TrainConfig};
use mixlab_data::{DataDir, DataSpec, DatasetId, LabelNoise, Task};
use serde_json::Value;
use std::path::PathBuf;

/// Model architectures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelName {
    Mlp,
    Cnn,
    /// ResNet-18 with a CIFAR stem (3×3 conv, no max-pool), as OpenMixup's `ResNet_CIFAR`
    Resnet18,
    /// Pre-activation ResNet-18 (He et al. 2016) with the paper's final BN-ReLU before pooling; the
    /// mixup-cifar10 reference's PreActResNet lacks that last BN-ReLU
    PreactResnet18,
    Cnn1d,
    /// ViT (timm layout, class token, pre-norm blocks). Differs from timm's init: linear layers draw
    /// U(±1/√fan_in) (PyTorch's default) where timm uses trunc_normal(0.02), and LayerNorm eps is 1e-5
    /// where timm uses 1e-6
    VitTiny,
    /// Two encoders (cross-modal geomix, m3col and cm3 runs with --paired-dataset)
    TwoTower,
}

impl ModelName {
    fn config(self) -> Result<ModelConfig> {
        let name = self
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        Ok(ModelConfig::by_name(&name)?)
    }
}

/// Optimisers (command line and suite files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimName {
    #[default]
    /// SGD, momentum 0.9, PyTorch semantics.
    Sgd,
    /// SGD with Nesterov momentum 0.9.
    Nesterov,
    /// AdamW (β = 0.9, 0.999, ε 1e-8; weight decay from --weight-decay, default 5e-4, where
    /// `torch.optim.AdamW` defaults to 0.01).
    Adamw,
}

/// Learning-rate schedules (command line and suite files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleName {
    Constant,
    #[default]
    Cosine,
    /// ×0.1 at 50% and 75% of the epochs.
    Step,
}

/// When the learning rate moves (command line and suite files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SchedulePerName {
    /// After every optimiser step (timm's `t_in_epochs=False`).
    #[default]
    Step,
    /// Once per epoch (OpenMixup/mmcv's `by_epoch=True`).
    Epoch,
}

impl From<SchedulePerName> for SchedulePer {
    fn from(p: SchedulePerName) -> SchedulePer {
        match p {
            SchedulePerName::Step => SchedulePer::Step,
            SchedulePerName::Epoch => SchedulePer::Epoch,
        }
    }
}

/// Host augmentation (command line and suite files); in a suite file `true` means `crop-flip`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AugmentName {
    /// No augmentation.
    #[default]
    None,
    /// Random crop (4-px padding) and horizontal flip, for images.
    CropFlip,
    /// Gain (±6 dB), time shift (±10 %) and white noise (15–30 dB SNR), for waveforms.
    Wave,
}

impl From<AugmentName> for Augment {
    fn from(a: AugmentName) -> Augment {
        match a {
            AugmentName::None => Augment::None,
            AugmentName::CropFlip => Augment::CropFlip,
            AugmentName::Wave => Augment::Wave,
        }
    }
}

/// Device choice (command line and suite files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceName {
    /// Burn's flex CPU backend.
    #[default]
    Cpu,
    /// CUDA (a build with `--features cuda`, which downloads an LLVM bundle at build time).
    Cuda,
    /// Vulkan through wgpu (a build with `--features vulkan`).
    Vulkan,
}

impl OptimName {
    /// The optimiser config (momentum 0.9 for SGD; PyTorch's AdamW betas and eps).
    pub fn config(self) -> OptimizerConfig {
        match self {
            OptimName::Sgd => OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
            OptimName::Nesterov => OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: true,
            },
            OptimName::Adamw => OptimizerConfig::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
        }
    }
}

impl ScheduleName {
    /// The schedule for a run of `epochs` epochs (step: ×0.1 at 50% and 75%).
    pub fn config(self, epochs: usize) -> Schedule {
        match self {
            ScheduleName::Constant => Schedule::Constant,
            ScheduleName::Cosine => Schedule::Cosine,
            ScheduleName::Step => Schedule::Step {
                milestones: vec![epochs / 2, epochs * 3 / 4],
                gamma: 0.1,
            },
        }
    }
}

impl DeviceName {
    /// The trainer's device kind.
    pub fn kind(self) -> DeviceKind {
        match self {
            DeviceName::Cpu => DeviceKind::Cpu,
            DeviceName::Cuda => DeviceKind::Cuda,
            DeviceName::Vulkan => DeviceKind::Vulkan,
        }
    }
}

/// Options of `mixlab train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Replay a recorded run config (`config.toml` of a run or bench cell); other options are ignored.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Dataset: a built-in name (see `mixlab datasets`), or your own files: `image-folder:DIR[,size=HxW]`
    /// (DIR/<class>/*.png|jpg, or DIR/train/<class>/… with DIR/test/<class>/…), `csv:FILE[,target=COLUMN]
    /// [,task=classification|regression]` (a header row; the last column is the target by default), `npy:DIR`
    /// (x_train.npy, y_train.npy, optionally x_test.npy, y_test.npy).
    #[arg(long, required_unless_present = "config")]
    pub dataset: Option<DataSpec>,
    /// Model.
    #[arg(long, value_enum, default_value = "cnn")]
    pub model: ModelName,
    /// Model hyper-parameter as KEY=VALUE (TOML value), e.g. width=16.
    #[arg(long = "model-param", value_name = "KEY=VALUE")]
    pub model_params: Vec<String>,
    #[command(flatten)]
    pub mix: MixArgs,
    /// Manifold mixup: mix hidden features at a stage drawn from this set (0 = input), e.g. 0,1,2,3.
    #[arg(long, value_delimiter = ',')]
    pub mix_at: Vec<usize>,
    /// Epochs [default: 5].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Batch size [default: the dataset's recipe, see --optimizer].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Base learning rate [default: the dataset's recipe, see --optimizer].
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Optimiser [default: the dataset's recipe: SGD lr 0.05 batch 128 for classification sets; AdamW lr 0.01
    /// batch 16 for airfoil, communities-crime and skillcraft (C-Mixup's Airfoil recipe: SGD at 0.05 on raw
    /// targets diverges for some seeds); AdamW lr 1e-3 batch 128 for exchange-rate (C-Mixup's)].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimName>,
    /// Weight decay, for every optimiser. The default 5e-4 is the CIFAR SGD recipes'; PyTorch's AdamW
    /// defaults to 0.01, so pass --weight-decay 0.01 to match `torch.optim.AdamW()`.
    #[arg(long, default_value_t = 5e-4, allow_negative_numbers = true)]
    pub weight_decay: f64,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value = "cosine")]
    pub schedule: ScheduleName,
    /// Whether the schedule advances after every step (timm's default) or once per epoch (OpenMixup/mmcv,
    /// the common CIFAR code).
    #[arg(long, value_enum, default_value = "step")]
    pub schedule_per: SchedulePerName,
    /// Linear warm-up epochs.
    #[arg(long, default_value_t = 0)]
    pub warmup_epochs: usize,
    /// timm's warm-up: start at this rate at t = 0 (default: mixlab's base·(t+1)/W, which reaches the base
    /// rate on the last warm-up step).
    #[arg(long, allow_negative_numbers = true)]
    pub warmup_lr_init: Option<f64>,
    /// Host augmentation: `--augment` alone is crop-flip (random crop with 4-px padding and a horizontal
    /// flip, for images); `--augment wave` is gain, time shift and noise for waveforms.
    #[arg(long, num_args = 0..=1, default_missing_value = "crop-flip", value_enum, default_value_t)]
    pub augment: AugmentName,
    /// Run seed (init, shuffling, mixing, augmentation streams).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep at most this many records per split (test included; for quick runs).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep the first N training records in the dataset's official order; validation is held out of them and
    /// the test split stays whole.
    #[arg(long, value_name = "N")]
    pub train_limit: Option<usize>,
    /// Seed of the data: shuffled splits (digits, tables), the validation hold-out and label noise.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Symmetric label noise: each training and validation label is replaced with this probability by a
    /// class drawn uniformly from the other classes (test labels stay clean).
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    pub label_noise: Option<f64>,
    /// Online class-incremental runs: split the classes into N tasks of consecutive classes, one epoch
    /// each (set --epochs N), trained with experience replay (--method none) or --method dualmix.
    #[arg(long)]
    pub tasks: Option<usize>,
    /// Continual runs: replay buffer size in samples.
    #[arg(long, default_value_t = 500)]
    pub buffer: usize,
    /// Continual runs: replayed samples per stream batch.
    #[arg(long, default_value_t = 10)]
    pub replay_batch: usize,
    /// Semi-supervised runs: keep the labels of N training records per class (chosen by --data-seed, after
    /// the validation hold-out); the rest of the training split is unlabelled, for --method mixmatch.
    #[arg(long)]
    pub labels_per_class: Option<usize>,
    /// Device.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceName,
    /// Data directory (default: $MIXLAB_DATA, then the embedded sets).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Output folder (config.toml, result.json, reliability.png, checkpoint/).
    #[arg(long)]
    pub out: PathBuf,
    /// Continue a run that was interrupted (from its last checkpoint).
    #[arg(long)]
    pub resume: bool,
    /// Train at most N epochs in this process, then stop as a killed run would, keeping the checkpoint (for
    /// time-boxed job slots): the same command with `--resume` trains N more each time, and the finished run
    /// has the numbers of one uninterrupted run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub stop_after_epochs: Option<u64>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Cross-modal runs (--method geomix, m3col or cm3 with --model two-tower): a second dataset sharing the classes, embedded by
    /// the `b` tower and paired with --dataset by class (e.g. fsdd with digits)
    #[arg(long)]
    pub paired_dataset: Option<DatasetId>,

    /// Knowledge distillation: the checkpoint folder of a finished classification run (`<run>/checkpoint`)
    /// whose softened outputs on the mixed inputs become the targets. With --method attentivemix: the run
    /// whose last feature map picks the kept cells (without it, a momentum copy of the model does); with
    /// --method tokenmix: the resnet run whose class activation maps weigh the labels.
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// Distillation temperature T.
    #[arg(long, requires = "teacher", allow_negative_numbers = true)]
    pub kd_temperature: Option<f64>,
    /// Weight of the distillation term against the mixed-label loss, in [0, 1] (default 1).
    #[arg(long, requires = "teacher", allow_negative_numbers = true)]
    pub kd_weight: Option<f64>,
}

/// What `mixlab train` uses for the options not given: a recipe that trains on every seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recipe {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub optimizer: OptimName,
}

impl Recipe {
    /// The default recipe of a dataset (see `mixlab train --help`); the user's own data gets the image recipe
    /// for classification and the tabular one for regression.
    pub fn for_data(dataset: &DataSpec, task: Task) -> Recipe {
        match (dataset.known(), task) {
            (Some(id), _) => Recipe::for_dataset(id),
            (None, Task::Classification { .. }) => Recipe::for_dataset(DatasetId::FashionMnist),
            (None, Task::Regression { .. }) => Recipe::for_dataset(DatasetId::Airfoil),
        }
    }

    /// The default recipe of a built-in dataset.
    pub fn for_dataset(dataset: DatasetId) -> Recipe {
        let (batch_size, lr, optimizer) = match dataset {
            DatasetId::Airfoil | DatasetId::CommunitiesCrime | DatasetId::Skillcraft => {
                (16, 1e-2, OptimName::Adamw)
            }
            DatasetId::ExchangeRate => (128, 1e-3, OptimName::Adamw),
            DatasetId::Mnist
            | DatasetId::FashionMnist
            | DatasetId::Cifar10
            | DatasetId::Cifar100
            | DatasetId::Cifar100Coarse
            | DatasetId::Digits
            | DatasetId::Fsdd => (128, 0.05, OptimName::Sgd),
        };
        Recipe {
            epochs: 5,
            batch_size,
            lr,
            optimizer,
        }
    }
}

/// Merges KEY=VALUE overrides into a serde-serialisable config through JSON.
pub fn merge_params<T: serde::Serialize + serde::de::DeserializeOwned>(
    base: &T,
    params: &[String],
    what: &str,
) -> Result<T> {
    let mut v = serde_json::to_value(base)?;
    let obj = v.as_object_mut().context("config is not an object")?;
    for p in params {
        let (k, val) = p
            .split_once('=')
            .with_context(|| format!("{what} {p:?} must look like KEY=VALUE"))?;
        let k = k.trim();
        if !obj.contains_key(k) {
            let known: Vec<&String> = obj.keys().collect();
            bail!("{what} {k:?} is not a parameter here; known: {known:?}");
        }
        let t: toml::Table = toml::from_str(&format!("v = {val}"))
            .with_context(|| format!("{what} {p:?}: cannot read the value"))?;
        obj.insert(k.to_string(), serde_json::to_value(&t["v"])?);
    }
    serde_json::from_value(v).with_context(|| format!("invalid {what}"))
}

impl TrainArgs {
    /// The fully resolved run config.
    pub fn run_config(&self) -> Result<RunConfig> {
        if let Some(path) = &self.config {
            return RunConfig::read(path)?.resolve_pairing();
        }
        // Own files are recorded with absolute paths, so the run's config.toml replays from any folder.
        let dataset = self
            .dataset
            .clone()
            .context("--dataset is required")?
            .absolute()?;
        let model = merge_params(&self.model.config()?, &self.model_params, "--model-param")?;
        let (_, task) =
            mixlab_data::peek(&dataset).with_context(|| format!("looking at {dataset}"))?;
        let recipe = Recipe::for_data(&dataset, task);
        let epochs = self.epochs.unwrap_or(recipe.epochs);
        let optimizer = self.optimizer.unwrap_or(recipe.optimizer).config();
        let schedule = self.schedule.config(epochs);
        let method_is_none = self
            .mix
            .method
            .iter()
            .all(|m| *m == mixlab_core::methods::Method::None);
        let mut mixer = if method_is_none {
            Default::default()
        } else {
            self.mix.mixer()?
        };
        // With attentivemix or tokenmix, --teacher names the method's own network (whose attention picks
        // the cells, whose class maps weigh the labels), not a distillation teacher.
        let mut own_teacher = false;
        for m in &mut mixer.methods {
            let name = m.config.method().name();
            if let Some(slot) = m.config.teacher_mut() {
                own_teacher = true;
                if let Some(t) = &self.teacher {
                    *slot = Some(t.clone());
                }
                // Recorded absolute (from --teacher or --param teacher=…), so the run's config.toml
                // replays from any folder.
                if let Some(t) = slot.as_ref() {
                    *slot = Some(std::path::absolute(t).with_context(|| {
                        format!("cannot resolve the teacher path {}", t.display())
                    })?);
                }
                if self.kd_temperature.is_some() || self.kd_weight.is_some() {
                    bail!(
                        "with --method {name}, --teacher is the method's own network; --kd-temperature and \
                         --kd-weight belong to distillation"
                    );
                }
            }
        }
        // A distillation teacher is recorded absolute too, so the run's config.toml replays from any folder.
        let kd_teacher = match (&self.teacher, own_teacher) {
            (Some(t), false) => Some(
                std::path::absolute(t)
                    .with_context(|| format!("cannot resolve the teacher path {}", t.display()))?,
            ),
            _ => None,
        };
        let train = TrainConfig {
            model,
            epochs,
            batch_size: self.batch_size.unwrap_or(recipe.batch_size),
            lr: self.lr.unwrap_or(recipe.lr),
            optimizer,
            schedule,
            schedule_per: self.schedule_per.into(),
            warmup_epochs: self.warmup_epochs,
            warmup_lr_init: self.warmup_lr_init,
            weight_decay: self.weight_decay,
            seed: self.seed,
            mixer,
            mix_at: (!self.mix_at.is_empty()).then(|| self.mix_at.clone()),
            augment: self.augment.into(),
            device: self.device.kind(),
            continual: self.tasks.map(|tasks| ContinualConfig {
                tasks,
                buffer: self.buffer,
                replay_batch: self.replay_batch,
            }),
            kd: kd_teacher.map(|t| {
                let mut kd = KdConfig::new(t);
                if let Some(v) = self.kd_temperature {
                    kd.temperature = v;
                }
                if let Some(v) = self.kd_weight {
                    kd.weight = v;
                }
                kd
            }),
            ..TrainConfig::default()
        };
        let label_noise = match self.label_noise {
            Some(rate) => {
                let n = LabelNoise::symmetric(rate);
                n.validate()
                    .map_err(|e| anyhow::anyhow!("--label-noise: {e}"))?;
                Some(n)
            }
            None => None,
        };
        RunConfig {
            dataset,
            limit: self.limit,
            train_limit: self.train_limit,
            data_seed: self.data_seed,
            label_noise,
            labels_per_class: self.labels_per_class,
            validation_fraction: mixlab_data::DEFAULT_VALIDATION_FRACTION,
            train,
            paired: self.paired_dataset,
        }
        .resolve_pairing()
    }
}

/// Prints the headline numbers of a result.
pub fn summary(v: &Value) -> String {
    let t = &v["test"];
    let f = |k: &str| {
        t[k].as_f64()
            .map(|x| format!("{k} {x:.4}"))
            .unwrap_or_default()
    };
    let keys: &[&str] = if t.get("forgetting").is_some() {
        &["avg_acc", "forgetting", "acc"]
    } else if t.get("acc").is_some() {
        &["acc", "nll", "brier", "ece15", "ece15_ts", "temperature"]
    } else if t.get("b2a_r1").is_some() {
        &[
            "r1",
            "r8",
            "b2a_r1",
            "b2a_r8",
            "alignment",
            "uniformity_a",
            "uniformity_b",
        ]
    } else if t.get("r1").is_some() {
        &["r1", "r2", "r4", "r8", "uniformity"]
    } else {
        &["rmse", "mae", "mape"]
    };
    keys.iter()
        .map(|k| f(k))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("  ")
}

/// Runs the command.
pub fn run(args: &TrainArgs) -> Result<()> {
    let cfg = args.run_config()?;
    let dir = DataDir::resolve(args.data_dir.as_deref());
    let mut bars = Bars::new(
        &format!("{} {}", cfg.dataset, cfg.method_label()),
        args.quiet,
        None,
    );
    // The trainer stops at a total epoch count; N counts this process's epochs, on top of a checkpoint's.
    let stop = match args.stop_after_epochs {
        None => None,
        Some(n) => {
            // A finished folder needs no count (execute reports it as finished).
            let done = if args.resume && !args.out.join("result.json").exists() {
                mixlab_burn::checkpoint::read_manifest(&args.out.join("checkpoint"))?
                    .map_or(0, |m| m.epochs_done)
            } else {
                0
            };
            let n = usize::try_from(n).context("--stop-after-epochs is too large")?;
            Some(done.saturating_add(n))
        }
    };
    let status = execute(&cfg, &dir, &args.out, args.resume, Some(&mut bars), stop);
    bars.finish();
    match status? {
        Some(RunStatus::AlreadyDone(v)) => {
            crate::fsio::outln(format_args!("already finished: {}", summary(&v)))?
        }
        Some(RunStatus::Finished(v)) => crate::fsio::outln(format_args!(
            "test: {}\nwrote {}",
            summary(&v),
            args.out.join("result.json").display()
        ))?,
        None => crate::fsio::outln(format_args!(
            "stopped early; continue with the same command and --resume (or --config {} --out {} \
             --resume)",
            args.out.join("config.toml").display(),
            args.out.display()
        ))?,
    }
    Ok(())
}
