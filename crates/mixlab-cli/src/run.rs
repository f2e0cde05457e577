//! One training run as a folder: the fully resolved config (`config.toml`), checkpoints, and — written
//! last, atomically — `result.json` and `reliability.png`. Shared by `mixlab train` and every bench cell,
//! so any cell can be replayed with `mixlab train --config DIR/cells/<id>/config.toml`.

use crate::fsio::write_atomic;
use crate::plots::{RelBin, reliability};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mixlab_burn::models::ModelConfig;
use mixlab_burn::trainer::{
    EpochRecord, FinalMetrics, NoProgress, Outcome, Progress, RunOptions, Splits, StepInfo,
    TrainConfig, TrainData, TrainResult, train,
};
use mixlab_core::methods::puzzlemix::Denorm;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use mixlab_data::{
    DataDir, DataSpec, DatasetId, LabelNoise, LoadOptions, Scaler, Split, Task, load_spec, peek,
    split_validation,
};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::Path;

/// Everything that decides a run: the data, how it is prepared, and the training config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The dataset: a built-in name or the user's files (`image-folder:DIR`, `csv:FILE,target=COL`, `npy:DIR`).
    pub dataset: DataSpec,
    /// Keep at most this many records per split (CPU-sized runs); `None` reads everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Keep the first this many training records in the dataset's official order; validation is held out of
    /// them and the test split stays whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_limit: Option<usize>,
    /// Seed of the dataset's shuffled splits (digits, tabular sets), of the validation hold-out and of label
    /// noise.
    #[serde(default)]
    pub data_seed: u64,
    /// Synthetic label noise on the training and validation labels (classification only; test labels stay
    /// clean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_noise: Option<LabelNoise>,
    /// Semi-supervised runs: keep the labels of this many training records per class (chosen by the data
    /// seed, after the validation hold-out); the rest of the training split becomes unlabelled, which
    /// MixMatch trains on and every other method ignores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels_per_class: Option<usize>,
    /// Fraction of the training split held out for validation (temperature scaling, model choice) when
    /// the dataset has no reference validation split.
    #[serde(default = "default_val_frac")]
    pub validation_fraction: f64,
    /// The training run.
    pub train: TrainConfig,
    /// Cross-modal runs (geomix, m3col, cm3): the second dataset, embedded by the two-tower model's `b` tower and paired
    /// with the first by class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<DatasetId>,
}

fn default_val_frac() -> f64 {
    mixlab_data::DEFAULT_VALIDATION_FRACTION
}

impl RunConfig {
    /// Reads a config written by a run (`config.toml`).
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a mixlab run config: {}",
                path.display(),
                toml_error_line(&text, &e)
            )
        })
    }

    /// Fills in what the paired dataset decides: the two-tower model's `b_input` (its sample shape).
    pub fn resolve_pairing(mut self) -> Result<Self> {
        if let (Some(p), ModelConfig::TwoTower(t)) = (self.paired, &mut self.train.model)
            && t.b_input.is_empty()
        {
            let s = sample_shape(&p.into())?;
            t.b_input = std::iter::once(s.channels)
                .chain(s.spatial().iter().copied())
                .collect();
        }
        Ok(self)
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).context("serialising the run config")
    }

    /// Short method label ("mixup", "mixup+cutmix", "none").
    pub fn method_label(&self) -> String {
        let names: Vec<&str> = self
            .train
            .mixer
            .methods
            .iter()
            .map(|m| m.config.method().name())
            .collect();
        let base = if names.is_empty() {
            "none".to_string()
        } else {
            names.join("+")
        };
        match &self.train.mix_at {
            Some(points) if points.iter().any(|&p| p > 0) => format!("{base}@manifold"),
            _ => base,
        }
    }
}

/// A TOML parse error as one line: the parser's message with its whitespace collapsed, and where.
pub fn toml_error_line(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{msg} (line {line}, column {col})")
        }
        None => msg,
    }
}

/// The sample shape of a dataset (see [`shape_of`]); the user's files are looked at (see [`peek`]).
pub fn sample_shape(id: &DataSpec) -> Result<SampleShape> {
    let (s, _) = peek(id).with_context(|| format!("looking at {id}"))?;
    shape_of(&s).with_context(|| format!("{id}"))
}

