//! Benchmark suites: TOML files of experiments (dataset × model × training recipe × methods) swept over
//! seeds, expanded into cells — one fully resolved [`RunConfig`] each, with a stable id.
//!
//! There is no config inheritance: every experiment states its recipe, and each cell writes its resolved
//! config beside its result, so a cell can be replayed on its own.

use crate::run::RunConfig;
use crate::train_cmd::{
    AugmentName, DeviceName, OptimName, ScheduleName, SchedulePerName, merge_params,
};
use anyhow::{Context, Result, bail};
use mixlab_burn::models::ModelConfig;
use mixlab_burn::trainer::{Augment, ContinualConfig, KdConfig, TrainConfig};
use mixlab_core::methods::{Method, MethodConfig};
use mixlab_core::mixer::{Granularity, MixerConfig, Pairing, WeightedMethod};
use mixlab_data::{DataSpec, DatasetId, LabelNoise};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Suites shipped with mixlab (compiled in, so `--suite quick` works from any folder).
pub const BUILTIN: [(&str, &str); 5] = [
    ("quick", include_str!("../../../suites/quick.toml")),
    ("cpu", include_str!("../../../suites/cpu.toml")),
    ("gpu", include_str!("../../../suites/gpu.toml")),
    (
        "representation",
        include_str!("../../../suites/representation.toml"),
    ),
    ("converged", include_str!("../../../suites/converged.toml")),
];

/// Most seeds one experiment may expand to (cells are expanded in memory before anything runs).
pub const MAX_SEEDS: u64 = 1000;

/// An experiment's `augment`: a flag (crop-flip or none, the older form) or a name.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(untagged)]
pub enum AugmentSpec {
    /// `true` = crop-flip, `false` = none.
    Flag(bool),
    /// By name.
    Name(AugmentName),
}

impl Default for AugmentSpec {
    fn default() -> Self {
        AugmentSpec::Flag(false)
    }
}

impl AugmentSpec {
    fn resolve(self) -> Augment {
        match self {
            AugmentSpec::Flag(true) => Augment::CropFlip,
            AugmentSpec::Flag(false) => Augment::None,
            AugmentSpec::Name(n) => n.into(),
        }
    }
}

/// A suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Name (used as the default output folder).
    pub name: String,
    /// What the suite is for.
    #[serde(default)]
    pub description: String,
    /// Seeds 0..seeds per cell (overridden by `--seeds`).
    pub seeds: u64,
    /// Experiments.
    #[serde(rename = "experiment")]
    pub experiments: Vec<Experiment>,
}

