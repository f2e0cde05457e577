//! The dataset layer: which datasets exist, what task and sample shape each has, and loading one into memory as
//! f32 train / (validation) / test splits with documented, deterministic splitting rules.
//!
//! Scales of [`Split::x`]: images in [0, 1] (pixel ÷ 255; digits pixel ÷ 16), audio in [-1, 1) (sample ÷ 32768),
//! tables in their raw units except Exchange-Rate (each series ÷ its max |value| over the whole file, the
//! LSTNet/C-Mixup normalisation). Fit a [`crate::Scaler`] on the training split to standardise further.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use crate::id::{DEFAULT_WINDOW, DatasetId, Task};
use crate::images::U8Images;
use crate::input::Source;
use crate::location::{DataDir, IDX_FILES, Location, embedded_source, first_file, idx_names};
use crate::spec::DataSpec;
use crate::split::{shuffled_parts, split_validation};
use crate::table::Table;
use crate::tabular::{self, RegressionTable};
use crate::{cifar, fsdd, idx};

impl DatasetId {
    /// Whether a copy is compiled into the binary (digits, airfoil).
    pub fn is_embedded(self) -> bool {
        embedded_source(self).is_some()
    }
}

/// Default Exchange-Rate horizon (days ahead of the window's last day), C-Mixup's `horizon = 12`.
pub const DEFAULT_HORIZON: usize = 12;

/// Options of [`load`]. Defaults: no limit, split seed 0, Exchange-Rate window 168 / horizon 12, FSDD clips of
/// 8000 samples.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct LoadOptions {
    /// Keep at most this many records per split (train, validation, test each); readers of binary formats stop
    /// reading there. For tests and quick CPU runs.
    pub limit: Option<usize>,
    /// Keep the first this many records of the training split in the dataset's official order (before any
    /// validation hold-out); the test split stays whole. Combines with `limit` (the smaller wins for training).
    pub train_limit: Option<usize>,
    /// Seed of the shuffled splits (digits, Airfoil, Communities-and-Crime, SkillCraft).
    pub seed: u64,
    /// Exchange-Rate: days in one input window.
    pub window: usize,
    /// Exchange-Rate: the target is the day `horizon` days after the window's last day.
    pub horizon: usize,
    /// FSDD: samples per clip after centred crop / zero-pad.
    pub audio_len: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limit: None,
            train_limit: None,
            seed: 0,
            window: DEFAULT_WINDOW,
            horizon: DEFAULT_HORIZON,
            audio_len: fsdd::DEFAULT_LEN,
        }
    }
}

impl LoadOptions {
    /// Sets [`LoadOptions::limit`].
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        self.limit = limit;
        self
    }

    /// Sets [`LoadOptions::train_limit`].
    pub fn with_train_limit(mut self, n: Option<usize>) -> Self {
        self.train_limit = n;
        self
    }

    /// The most training records kept (`limit` and `train_limit` together).
    fn train_cap(&self) -> Option<usize> {
        match (self.limit, self.train_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Sets [`LoadOptions::seed`].
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the Exchange-Rate window and horizon.
    pub fn with_window(mut self, window: usize, horizon: usize) -> Self {
        self.window = window;
        self.horizon = horizon;
        self
    }

    /// Sets [`LoadOptions::audio_len`].
    pub fn with_audio_len(mut self, len: usize) -> Self {
        self.audio_len = len;
        self
    }

    /// Checks every option; [`load`] calls it first.
    pub fn validate(&self) -> Result<()> {
        if self.limit == Some(0) {
            return Err(Error::param("limit", "at least 1 (or none)", 0));
        }
        if self.train_limit == Some(0) {
            return Err(Error::param("train_limit", "at least 1 (or none)", 0));
        }
        if !(1..=100_000).contains(&self.window) {
            return Err(Error::param("window", "in 1..=100000", self.window));
        }
        if !(1..=100_000).contains(&self.horizon) {
            return Err(Error::param("horizon", "in 1..=100000", self.horizon));
        }
        if self.audio_len == 0 || self.audio_len as u64 > fsdd::MAX_SAMPLES {
            return Err(Error::param(
                "audio length",
                "in 1..=2^26 samples",
                self.audio_len,
            ));
        }
        Ok(())
    }
}

/// One split in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Number of samples.
    pub n: usize,
    /// Values per sample (product of the dataset's sample shape).
    pub sample_len: usize,
    /// `n × sample_len` inputs, sample-major. Images in [0, 1] (pixel ÷ 255; digits pixel ÷ 16), audio in
    /// [-1, 1), tables in raw units (Exchange-Rate: each series ÷ its max |value|).
    pub x: Vec<f32>,
    /// Class labels (classification), `n` values.
    pub labels: Option<Vec<usize>>,
    /// Targets (regression), `n × target_len` values.
    pub targets: Option<Vec<f32>>,
    /// Values per target (regression outputs); 0 for classification.
    pub target_len: usize,
}