/// The model's view of a dataset sample shape: `[F]` tables become 1×F, `[C, ...]` keeps C channels.
pub fn shape_of(s: &[usize]) -> Result<SampleShape> {
    Ok(match s {
        [f] => SampleShape::d1(1, *f)?,
        [c, rest @ ..] => SampleShape::new(*c, rest)?,
        [] => bail!("empty sample shape"),
    })
}

/// Output width of a dataset's model: classes or regression outputs.
pub fn output_dim(id: &DataSpec) -> Result<usize> {
    Ok(peek(id)
        .with_context(|| format!("looking at {id}"))?
        .1
        .output_dim())
}

fn to_train_data(split: &Split, shape: SampleShape, task: Task) -> Result<TrainData> {
    Ok(match task {
        Task::Classification { classes } => {
            let labels = split
                .labels
                .clone()
                .context("classification split without labels")?;
            TrainData::classification(shape, split.x.clone(), labels, classes)?
        }
        Task::Regression { outputs } => {
            let t = split
                .targets
                .clone()
                .context("regression split without targets")?;
            TrainData::regression(shape, split.x.clone(), t, outputs)?
        }
    })
}

/// What loading did, recorded in `result.json`: split sizes, where the data came from, label noise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataInfo {
    /// Classification or regression, as loaded.
    #[serde(skip)]
    pub task: Task,
    pub n_train: usize,
    pub n_val: usize,
    pub n_test: usize,
    /// The folder (or embedded file) the set was read from.
    pub source: String,
    /// Every file read.
    pub files: Vec<String>,
    pub data_seed: u64,
    /// Where validation came from.
    pub validation: ValidationSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_noise: Option<NoiseInfo>,
    /// Semi-supervised runs: the labelled records per class and how many training records went unlabelled
    /// (`n_train` counts the labelled ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels_per_class: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_unlabelled: Option<usize>,
}

/// Where a run's validation split came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValidationSource {
    /// `validation_fraction` of the training split, chosen by the data seed.
    HeldOut,
    /// The dataset's reference validation split.
    Reference,
}

/// Label noise as applied.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoiseInfo {
    pub rate: f64,
    pub kind: mixlab_data::NoiseKind,
    /// Labels replaced among the training records.
    pub flipped_train: usize,
    /// Labels replaced among the validation records.
    pub flipped_val: usize,
}