/// One experiment: a dataset, a model, a recipe, and the methods to compare on it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name used in cell ids (default `<dataset>-<model>`).
    pub name: Option<String>,
    pub dataset: DataSpec,
    pub model: String,
    #[serde(default)]
    pub model_params: toml::Table,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    #[serde(default)]
    pub optimizer: OptimName,
    #[serde(default)]
    pub schedule: ScheduleName,
    /// `"step"` (default) or `"epoch"`: when the schedule and warm-up advance.
    #[serde(default)]
    pub schedule_per: SchedulePerName,
    #[serde(default)]
    pub warmup_epochs: usize,
    /// timm's warm-up start rate (see `mixlab train --warmup-lr-init`).
    #[serde(default)]
    pub warmup_lr_init: Option<f64>,
    #[serde(default = "default_wd")]
    pub weight_decay: f64,
    /// `true` (crop-flip), `false`, or an augmentation's name (`"wave"`).
    #[serde(default)]
    pub augment: AugmentSpec,
    pub limit: Option<usize>,
    /// Keep the first N training records (the test split stays whole).
    #[serde(default)]
    pub train_limit: Option<usize>,
    /// Seed of the data (splits, validation hold-out, label noise): a number (default 0), or `"run"` to use
    /// each cell's run seed, so that "± over seeds" includes split variance.
    #[serde(default)]
    pub data_seed: DataSeed,
    /// Synthetic label noise on training and validation labels, `{ rate = 0.4, kind = "symmetric" }`.
    #[serde(default)]
    pub label_noise: Option<LabelNoise>,
    /// Semi-supervised: labelled training records per class (see `mixlab train --labels-per-class`).
    #[serde(default)]
    pub labels_per_class: Option<usize>,
    /// Online class-incremental runs (`{ tasks = 5, buffer = 500, replay_batch = 10 }`; see `mixlab train
    /// --tasks`).
    #[serde(default)]
    pub continual: Option<ContinualConfig>,
    /// Where to train (default cpu).
    #[serde(default)]
    pub device: DeviceName,
    /// Seeds of this experiment when it needs another count than the suite's (`--seeds` overrides both).
    pub seeds: Option<u64>,
    /// Mixing composition shared by the experiment's methods.
    #[serde(default)]
    pub prob: Option<f64>,
    #[serde(default)]
    pub granularity: Option<Granularity>,
    #[serde(default)]
    pub pairing: Option<Pairing>,
    #[serde(default)]
    pub smoothing: Option<f32>,
    /// Methods compared: a name (`"mixup"`) or a table `{ label, method, mix_at, <hyper-parameters> }`; a table may
    /// add `teacher = "experiment/label"` (with `kd_temperature`, `kd_weight`) to distil from that earlier cell of
    /// the same seed (with attentivemix or tokenmix: the method's own network), `grid = { key = [values] }`
    /// to expand into one cell per point, or stand for a weighted mix of methods, `{ label, mix = [["mixup", 0.5], { method = "cutmix", weight = 0.5, ... }] }`.
    pub methods: Vec<MethodEntry>,
    /// Cross-modal experiments (geomix, m3col, cm3): the second dataset, embedded by the two-tower model's `b` tower.
    #[serde(default)]
    pub paired: Option<DatasetId>,
}

/// An experiment's data seed: fixed, or the run seed of each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSeed {
    Fixed(u64),
    Run,
}

impl Default for DataSeed {
    fn default() -> Self {
        DataSeed::Fixed(0)
    }
}

impl DataSeed {
    fn for_run(self, seed: u64) -> u64 {
        match self {
            DataSeed::Fixed(s) => s,
            DataSeed::Run => seed,
        }
    }
}

impl<'de> Deserialize<'de> for DataSeed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match toml::Value::deserialize(d)? {
            toml::Value::Integer(i) if i >= 0 => Ok(DataSeed::Fixed(i as u64)),
            toml::Value::String(s) if s == "run" => Ok(DataSeed::Run),
            other => Err(D::Error::custom(format!(
                "`data_seed` is a non-negative integer or \"run\" (the cell's run seed), got {other}"
            ))),
        }
    }
}

fn default_wd() -> f64 {
    5e-4
}

/// A method as listed in a suite.
#[derive(Debug)]
pub enum MethodEntry {
    Name(Method),
    Table(toml::Table),
}

// By hand rather than `untagged`, so that an unknown name is reported as such, with the known ones.
impl<'de> Deserialize<'de> for MethodEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match toml::Value::deserialize(d)? {
            toml::Value::String(name) => name
                .parse::<Method>()
                .map(MethodEntry::Name)
                .map_err(D::Error::custom),
            toml::Value::Table(t) => Ok(MethodEntry::Table(t)),
            other => Err(D::Error::custom(format!(
                "a method is a name or a table {{ method = \"...\", ... }}, got {}",
                other.type_str()
            ))),
        }
    }
}

/// One cell: an id and its run config.
#[derive(Debug, Clone)]
pub struct Cell {
    pub id: String,
    /// Position in the suite (reports list experiments and methods in this order).
    pub index: usize,
    pub experiment: String,
    pub label: String,
    pub config: RunConfig,
    /// Knowledge distillation: the id of the cell whose final checkpoint teaches this one (an earlier cell of
    /// the same seed); the bench points `config.train.kd.teacher` at it.
    pub teacher: Option<String>,
}