impl Split {
    pub(crate) fn classification(x: Vec<f32>, sample_len: usize, labels: Vec<usize>) -> Split {
        debug_assert_eq!(x.len(), labels.len() * sample_len);
        Split {
            n: labels.len(),
            sample_len,
            x,
            labels: Some(labels),
            targets: None,
            target_len: 0,
        }
    }

    pub(crate) fn regression(
        x: Vec<f32>,
        sample_len: usize,
        targets: Vec<f32>,
        target_len: usize,
    ) -> Split {
        debug_assert_eq!(x.len() / sample_len, targets.len() / target_len);
        Split {
            n: targets.len() / target_len,
            sample_len,
            x,
            labels: None,
            targets: Some(targets),
            target_len,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the split holds no sample.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Inputs of sample `i`, or `None` when out of range.
    pub fn sample(&self, i: usize) -> Option<&[f32]> {
        self.x.get(i * self.sample_len..(i + 1) * self.sample_len)
    }

    /// Targets of sample `i` (regression), or `None`.
    pub fn target(&self, i: usize) -> Option<&[f32]> {
        self.targets
            .as_ref()?
            .get(i * self.target_len..(i + 1) * self.target_len)
    }

    /// A new split of the samples at `indices`, in that order; an index ≥ `n` is an error.
    pub fn select(&self, indices: &[usize]) -> Result<Split> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.n) {
            return Err(Error::param(
                "sample index",
                "below the split size",
                format!("{bad} (size {})", self.n),
            ));
        }
        let mut x = Vec::with_capacity(indices.len() * self.sample_len);
        for &i in indices {
            x.extend_from_slice(&self.x[i * self.sample_len..(i + 1) * self.sample_len]);
        }
        let labels = self
            .labels
            .as_ref()
            .map(|l| indices.iter().map(|&i| l[i]).collect());
        let targets = self.targets.as_ref().map(|t| {
            let mut out = Vec::with_capacity(indices.len() * self.target_len);
            for &i in indices {
                out.extend_from_slice(&t[i * self.target_len..(i + 1) * self.target_len]);
            }
            out
        });
        Ok(Split {
            n: indices.len(),
            sample_len: self.sample_len,
            x,
            labels,
            targets,
            target_len: self.target_len,
        })
    }

    pub(crate) fn truncate(&mut self, limit: Option<usize>) {
        let Some(l) = limit else { return };
        if l >= self.n {
            return;
        }
        self.n = l;
        self.x.truncate(l * self.sample_len);
        if let Some(labels) = &mut self.labels {
            labels.truncate(l);
        }
        if let Some(t) = &mut self.targets {
            t.truncate(l * self.target_len);
        }
    }
}

/// A dataset in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Which dataset: a built-in one or the user's files.
    pub spec: DataSpec,
    /// Classification or regression.
    pub task: Task,
    /// Shape of one sample (see [`DatasetId::sample_shape`]); its product is [`Split::sample_len`].
    pub sample_shape: Vec<usize>,
    /// Training split.
    pub train: Split,
    /// Official or reference validation split (Airfoil, Exchange-Rate, Communities-and-Crime, SkillCraft);
    /// `None` for the others — use [`Dataset::with_validation`].
    pub valid: Option<Split>,
    /// Test split.
    pub test: Split,
    /// Where the data came from (folder or embedded file), for run records.
    pub source: String,
    /// The files actually read (paths, or the embedded file's name), for run records.
    pub files: Vec<String>,
    /// Class names in label order where the source names them (image folders, CSV class columns); `None` for
    /// the built-in sets.
    pub class_names: Option<Vec<String>>,
}

impl Dataset {
    /// Makes sure a validation split exists: when the dataset has none, holds out `frac` of the training split
    /// (chosen by `seed`, see [`split_validation`]); otherwise returns the dataset unchanged.
    pub fn with_validation(mut self, frac: f64, seed: u64) -> Result<Dataset> {
        if self.valid.is_none() {
            let (train, valid) = split_validation(self.train.n, frac, seed)?;
            let new_train = self.train.select(&train)?;
            self.valid = Some(self.train.select(&valid)?);
            self.train = new_train;
        }
        Ok(self)
    }
}