/// Loads the dataset, applies label noise, holds out validation, fits input scaling on the training part
/// only and applies it to every split (images: per-channel standardisation; Airfoil: min-max as C-Mixup;
/// other tables: standardisation per feature). Image crops pad with the scaled value of a black pixel.
pub fn load_splits(cfg: &RunConfig, dir: &DataDir) -> Result<(Splits, DataInfo)> {
    let opts = LoadOptions::default()
        .with_limit(cfg.limit)
        .with_train_limit(cfg.train_limit)
        .with_seed(cfg.data_seed);
    let mut ds =
        load_spec(&cfg.dataset, dir, &opts).with_context(|| format!("loading {}", cfg.dataset))?;
    let held_out = ds.valid.is_none();
    let noise = match (&cfg.label_noise, ds.task) {
        (None, _) => None,
        (Some(_), Task::Regression { .. }) => bail!(
            "--label-noise flips class labels; {} is a regression dataset",
            cfg.dataset
        ),
        (Some(_), Task::Classification { .. }) if !held_out => bail!(
            "--label-noise is applied before the validation hold-out; {} has a reference validation split",
            cfg.dataset
        ),
        (Some(noise), Task::Classification { classes }) => {
            let labels = ds
                .train
                .labels
                .as_mut()
                .context("classification split without labels")?;
            // Noise is drawn per record before the hold-out, so validation labels are as noisy as training
            // ones and a record's noise does not depend on the split.
            let flipped = noise.apply(labels, classes, cfg.data_seed)?;
            let (train_idx, val_idx) =
                split_validation(flipped.len(), cfg.validation_fraction, cfg.data_seed)?;
            let count = |idx: &[usize]| idx.iter().filter(|&&i| flipped[i]).count();
            Some(NoiseInfo {
                rate: noise.rate,
                kind: noise.kind,
                flipped_train: count(&train_idx),
                flipped_val: count(&val_idx),
            })
        }
    };
    let ds = ds.with_validation(cfg.validation_fraction, cfg.data_seed)?;
    let shape = shape_of(&ds.sample_shape).with_context(|| format!("{}", cfg.dataset))?;
    let valid = ds.valid.clone().context("validation split missing")?;
    for (name, n) in [
        ("training", ds.train.n),
        ("validation", valid.n),
        ("test", ds.test.n),
    ] {
        if n == 0 {
            bail!(
                "{}: the {name} split is empty (limit {:?} records per split, train limit {:?}; validation takes {} of the training split): use a larger --limit or --train-limit",
                cfg.dataset,
                cfg.limit,
                cfg.train_limit,
                cfg.validation_fraction
            );
        }
    }
    let image = ds.sample_shape.len() == 3;
    let (channels, plane) = match ds.sample_shape.as_slice() {
        [f] => (*f, 1),
        _ => (shape.channels, shape.spatial_len()),
    };
    let scaler = match cfg.dataset.known() {
        Some(DatasetId::Airfoil) => Scaler::fit_min_max(&ds.train.x, channels, plane)?,
        _ => Scaler::fit_standard(&ds.train.x, channels, plane)?,
    };
    let mut splits = Splits {
        train: to_train_data(&ds.train, shape, ds.task)?,
        val: to_train_data(&valid, shape, ds.task)?,
        test: to_train_data(&ds.test, shape, ds.task)?,
        unlabelled: None,
    };
    for s in [&mut splits.train, &mut splits.val, &mut splits.test] {
        scaler.apply(&mut s.x)?;
    }
    if image {
        let denorm = scaler
            .scale
            .iter()
            .zip(&scaler.offset)
            .map(|(&scale, &offset)| Denorm { scale, offset })
            .collect();
        splits.train = splits.train.with_zero(scaler.zero())?.with_denorm(denorm)?;
    }
    if let Some(n) = cfg.labels_per_class {
        keep_labels_per_class(&mut splits, n, cfg.data_seed)
            .with_context(|| format!("--labels-per-class {n} on {}", cfg.dataset))?;
    }
    let info = DataInfo {
        task: ds.task,
        n_train: splits.train.n,
        n_val: valid.n,
        n_test: ds.test.n,
        source: ds.source.clone(),
        files: ds.files.clone(),
        data_seed: cfg.data_seed,
        validation: if held_out {
            ValidationSource::HeldOut
        } else {
            ValidationSource::Reference
        },
        label_noise: noise,
        labels_per_class: cfg.labels_per_class,
        n_unlabelled: splits
            .unlabelled
            .as_ref()
            .map(|u| u.len() / shape.sample_len()),
    };
    Ok((splits, info))
}

/// Keeps the labels of `n` training records of every class (a per-class shuffle by the data seed) and
/// moves the other records' inputs to `splits.unlabelled`.
fn keep_labels_per_class(splits: &mut Splits, n: usize, seed: u64) -> Result<()> {
    let train = &splits.train;
    let mixlab_burn::trainer::Targets::Classes { labels, classes } = &train.targets else {
        bail!("labels per class needs class labels; this is a regression dataset");
    };
    if n == 0 {
        bail!("labels per class must be at least 1");
    }
    let mut rng = stream(seed, Purpose::Split, 1, 0);
    let mut keep = vec![false; train.n];
    for c in 0..*classes {
        let mut members: Vec<usize> = (0..train.n).filter(|&i| labels[i] == c).collect();
        if members.len() < n {
            bail!(
                "class {c} has {} training records (after the validation hold-out), fewer than {n}",
                members.len()
            );
        }
        members.shuffle(&mut rng);
        for &i in &members[..n] {
            keep[i] = true;
        }
    }
    let len = train.shape.sample_len();
    let (mut x, mut y, mut u) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &k) in keep.iter().enumerate() {
        let row = &train.x[i * len..(i + 1) * len];
        if k {
            x.extend_from_slice(row);
            y.push(labels[i]);
        } else {
            u.extend_from_slice(row);
        }
    }
    let mut labelled = TrainData::classification(train.shape, x, y, *classes)?;
    if let Some(z) = &train.zero {
        labelled = labelled.with_zero(z.clone())?;
    }
    if let Some(d) = &train.denorm {
        labelled = labelled.with_denorm(d.clone())?;
    }
    splits.train = labelled;
    splits.unlabelled = Some(u);
    Ok(())
}