impl Suite {
    /// Reads a suite by built-in name or path.
    pub fn load(name_or_path: &str) -> Result<Suite> {
        let text = match BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            Some((_, text)) => text.to_string(),
            None => {
                let p = Path::new(name_or_path);
                if !p.exists() {
                    let names: Vec<_> = BUILTIN.iter().map(|(n, _)| *n).collect();
                    bail!(
                        "unknown suite {name_or_path:?}: not a built-in ({}) and no such file",
                        names.join(", ")
                    );
                }
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?
            }
        };
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "suite {name_or_path}: invalid suite file: {}",
                crate::run::toml_error_line(&text, &e)
            )
        })
    }

    /// Expands the suite into cells (experiment order, then method order, then seed).
    pub fn cells(&self, seeds: Option<u64>) -> Result<Vec<Cell>> {
        let check = |n: u64, what: &str| -> Result<()> {
            if !(1..=MAX_SEEDS).contains(&n) {
                bail!("{what} must be in 1..={MAX_SEEDS}, got {n}");
            }
            Ok(())
        };
        check(seeds.unwrap_or(self.seeds), "seeds")?;
        let mut cells = Vec::new();
        let mut ids = std::collections::BTreeSet::new();
        for e in &self.experiments {
            let exp_name = e
                .name
                .clone()
                .unwrap_or_else(|| format!("{}-{}", e.dataset, e.model));
            let specs = e
                .methods
                .iter()
                .map(|m| e.method(m))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("experiment {exp_name}"))?;
            for MethodSpec {
                label,
                mixer,
                mix_at,
                teacher,
            } in specs.into_iter().flatten()
            {
                let exp_seeds = seeds.or(e.seeds).unwrap_or(self.seeds);
                check(exp_seeds, &format!("experiment {exp_name}: seeds"))?;
                for seed in 0..exp_seeds {
                    let mut config = e.run_config(mixer.clone(), mix_at.clone(), seed)?;
                    let teacher_id = match &teacher {
                        Some((texp, tlabel, kd)) => {
                            let tid = format!("{texp}-{tlabel}-s{seed}");
                            if !ids.contains(&tid) {
                                bail!(
                                    "experiment {exp_name}: teacher {texp}/{tlabel} has no cell {tid} earlier in the suite \
                                     (a teacher is an earlier experiment's method label with at least as many seeds)"
                                );
                            }
                            // AttentiveMix's teacher picks its cells (its `teacher` field, set by the
                            // bench); every other method distils from it.
                            let own_teacher = config
                                .train
                                .mixer
                                .methods
                                .iter_mut()
                                .any(|m| m.config.teacher_mut().is_some());
                            if !own_teacher {
                                config.train.kd = Some(kd.clone());
                            } else if *kd != KdConfig::new(PathBuf::new()) {
                                bail!(
                                    "experiment {exp_name}: a method's own teacher (attentivemix, tokenmix) is no \
                                     distillation; kd_temperature and kd_weight belong to distillation"
                                );
                            }
                            Some(tid)
                        }
                        None => None,
                    };
                    let id = format!("{exp_name}-{label}-s{seed}");
                    if !ids.insert(id.clone()) {
                        bail!("two cells share the id {id}: give the experiments distinct names");
                    }
                    cells.push(Cell {
                        id,
                        index: cells.len(),
                        experiment: exp_name.clone(),
                        label: label.clone(),
                        config,
                        teacher: teacher_id,
                    });
                }
            }
        }
        Ok(cells)
    }
}

/// One method entry, resolved.
struct MethodSpec {
    label: String,
    mixer: MixerConfig,
    mix_at: Option<Vec<usize>>,
    /// Teacher experiment, its method label, and the distillation settings (path filled in per cell).
    teacher: Option<(String, String, KdConfig)>,
}

impl Experiment {
    fn mixer_for(&self, config: MethodConfig) -> MixerConfig {
        if config.method() == Method::None {
            self.mixer_of(vec![])
        } else {
            self.mixer_of(vec![WeightedMethod {
                weight: 1.0,
                config,
            }])
        }
    }

    /// The experiment's mixer options around a list of weighted methods.
    fn mixer_of(&self, methods: Vec<WeightedMethod>) -> MixerConfig {
        let mut m = MixerConfig {
            methods,
            ..MixerConfig::default()
        };
        if let Some(p) = self.prob {
            m.prob = p;
        }
        if let Some(g) = self.granularity {
            m.granularity = g;
        }
        if let Some(p) = self.pairing {
            m.pairing = p;
        }
        if let Some(s) = self.smoothing {
            m.label_smoothing = s;
        }
        m
    }