/// Loads `id` from `dir` (see [`DataDir::locate`]) with `opts`.
///
/// Splits:
/// - mnist, fashion-mnist: official train/test files.
/// - cifar10: `data_batch_1..5.bin` that exist (train) and `test_batch.bin` or `test_batch_first1000.bin`.
/// - cifar100, cifar100-coarse: `train.bin` / `test.bin` of the binary version, fine (100) or coarse (20) labels.
/// - fsdd: official split, takes 0–4 test, 5–49 train; clips centred to `audio_len` samples.
/// - digits: no official split; shuffled with `seed`, first ⌊4n/5⌋ train, rest test (1437 / 360, the sizes of
///   sklearn's `train_test_split(test_size=0.2)`).
/// - airfoil: as C-Mixup, shuffled with `seed`, then train / valid / test = the rest / ⌊n/5⌋ / ⌊2n/15⌋
///   (1003 / 300 / 200 of 1503).
/// - communities-crime, skillcraft: shuffled with `seed`, ⌊0.7n⌋ / ⌊0.1n⌋ / rest (C-Mixup's in-distribution
///   ratios; C-Mixup's reported runs use a domain (OOD) split instead).
/// - exchange-rate: LSTNet/C-Mixup windows in time order: the target day t lies in [0, 0.7T) for train,
///   [0.7T, 0.8T) for valid, [0.8T, T) for test (T days, bounds floored); the input is days
///   `t−horizon−window+1 ..= t−horizon`, shaped `[8, window]` (series-major).
///
/// `limit` then keeps the first `limit` samples of each split (after the shuffle where there is one), and
/// `train_limit` the first `train_limit` training samples (the test split stays whole).
pub fn load(id: DatasetId, dir: &DataDir, opts: &LoadOptions) -> Result<Dataset> {
    opts.validate()?;
    let (source, folder) = match dir.locate(id) {
        Location::Folder(p) => (p.display().to_string(), Some(p)),
        Location::Embedded(name) => (name.to_string(), None),
        Location::Missing { tried } => {
            return Err(Error::NotFound {
                dataset: id.name(),
                tried,
            });
        }
    };
    let task = id.task();
    let files: Vec<String>;
    let (sample_shape, mut train, mut valid, mut test) = match id {
        DatasetId::Mnist
        | DatasetId::FashionMnist
        | DatasetId::Cifar10
        | DatasetId::Cifar100
        | DatasetId::Cifar100Coarse => {
            let folder = folder_or_missing(id, folder)?;
            let (tr, te, read) = read_images(id, &folder, opts.train_cap(), opts.limit)?;
            files = read;
            let shape = tr.shape.to_vec();
            (shape, image_split(&tr), None, image_split(&te))
        }
        DatasetId::Fsdd => {
            let folder = folder_or_missing(id, folder)?;
            let (tr, te) = fsdd::read_fsdd_dir(&folder, opts.audio_len, opts.limit)?;
            files = vec![folder.display().to_string()];
            let audio = |s: fsdd::AudioSet| {
                let labels = s.labels();
                Split::classification(s.samples, s.len, labels)
            };
            (vec![1, opts.audio_len], audio(tr), None, audio(te))
        }
        DatasetId::Digits => {
            let src = table_source(id, folder.as_deref())?;
            let (x, labels) = tabular::read_digits(&src)?;
            files = vec![src.path().display().to_string()];
            let x: Vec<f32> = x.into_iter().map(|v| v / 16.0).collect();
            let all = Split::classification(x, 64, labels);
            let n = all.n;
            let n_train = n * 4 / 5;
            let parts = checked_parts(&src, n, &[n_train, n - n_train], opts.seed)?;
            (
                vec![1, 8, 8],
                all.select(&parts[0])?,
                None,
                all.select(&parts[1])?,
            )
        }
        DatasetId::Airfoil | DatasetId::CommunitiesCrime | DatasetId::Skillcraft => {
            let src = table_source(id, folder.as_deref())?;
            files = vec![src.path().display().to_string()];
            let t: RegressionTable = match id {
                DatasetId::Airfoil => tabular::read_airfoil(&src)?,
                DatasetId::CommunitiesCrime => tabular::read_communities_crime(&src)?,
                _ => tabular::read_skillcraft(&src)?,
            };
            let n = t.n;
            let sizes = if id == DatasetId::Airfoil {
                let (v, te) = (n / 5, n * 2 / 15);
                [n - v - te, v, te]
            } else {
                let (tr, v) = (n * 7 / 10, n / 10);
                [tr, v, n - tr - v]
            };
            let parts = checked_parts(&src, n, &sizes, opts.seed)?;
            let all = Split::regression(t.x, t.features, t.y, 1);
            (
                vec![t.features],
                all.select(&parts[0])?,
                Some(all.select(&parts[1])?),
                all.select(&parts[2])?,
            )
        }
        DatasetId::ExchangeRate => {
            let src = table_source(id, folder.as_deref())?;
            let series = tabular::read_exchange_rate(&src)?;
            files = vec![src.path().display().to_string()];
            let [tr, v, te] = exchange_windows(&src.path(), &series, opts.window, opts.horizon)?;
            (vec![series.cols, opts.window], tr, Some(v), te)
        }
    };
    train.truncate(opts.train_cap());
    if let Some(v) = &mut valid {
        v.truncate(opts.limit);
    }
    test.truncate(opts.limit);
    Ok(Dataset {
        spec: DataSpec::Known(id),
        task,
        sample_shape,
        train,
        valid,
        test,
        source,
        files,
        class_names: None,
    })
}