/// Progress of one run: a bar on a terminal, one line per epoch on a pipe or log file (where a bar would
/// print nothing until the end), nothing when quiet.
pub struct Bars {
    bar: Option<ProgressBar>,
    label: String,
    /// Write one line per finished epoch to stderr.
    lines: bool,
    epochs: usize,
}

impl Bars {
    /// A per-run bar labelled `label`; hidden when `quiet`.
    pub fn new(label: &str, quiet: bool, multi: Option<&indicatif::MultiProgress>) -> Self {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let b = ProgressBar::new(0);
            let b = match multi {
                Some(m) => m.add(b),
                None => b,
            };
            b.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_prefix(label.to_string());
            b
        });
        Self {
            bar,
            label: label.to_string(),
            lines: !quiet && !terminal,
            epochs: 0,
        }
    }
    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn epoch_start(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.epochs = epochs;
        if let Some(b) = &self.bar {
            b.set_length(steps as u64);
            b.set_position(0);
            b.set_prefix(format!("{} epoch {}/{}", self.label, epoch + 1, epochs));
        }
    }
    fn step(&mut self, info: &StepInfo) {
        if let Some(b) = &self.bar {
            b.set_position((info.step + 1) as u64);
            let acc = info
                .acc
                .map(|a| format!(" acc {:.3}", a))
                .unwrap_or_default();
            b.set_message(format!(
                "loss {:.4}{acc} {:.0} samples/s",
                info.loss, info.samples_per_s
            ));
        }
    }
    fn epoch_end(&mut self, r: &EpochRecord) {
        if !self.lines {
            return;
        }
        let metric = |name: &str, m: &mixlab_burn::trainer::EvalMetrics| match (m.acc, m.rmse) {
            (Some(a), _) => format!(" {name} acc {a:.4}"),
            (None, Some(e)) => format!(" {name} rmse {e:.4}"),
            (None, None) => String::new(),
        };
        let test = r
            .test
            .as_ref()
            .map(|t| metric("test", t))
            .unwrap_or_default();
        // A closed pipe must not stop training: the line is best effort.
        let _ = writeln!(
            std::io::stderr(),
            "{} epoch {}/{} loss {:.4}{}{test} lr {:.3e} {:.0} samples/s {:.1} s",
            self.label,
            r.epoch + 1,
            self.epochs,
            r.train_loss,
            metric("val", &r.val),
            r.lr_last,
            r.train_samples_per_s,
            r.wall_s
        );
    }
}

/// Versions recorded with every result.
pub fn versions() -> Value {
    json!({
        "mixlab": env!("CARGO_PKG_VERSION"),
        "burn": "0.22.1",
        "rustc": option_env!("MIXLAB_RUSTC_VERSION").unwrap_or("unknown"),
    })
}

/// The commit of the source tree this binary was built from, when known.
pub fn git_rev() -> Value {
    match option_env!("MIXLAB_GIT_REV") {
        Some(r) if !r.is_empty() => json!(r),
        _ => Value::Null,
    }
}