    /// The cells' methods of one entry: one, or one per point of the entry's `grid`.
    fn method(&self, entry: &MethodEntry) -> Result<Vec<MethodSpec>> {
        match entry {
            MethodEntry::Name(m) => Ok(vec![MethodSpec {
                label: m.name().to_string(),
                mixer: self.mixer_for(m.default_config()),
                mix_at: None,
                teacher: None,
            }]),
            MethodEntry::Table(t) => {
                let mut t = t.clone();
                let Some(grid) = t.remove("grid") else {
                    return Ok(vec![self.table_method(t)?]);
                };
                let grid = grid.as_table().context(
                    "`grid` must be a table of parameter lists, e.g. grid = { alpha = [0.2, 1.0] }",
                )?;
                if t.contains_key("mix") {
                    bail!(
                        "`grid` varies one method's parameters; it cannot be combined with `mix`"
                    );
                }
                let mut points: Vec<(String, toml::Table)> = vec![(String::new(), t)];
                for (key, values) in grid {
                    let values =
                        values
                            .as_array()
                            .filter(|v| !v.is_empty())
                            .with_context(|| {
                                format!("grid `{key}` must be a non-empty list of values")
                            })?;
                    let mut next = Vec::new();
                    for (suffix, table) in &points {
                        if table.contains_key(key) {
                            bail!("`{key}` is set and also varied by `grid`");
                        }
                        for v in values {
                            let mut table = table.clone();
                            table.insert(key.clone(), v.clone());
                            next.push((format!("{suffix}-{key}{}", grid_value(v)), table));
                        }
                    }
                    points = next;
                }
                points
                    .into_iter()
                    .map(|(suffix, table)| {
                        let mut spec = self.table_method(table)?;
                        spec.label.push_str(&suffix);
                        Ok(spec)
                    })
                    .collect()
            }
        }
    }

    /// Label, mixer, mixing points and distillation teacher of one method table.
    fn table_method(&self, mut t: toml::Table) -> Result<MethodSpec> {
        if let Some(mix) = t.remove("mix") {
            return self.mix_method(t, &mix);
        }

        let method: Method = t
            .remove("method")
            .context("a method table needs `method = \"...\"`")?
            .try_into()
            .map_err(|e: toml::de::Error| {
                anyhow::anyhow!("`method` must name a known method: {}", e.message().trim())
            })?;
        let label = match t.remove("label") {
            Some(v) => v.as_str().context("`label` must be a string")?.to_string(),
            None => method.name().to_string(),
        };
        let mix_at: Option<Vec<usize>> = match t.remove("mix_at") {
            Some(v) => Some(v.try_into().map_err(|e: toml::de::Error| {
                anyhow::anyhow!(
                    "`mix_at` must be a list of stage indices: {}",
                    e.message().trim()
                )
            })?),
            None => None,
        };
        let teacher = match t.remove("teacher") {
            Some(v) => {
                let r = v
                    .as_str()
                    .context("`teacher` must be a string \"experiment/label\"")?;
                let (experiment, label) = r.split_once('/').with_context(|| {
                    format!("`teacher` {r:?} must look like \"experiment/label\"")
                })?;
                let mut kd = KdConfig::new(PathBuf::new());
                for (key, slot) in [
                    ("kd_temperature", &mut kd.temperature),
                    ("kd_weight", &mut kd.weight),
                ] {
                    if let Some(v) = t.remove(key) {
                        *slot = v
                            .as_float()
                            .or_else(|| v.as_integer().map(|i| i as f64))
                            .with_context(|| format!("`{key}` must be a number"))?;
                    }
                }
                Some((experiment.to_string(), label.to_string(), kd))
            }
            None => None,
        };
        for key in ["kd_temperature", "kd_weight"] {
            if t.contains_key(key) {
                bail!("`{key}` needs `teacher = \"experiment/label\"`");
            }
        }
        let params: Vec<String> = t.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let config: MethodConfig =
            merge_params(&method.default_config(), &params, "method parameter")?;
        Ok(MethodSpec {
            label,
            mixer: self.mixer_for(config),
            mix_at,
            teacher,
        })
    }