/// Loads the raw u8 images of an image dataset (mnist, fashion-mnist, cifar10) as stored, train and test.
pub fn load_u8(id: DatasetId, dir: &DataDir, limit: Option<usize>) -> Result<(U8Images, U8Images)> {
    if !matches!(
        id,
        DatasetId::Mnist
            | DatasetId::FashionMnist
            | DatasetId::Cifar10
            | DatasetId::Cifar100
            | DatasetId::Cifar100Coarse
    ) {
        return Err(Error::param("dataset", U8_SETS, id));
    }
    if limit == Some(0) {
        return Err(Error::param("limit", "at least 1 (or none)", 0));
    }
    match dir.locate(id) {
        Location::Folder(p) => read_images(id, &p, limit, limit).map(|(tr, te, _)| (tr, te)),
        Location::Missing { tried } => Err(Error::NotFound {
            dataset: id.name(),
            tried,
        }),
        // Image sets are never embedded; kept exhaustive rather than unreachable.
        Location::Embedded(_) => Err(Error::NotFound {
            dataset: id.name(),
            tried: Vec::new(),
        }),
    }
}

const U8_SETS: &str =
    "an image dataset stored as bytes (mnist, fashion-mnist, cifar10, cifar100, cifar100-coarse)";

fn folder_or_missing(id: DatasetId, folder: Option<PathBuf>) -> Result<PathBuf> {
    folder.ok_or_else(|| Error::NotFound {
        dataset: id.name(),
        tried: Vec::new(),
    })
}

/// Reads an image set's training (at most `train_limit` records) and test (at most `test_limit`) parts; also
/// returns the files read.
fn read_images(
    id: DatasetId,
    folder: &Path,
    train_limit: Option<usize>,
    test_limit: Option<usize>,
) -> Result<(U8Images, U8Images, Vec<String>)> {
    let shown = |p: &Path| p.display().to_string();
    match id {
        DatasetId::Mnist | DatasetId::FashionMnist => {
            let path = |i: usize| {
                let (part, kind) = IDX_FILES[i];
                let names = idx_names(part, kind);
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                first_file(folder, &refs).unwrap_or_else(|| folder.join(&names[0]))
            };
            let train = idx::read_idx_pair(&path(0), &path(1), 10, train_limit)?;
            let test = idx::read_idx_pair(&path(2), &path(3), 10, test_limit)?;
            Ok((train, test, (0..4).map(|i| shown(&path(i))).collect()))
        }
        DatasetId::Cifar10 => {
            let (train, test, read) = cifar::read_cifar_split(folder, train_limit, test_limit)?;
            Ok((train, test, read.iter().map(|p| shown(p)).collect()))
        }
        DatasetId::Cifar100 | DatasetId::Cifar100Coarse => {
            let labels = if id == DatasetId::Cifar100 {
                cifar::hundred::Labels::Fine
            } else {
                cifar::hundred::Labels::Coarse
            };
            let (train, test, read) =
                cifar::hundred::read_split(folder, labels, train_limit, test_limit)?;
            Ok((train, test, read.iter().map(|p| shown(p)).collect()))
        }
        _ => Err(Error::param("dataset", U8_SETS, id)),
    }
}

fn image_split(images: &U8Images) -> Split {
    let labels = images.labels.iter().map(|&l| usize::from(l)).collect();
    Split::classification(images.to_f32_unit(), images.sample_len(), labels)
}