/// The result record (`result.json`) of a finished run.
pub fn result_json(cfg: &RunConfig, data: &DataInfo, r: &TrainResult) -> Value {
    let test = match &r.final_metrics {
        FinalMetrics::Classification(c) => json!({
            "acc": c.before.acc,
            "top5": c.before.top5,
            "nll": c.before.nll,
            "brier": c.before.brier,
            "ece15": c.before.ece15,
            "ece10": c.before.ece10,
            "adaptive_ece15": c.before.adaptive_ece15,
            "nll_ts": c.after_ts.nll,
            "brier_ts": c.after_ts.brier,
            "ece15_ts": c.after_ts.ece15,
            "temperature": c.temperature,
            // Accuracy of the final model on its own training labels (noisy ones under --label-noise:
            // how much of the noise it memorised).
            "train_acc": c.train_acc,
        }),
        FinalMetrics::Regression(g) => json!({
            "rmse": g.test.rmse,
            "mae": g.test.mae,
            "mape": g.test.mape_pct,
            "best_epoch": g.best_epoch,
            "val_rmse": g.val_rmse,
        }),
        FinalMetrics::Retrieval(t) => {
            let at = |v: &[f64], k: usize| {
                t.ks.iter()
                    .position(|&x| x == k)
                    .and_then(|i| v.get(i).copied())
            };
            json!({
                "r1": at(&t.test_recall, 1),
                "r2": at(&t.test_recall, 2),
                "r4": at(&t.test_recall, 4),
                "r8": at(&t.test_recall, 8),
                "val_r1": at(&t.val_recall, 1),
                "uniformity": t.test_uniformity,
                "train_classes": t.train_classes,
                "classes": t.classes,
                "queries": t.test_queries,
            })
        }
        FinalMetrics::Continual(c) => json!({
            "avg_acc": c.average_accuracy,
            "forgetting": c.forgetting,
            "acc": c.test_acc,
            "accuracy_matrix": c.accuracy,
            "buffer": c.buffer,
        }),
        FinalMetrics::CrossModal(c) => {
            let at = |v: &[f64], k: usize| {
                c.ks.iter()
                    .position(|&x| x == k)
                    .and_then(|i| v.get(i).copied())
            };
            json!({
                "r1": at(&c.a_to_b, 1),
                "r2": at(&c.a_to_b, 2),
                "r4": at(&c.a_to_b, 4),
                "r8": at(&c.a_to_b, 8),
                "b2a_r1": at(&c.b_to_a, 1),
                "b2a_r2": at(&c.b_to_a, 2),
                "b2a_r4": at(&c.b_to_a, 4),
                "b2a_r8": at(&c.b_to_a, 8),
                "alignment": c.alignment,
                "uniformity_a": c.uniformity_a,
                "uniformity_b": c.uniformity_b,
                "paired": cfg.paired,
            })
        }
    };
    let reliability = match &r.final_metrics {
        FinalMetrics::Classification(c) => json!({
            "bins": 15,
            "edge_rule": "equal-width bins (b/15, (b+1)/15]: conf > lower and conf <= upper",
            "before": c.reliability_before,
            "after_ts": c.reliability_after_ts,
        }),
        FinalMetrics::Regression(_)
        | FinalMetrics::Retrieval(_)
        | FinalMetrics::CrossModal(_)
        | FinalMetrics::Continual(_) => Value::Null,
    };
    json!({
        "dataset": cfg.dataset,
        "model": cfg.train.model.name(),
        "method": cfg.method_label(),
        "seed": cfg.train.seed,
        "task": match &r.final_metrics {
            FinalMetrics::Classification(_) => "classification",
            FinalMetrics::Regression(_) => "regression",
            FinalMetrics::Retrieval(_) => "retrieval",
            FinalMetrics::CrossModal(_) => "cross-modal",
            FinalMetrics::Continual(_) => "continual",
        },
        "data": data,
        "test": test,
        "curve": r.curve,
        "reliability": reliability,
        // Neural collapse of the training features (Papyan et al. 2020): NC1 = tr(Σ_W Σ_B⁺)/C and the
        // simplex-ETF measures; null for regression or when the split misses a class.
        "collapse": match &r.final_metrics {
            FinalMetrics::Classification(c) => json!(c.collapse),
            FinalMetrics::Regression(_)
            | FinalMetrics::Retrieval(_)
            | FinalMetrics::CrossModal(_)
            | FinalMetrics::Continual(_) => Value::Null,
        },
        "params": r.params,
        "wall_s": r.wall_s,
        "samples_per_s": r.train_samples_per_s,
        "epochs_this_process": r.epochs_this_process,
        "versions": versions(),
        "git_rev": git_rev(),
    })
}

/// Draws the reliability diagram of a finished classification result.
pub fn draw_reliability(result: &Value, title: &str, path: &Path) -> Result<bool> {
    let Some(bins) = result["reliability"]["before"].as_array() else {
        return Ok(false);
    };
    let bins: Vec<RelBin> = bins
        .iter()
        .map(|b| RelBin {
            lower: b["lower"].as_f64().unwrap_or(0.0),
            upper: b["upper"].as_f64().unwrap_or(0.0),
            confidence: b["mean_conf"].as_f64().unwrap_or(0.0),
            accuracy: b["accuracy"].as_f64().unwrap_or(0.0),
            count: b["count"].as_u64().unwrap_or(0) as usize,
        })
        .collect();
    reliability(path, title, &bins)?;
    Ok(true)
}