    /// A weighted mix of methods in one cell, `mix = [["mixup", 0.5], { method = "cutmix", alpha = 1.0,
    /// weight = 0.5 }]` (timm's switch between MixUp and CutMix, generalised); it needs a `label`.
    fn mix_method(&self, mut t: toml::Table, mix: &toml::Value) -> Result<MethodSpec> {
        let label = t
            .remove("label")
            .context("a `mix` entry needs a `label`")?
            .as_str()
            .context("`label` must be a string")?
            .to_string();
        if let Some(k) = t.keys().next() {
            bail!("mix {label}: `{k}` belongs inside one of the mixed methods");
        }
        let entries = mix.as_array().filter(|a| !a.is_empty()).context(
            "`mix` must be a non-empty list of [\"method\", weight] pairs or method tables",
        )?;
        let mut methods = Vec::with_capacity(entries.len());
        for e in entries {
            let (mut table, weight) = match e {
                toml::Value::Array(pair) if pair.len() == 2 => {
                    let mut table = toml::Table::new();
                    table.insert("method".into(), pair[0].clone());
                    (table, pair[1].clone())
                }
                toml::Value::Table(table) => {
                    let mut table = table.clone();
                    let w = table.remove("weight").unwrap_or(toml::Value::Float(1.0));
                    (table, w)
                }
                other => {
                    bail!("mix {label}: {other} is neither [\"method\", weight] nor a method table")
                }
            };
            let weight = weight
                .as_float()
                .or_else(|| weight.as_integer().map(|i| i as f64))
                .with_context(|| format!("mix {label}: a weight must be a number, got {weight}"))?;
            let method: Method = table
                .remove("method")
                .with_context(|| {
                    format!("mix {label}: each mixed method needs `method = \"...\"`")
                })?
                .try_into()
                .map_err(|e: toml::de::Error| {
                    anyhow::anyhow!(
                        "mix {label}: `method` must name a known method: {}",
                        e.message().trim()
                    )
                })?;
            let params: Vec<String> = table.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let config: MethodConfig =
                merge_params(&method.default_config(), &params, "method parameter")?;
            methods.push(WeightedMethod { weight, config });
        }
        Ok(MethodSpec {
            label,
            mixer: self.mixer_of(methods),
            mix_at: None,
            teacher: None,
        })
    }

    fn run_config(
        &self,
        mixer: MixerConfig,
        mix_at: Option<Vec<usize>>,
        seed: u64,
    ) -> Result<RunConfig> {
        let params: Vec<String> = self
            .model_params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let model = merge_params(
            &ModelConfig::by_name(&self.model)?,
            &params,
            "model parameter",
        )?;
        let optimizer = self.optimizer.config();
        let schedule = self.schedule.config(self.epochs);
        if let Some(n) = &self.label_noise {
            n.validate().context("label_noise")?;
        }
        RunConfig {
            dataset: self.dataset.clone(),
            limit: self.limit,
            train_limit: self.train_limit,
            data_seed: self.data_seed.for_run(seed),
            label_noise: self.label_noise,
            labels_per_class: self.labels_per_class,
            validation_fraction: mixlab_data::DEFAULT_VALIDATION_FRACTION,
            train: TrainConfig {
                model,
                epochs: self.epochs,
                batch_size: self.batch_size,
                lr: self.lr,
                optimizer,
                schedule,
                schedule_per: self.schedule_per.into(),
                warmup_epochs: self.warmup_epochs,
                warmup_lr_init: self.warmup_lr_init,
                weight_decay: self.weight_decay,
                seed,
                mixer,
                mix_at,
                augment: self.augment.resolve(),
                device: self.device.kind(),
                continual: self.continual.clone(),
                ..TrainConfig::default()
            },
            paired: self.paired,
        }
        .resolve_pairing()
    }
}

/// A grid value as it appears in a cell label: `0.2`, `1`, `true`, a string as is.
fn grid_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// A shard `K/N` (1-based K).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Shard> {
        let (k, n) = s
            .split_once('/')
            .context("--shard must look like K/N, e.g. 1/4")?;
        let (k, n): (usize, usize) = (k.trim().parse()?, n.trim().parse()?);
        if n == 0 || k == 0 || k > n {
            bail!("--shard {s}: need 1 <= K <= N");
        }
        Ok(Shard { k, n })
    }
}