fn table_source(id: DatasetId, folder: Option<&Path>) -> Result<Source> {
    match folder {
        Some(dir) => first_file(dir, id.file_names())
            .map(Source::File)
            .ok_or_else(|| Error::NotFound {
                dataset: id.name(),
                tried: vec![dir.to_path_buf()],
            }),
        None => embedded_source(id).ok_or_else(|| Error::NotFound {
            dataset: id.name(),
            tried: Vec::new(),
        }),
    }
}

fn checked_parts(src: &Source, n: usize, sizes: &[usize], seed: u64) -> Result<Vec<Vec<usize>>> {
    if sizes.contains(&0) {
        return Err(Error::too_few(
            src.path(),
            format!("{n} rows are too few for a split of sizes {sizes:?}"),
        ));
    }
    Ok(shuffled_parts(n, sizes, seed))
}

/// Builds the train / valid / test windows of a `T × m` series (see [`load`]), scaling each series by its
/// max |value| over the whole file.
fn exchange_windows(
    path: &Path,
    series: &Table,
    window: usize,
    horizon: usize,
) -> Result<[Split; 3]> {
    let (t_len, m) = (series.rows, series.cols);
    let mut scale = vec![0.0f32; m];
    for r in 0..t_len {
        for (c, s) in scale.iter_mut().enumerate() {
            *s = s.max(series.cells[r * m + c].abs());
        }
    }
    for s in &mut scale {
        if *s == 0.0 {
            *s = 1.0;
        }
    }
    let first = window + horizon - 1;
    let bounds = [0, t_len * 7 / 10, t_len * 8 / 10, t_len];
    let make = |k: usize, name: &str| -> Result<Split> {
        let (lo, hi) = (bounds[k].max(first), bounds[k + 1]);
        if lo >= hi {
            return Err(Error::too_few(
                path,
                format!(
                    "{t_len} rows leave no {name} window for window {window} + horizon {horizon}"
                ),
            ));
        }
        let n = hi - lo;
        let mut x = vec![0.0f32; n * m * window];
        let mut y = Vec::with_capacity(n * m);
        for (sample, t) in x.chunks_exact_mut(m * window).zip(lo..hi) {
            // Target day t; the window ends `horizon` days before it.
            let start = t + 1 - horizon - window;
            for d in 0..window {
                let row = &series.cells[(start + d) * m..(start + d + 1) * m];
                for c in 0..m {
                    sample[c * window + d] = row[c] / scale[c];
                }
            }
            y.extend((0..m).map(|c| series.cells[t * m + c] / scale[c]));
        }
        Ok(Split::regression(x, m * window, y, m))
    };
    Ok([
        make(0, "training")?,
        make(1, "validation")?,
        make(2, "test")?,
    ])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for id in DatasetId::ALL {
            assert_eq!(id.name().parse::<DatasetId>().unwrap(), id);
            assert_eq!(id.to_string(), id.name());
        }
        let e = "mnits".parse::<DatasetId>().unwrap_err().to_string();
        assert!(
            e.contains("\"mnits\"") && e.contains("fashion-mnist"),
            "{e}"
        );
    }

    #[test]
    fn serde_names_match_display_names() {
        for id in DatasetId::ALL {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.name()));
            assert_eq!(serde_json::from_str::<DatasetId>(&json).unwrap(), id);
        }
    }

    #[test]
    fn options_validate_and_round_trip() {
        assert!(LoadOptions::default().validate().is_ok());
        for bad in [
            LoadOptions::default().with_limit(Some(0)),
            LoadOptions::default().with_window(0, 1),
            LoadOptions::default().with_window(5, 0),
            LoadOptions::default().with_audio_len(0),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let o = LoadOptions::default().with_limit(Some(5)).with_seed(3);
        let back: LoadOptions = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(back, o);
        let partial: LoadOptions = serde_json::from_str(r#"{"window": 24}"#).unwrap();
        assert_eq!(
            partial,
            LoadOptions::default().with_window(24, DEFAULT_HORIZON)
        );
    }

    #[test]
    fn split_select_and_truncate_keep_inputs_and_targets_aligned() {
        let s = Split::regression(
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            2,
            vec![10.0, 11.0, 12.0],
            1,
        );
        let t = s.select(&[2, 0]).unwrap();
        assert_eq!(t.x, vec![4.0, 5.0, 0.0, 1.0]);
        assert_eq!(t.targets, Some(vec![12.0, 10.0]));
        assert_eq!(t.target(1), Some(&[10.0][..]));
        assert!(s.select(&[3]).is_err());
        let mut u = s.clone();
        u.truncate(Some(1));
        assert_eq!(
            (u.n, u.x.len(), u.targets.as_ref().map(Vec::len)),
            (1, 2, Some(1))
        );
    }
}