/// How `execute` found and left a run folder.
pub enum RunStatus {
    /// A finished result was already there (nothing was run).
    AlreadyDone(Value),
    /// The run finished now.
    Finished(Value),
}

/// Runs `cfg` in `out`: writes `config.toml`, trains with per-epoch checkpoints under `out/checkpoint`
/// (resuming from them when `resume`), then writes `result.json` and `reliability.png`.
pub fn execute(
    cfg: &RunConfig,
    dir: &DataDir,
    out: &Path,
    resume: bool,
    progress: Option<&mut dyn Progress>,
    stop_after_epochs: Option<usize>,
) -> Result<Option<RunStatus>> {
    let result_path = out.join("result.json");
    let config_path = out.join("config.toml");
    if result_path.exists() {
        if !resume {
            bail!(
                "{} already holds a finished run (result.json); choose another --out or pass --resume",
                out.display()
            );
        }
        let prev = RunConfig::read(&config_path)?;
        if &prev != cfg {
            bail!(
                "{} holds a finished run of a different config",
                out.display()
            );
        }
        let text = std::fs::read_to_string(&result_path)?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", result_path.display()))?;
        return Ok(Some(RunStatus::AlreadyDone(v)));
    }
    let ckpt = out.join("checkpoint");
    if ckpt.exists() && !resume {
        bail!(
            "{} already has a checkpoint from an unfinished run; pass --resume to continue it or choose another --out",
            out.display()
        );
    }
    if config_path.exists() {
        let prev = RunConfig::read(&config_path)?;
        if &prev != cfg {
            bail!(
                "{} holds a run of a different config; choose another --out",
                out.display()
            );
        }
    }
    // Load and check everything before the folder is claimed: a run that cannot start leaves nothing.
    let cross_modal = cfg
        .train
        .representation()
        .filter(|m| m.cross_modal_dim().is_some())
        .map(|m| m.method().name());
    match (cross_modal, cfg.paired) {
        (Some(name), None) => {
            bail!("{name} pairs two datasets: give --paired-dataset (with --model two-tower)")
        }
        (None, Some(p)) => bail!(
            "--paired-dataset {p} is for cross-modal runs (--method geomix, m3col or cm3 with --model \
             two-tower)"
        ),
        _ => {}
    }
    let (splits, data) = load_splits(cfg, dir)?;
    cfg.train
        .validate(&splits.train.shape, data.task.output_dim())?;
    mixlab_burn::trainer::preflight(&cfg.train, &splits)?;
    let paired = match cfg.paired {
        Some(p) => {
            let pc = RunConfig {
                dataset: p.into(),
                paired: None,
                ..cfg.clone()
            };
            Some(load_splits(&pc, dir)?.0)
        }
        None => None,
    };
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output folder {}", out.display()))?;
    write_atomic(&config_path, cfg.to_toml()?.as_bytes())?;
    let opts = RunOptions {
        checkpoint_dir: Some(ckpt),
        resume,
        stop_after_epochs,
        checkpoint_every: 1,
    };
    let mut quiet = NoProgress;
    let progress: &mut dyn Progress = match progress {
        Some(p) => p,
        None => &mut quiet,
    };
    let outcome = match &paired {
        Some(b) => mixlab_burn::crossmodal::train_pair(&cfg.train, &splits, b, &opts, progress)?,
        None => train(&cfg.train, &splits, &opts, progress)?,
    };
    match outcome {
        Outcome::Stopped { .. } => Ok(None),
        Outcome::Finished(r) => {
            let v = result_json(cfg, &data, &r);
            let title = format!(
                "{} {} {} seed {}",
                cfg.dataset,
                cfg.train.model.name(),
                cfg.method_label(),
                cfg.train.seed
            );
            draw_reliability(
                &v,
                &format!("{title} (test, before TS)"),
                &out.join("reliability.png"),
            )?;
            write_atomic(&result_path, serde_json::to_string_pretty(&v)?.as_bytes())?;
            Ok(Some(RunStatus::Finished(v)))
        }
    }
}