impl Shard {
    /// The cells of this shard: every N-th cell starting at K − 1 (deterministic, balanced across
    /// experiments because cells are interleaved by seed and method).
    pub fn select(&self, cells: Vec<Cell>) -> Vec<Cell> {
        cells
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.n == self.k - 1)
            .map(|(_, c)| c)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_suite_expands_into_cells_whose_mixers_validate() {
        for (name, _) in BUILTIN {
            let suite = Suite::load(name).unwrap();
            // Method parameters are merged here: the gpu suite's `smoothmix alpha` failed at this point.
            let cells = suite
                .cells(None)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(!cells.is_empty(), "{name}");
            for c in cells {
                let shape = crate::run::sample_shape(&c.config.dataset).unwrap();
                if let Err(e) = c.config.train.mixer.validate(&shape) {
                    panic!("{name}: cell {}: {e}", c.id);
                }
            }
        }
    }

    fn one_experiment(extra: &str) -> Result<Vec<Cell>> {
        let text = format!(
            "name = \"t\"\nseeds = 2\n[[experiment]]\ndataset = \"digits\"\nmodel = \"mlp\"\nepochs = 1\n\
             batch_size = 8\nlr = 0.1\nlimit = 50\nmethods = [\"none\"]\n{extra}"
        );
        let suite: Suite = toml::from_str(&text)?;
        suite.cells(None)
    }

    #[test]
    fn the_data_seed_is_fixed_or_follows_the_run_seed() {
        let seeds = |cells: Vec<Cell>| -> Vec<(u64, u64)> {
            cells
                .iter()
                .map(|c| (c.config.train.seed, c.config.data_seed))
                .collect()
        };
        assert_eq!(seeds(one_experiment("").unwrap()), [(0, 0), (1, 0)]);
        assert_eq!(
            seeds(one_experiment("data_seed = 7").unwrap()),
            [(0, 7), (1, 7)]
        );
        assert_eq!(
            seeds(one_experiment("data_seed = \"run\"").unwrap()),
            [(0, 0), (1, 1)]
        );
        for bad in ["data_seed = \"walk\"", "data_seed = -1"] {
            let e = format!("{:#}", one_experiment(bad).unwrap_err());
            assert!(e.contains("data_seed"), "{bad}: {e}");
        }
    }

    fn with_methods(methods: &str) -> Result<Vec<Cell>> {
        let text = format!(
            "name = \"t\"\nseeds = 1\n[[experiment]]\ndataset = \"digits\"\nmodel = \"mlp\"\nepochs = 1\n\
             batch_size = 8\nlr = 0.1\nlimit = 50\nprob = 0.8\nmethods = {methods}\n"
        );
        let suite: Suite = toml::from_str(&text)?;
        suite.cells(None)
    }

    #[test]
    fn an_attentivemix_teacher_picks_cells_and_is_no_distillation() {
        let cells = with_methods(
            r#"["none", { method = "attentivemix", teacher = "digits-mlp/none", top_k = 3 }]"#,
        )
        .unwrap();
        assert_eq!(cells[1].teacher.as_deref(), Some("digits-mlp-none-s0"));
        assert!(cells[1].config.train.kd.is_none());
        let e = format!(
            "{:#}",
            with_methods(
                r#"["none", { method = "attentivemix", teacher = "digits-mlp/none", kd_weight = 0.5 }]"#
            )
            .unwrap_err()
        );
        assert!(e.contains("belong to distillation"), "{e}");
    }

    #[test]
    fn a_weighted_mix_of_methods_is_one_cell() {
        let cells = with_methods(
            r#"[{ label = "timm", mix = [["mixup", 0.5], { method = "cutmix", alpha = 0.4, weight = 1.5 }] }]"#,
        )
        .unwrap();
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].id, "digits-mlp-timm-s0");
        let m = &cells[0].config.train.mixer;
        assert_eq!(m.prob, 0.8, "the experiment's mixer options apply");
        assert_eq!(m.methods.len(), 2);
        assert_eq!(
            (m.methods[0].weight, m.methods[0].config.method()),
            (0.5, Method::Mixup)
        );
        assert_eq!(m.methods[1].weight, 1.5);
        assert_eq!(
            m.methods[1].config,
            MethodConfig::Cutmix(mixlab_core::methods::CutmixConfig::default().with_alpha(0.4))
        );
        for (bad, why) in [
            (r#"[{ mix = [["mixup", 0.5]] }]"#, "label"),
            (r#"[{ label = "x", mix = [["mixup", "half"]] }]"#, "weight"),
            (
                r#"[{ label = "x", mix = [["mixpu", 0.5]] }]"#,
                "known method",
            ),
            (r#"[{ label = "x", mix = [] }]"#, "non-empty"),
            (
                r#"[{ label = "x", alpha = 1.0, mix = [["mixup", 1]] }]"#,
                "inside",
            ),
            (
                r#"[{ label = "x", mix = [{ method = "mixup", alpha = -1 }] }]"#,
                "alpha",
            ),
        ] {
            let e = format!(
                "{:#}",
                with_methods(bad)
                    .map(|c| {
                        // An invalid α is caught when the mixer is validated, as for any other cell.
                        let shape = crate::run::sample_shape(&c[0].config.dataset).unwrap();
                        c[0].config.train.mixer.validate(&shape).map(|_| c.len())
                    })
                    .and_then(|r| r.map_err(anyhow::Error::from))
                    .unwrap_err()
            );
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_grid_expands_into_labelled_cells_in_order() {
        let cells = with_methods(
            r#"["none", { method = "mixup", grid = { alpha = [0.2, 1.0] } }, { method = "cutmix", grid = { alpha = [0.5, 2], prob_unused = [1] } }]"#,
        );
        // An unknown parameter in a grid is refused like any other.
        assert!(format!("{:#}", cells.unwrap_err()).contains("prob_unused"));
        let cells = with_methods(
            r#"["none", { method = "mixup", grid = { alpha = [0.2, 1.0] } }, { label = "cm", method = "cutmix", grid = { alpha = [0.5, 2.0], margin = [0.0, 0.1] } }]"#,
        )
        .unwrap();
        let ids: Vec<&str> = cells.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "digits-mlp-none-s0",
                "digits-mlp-mixup-alpha0.2-s0",
                "digits-mlp-mixup-alpha1-s0",
                "digits-mlp-cm-alpha0.5-margin0-s0",
                "digits-mlp-cm-alpha0.5-margin0.1-s0",
                "digits-mlp-cm-alpha2-margin0-s0",
                "digits-mlp-cm-alpha2-margin0.1-s0",
            ]
        );
        let MethodConfig::Mixup(m) = &cells[1].config.train.mixer.methods[0].config else {
            panic!("mixup")
        };
        assert_eq!(m.alpha, 0.2);
        for bad in [
            r#"[{ method = "mixup", alpha = 1.0, grid = { alpha = [0.2] } }]"#,
            r#"[{ method = "mixup", grid = { alpha = [] } }]"#,
            r#"[{ method = "mixup", grid = [0.2] }]"#,
            r#"[{ label = "x", mix = [["mixup", 1]], grid = { alpha = [0.2] } }]"#,
        ] {
            assert!(with_methods(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn suites_set_train_limit_label_noise_and_the_schedule_step() {
        let cells = one_experiment(
            "train_limit = 40\nlabel_noise = { rate = 0.4, kind = \"symmetric\" }\nschedule_per = \"epoch\"\nwarmup_lr_init = 1e-6",
        )
        .unwrap();
        let c = &cells[0].config;
        assert_eq!(c.train_limit, Some(40));
        assert_eq!(c.label_noise, Some(LabelNoise::symmetric(0.4)));
        assert_eq!(c.train.schedule_per, mixlab_burn::optim::SchedulePer::Epoch);
        assert_eq!(c.train.warmup_lr_init, Some(1e-6));
        let e = format!(
            "{:#}",
            one_experiment("label_noise = { rate = 1.2 }").unwrap_err()
        );
        assert!(e.contains("label"), "{e}");
    }
}
