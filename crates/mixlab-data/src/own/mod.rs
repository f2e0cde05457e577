//! The user's own data: a folder of images by class, a CSV table with a named target column, or NumPy `.npy`
//! arrays, loaded into the same [`Dataset`] as the built-in sets. [`DataSpec`] names either kind in one string
//! (`fashion-mnist`, `image-folder:photos`, `csv:houses.csv,target=price`, `npy:arrays`), the spelling of the
//! CLI's `--dataset`, of run configs and of suites.
//!
//! Splits: a source with its own test part (an image folder with `train/` and `test/`, `.npy` files named
//! `x_test.npy` / `y_test.npy`) keeps it; otherwise the records are shuffled with the data seed and the first
//! ⌊4n/5⌋ train, the rest test (the rule of the digits set). Validation is held out of the training part later,
//! as for every set without a reference validation split.

mod folder;
mod npy;
mod table_file;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::dataset::{Dataset, LoadOptions, Split};
use crate::error::{Error, Result};
use crate::id::{DatasetId, Task};
use crate::location::DataDir;
use crate::split::shuffled_parts;

pub use npy::{NpyArray, NpyData, parse_npy, read_npy};

/// What a CSV target column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    /// Class names (or integer class ids): one class per distinct value.
    Classification,
    /// Real numbers.
    Regression,
}

impl TargetKind {
    fn name(self) -> &'static str {
        match self {
            TargetKind::Classification => "classification",
            TargetKind::Regression => "regression",
        }
    }
}

/// A dataset made of the user's files.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OwnData {
    /// `root/<class>/*.png|jpg|jpeg` (torchvision's `ImageFolder` layout), or `root/train/<class>/…` with
    /// `root/test/<class>/…` (and optionally `root/val/<class>/…`). Classes are the sub-folders in name order.
    ImageFolder {
        /// The folder.
        root: PathBuf,
        /// Resize every image to height × width (bilinear); without it all images must share one size.
        size: Option<[usize; 2]>,
    },
    /// A CSV file with a header row: numeric feature columns and one target column.
    Csv {
        /// The file (gzip detected from the content).
        path: PathBuf,
        /// The target column's name; the last column when `None`.
        target: Option<String>,
        /// Classification or regression; when `None`, a target column of numbers is regression and one with any
        /// other text is classification.
        task: Option<TargetKind>,
    },
    /// `x_train.npy` and `y_train.npy` (and optionally `x_test.npy` / `y_test.npy`) in a folder.
    Npy {
        /// The folder.
        dir: PathBuf,
    },
}

/// A built-in dataset or the user's own files.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataSpec {
    /// A dataset mixlab knows, found in the data directory.
    Known(DatasetId),
    /// The user's files.
    Own(OwnData),
}

impl From<DatasetId> for DataSpec {
    fn from(id: DatasetId) -> Self {
        DataSpec::Known(id)
    }
}

impl DataSpec {
    /// The same spec with its file or folder made absolute (against the working directory), so a recorded run
    /// config replays from anywhere.
    pub fn absolute(self) -> Result<DataSpec> {
        let abs = |p: PathBuf| std::path::absolute(&p).map_err(|e| Error::io(&p, e));
        Ok(match self {
            DataSpec::Known(_) => self,
            DataSpec::Own(OwnData::ImageFolder { root, size }) => {
                DataSpec::Own(OwnData::ImageFolder {
                    root: abs(root)?,
                    size,
                })
            }
            DataSpec::Own(OwnData::Csv { path, target, task }) => DataSpec::Own(OwnData::Csv {
                path: abs(path)?,
                target,
                task,
            }),
            DataSpec::Own(OwnData::Npy { dir }) => DataSpec::Own(OwnData::Npy { dir: abs(dir)? }),
        })
    }

    /// The built-in dataset, if this is one.
    pub fn known(&self) -> Option<DatasetId> {
        match self {
            DataSpec::Known(id) => Some(*id),
            DataSpec::Own(_) => None,
        }
    }
}

const FORMATS: &str = "image-folder:DIR[,size=HxW], csv:FILE[,target=COLUMN][,task=classification|regression], npy:DIR";

impl fmt::Display for DataSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSpec::Known(id) => f.write_str(id.name()),
            DataSpec::Own(OwnData::ImageFolder { root, size }) => {
                write!(f, "image-folder:{}", root.display())?;
                if let Some([h, w]) = size {
                    write!(f, ",size={h}x{w}")?;
                }
                Ok(())
            }
            DataSpec::Own(OwnData::Csv { path, target, task }) => {
                write!(f, "csv:{}", path.display())?;
                if let Some(t) = target {
                    write!(f, ",target={t}")?;
                }
                if let Some(k) = task {
                    write!(f, ",task={}", k.name())?;
                }
                Ok(())
            }
            DataSpec::Own(OwnData::Npy { dir }) => write!(f, "npy:{}", dir.display()),
        }
    }
}

impl FromStr for DataSpec {
    type Err = Error;

    /// Parses a built-in name or `FORMAT:PATH[,key=value…]` (a path may not contain a comma).
    fn from_str(s: &str) -> Result<DataSpec> {
        let Some((format, rest)) = s.split_once(':') else {
            return s
                .parse::<DatasetId>()
                .map(DataSpec::Known)
                .map_err(|e| match e {
                    Error::UnknownDataset { name, known } => Error::UnknownDataset {
                        name,
                        known: format!("{known}; or your own files: {FORMATS}"),
                    },
                    other => other,
                });
        };
        let mut parts = rest.split(',');
        let path = PathBuf::from(parts.next().unwrap_or_default());
        if path.as_os_str().is_empty() {
            return Err(Error::param("dataset path", "not empty", s));
        }
        let mut options = Vec::new();
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| Error::param("dataset option", "key=value", p))?;
            options.push((k.trim(), v.trim()));
        }
        let unknown = |k: &str, allowed: &'static str| {
            Error::param("dataset option", allowed, format!("{k:?} in {s:?}"))
        };
        let own = match format {
            "image-folder" => {
                let mut size = None;
                for (k, v) in options {
                    match k {
                        "size" => size = Some(parse_size(v)?),
                        _ => return Err(unknown(k, "size=HxW for image-folder")),
                    }
                }
                OwnData::ImageFolder { root: path, size }
            }
            "csv" => {
                let (mut target, mut task) = (None, None);
                for (k, v) in options {
                    match k {
                        "target" if !v.is_empty() => target = Some(v.to_string()),
                        "task" => {
                            task = Some(match v {
                                "classification" => TargetKind::Classification,
                                "regression" => TargetKind::Regression,
                                _ => {
                                    return Err(Error::param(
                                        "csv task",
                                        "classification or regression",
                                        v,
                                    ));
                                }
                            })
                        }
                        _ => return Err(unknown(k, "target=COLUMN or task=… for csv")),
                    }
                }
                OwnData::Csv { path, target, task }
            }
            "npy" => {
                if let Some((k, _)) = options.first() {
                    return Err(unknown(k, "no option for npy"));
                }
                OwnData::Npy { dir: path }
            }
            _ => {
                return Err(Error::UnknownDataset {
                    name: s.to_string(),
                    known: format!("a built-in name, or {FORMATS}"),
                });
            }
        };
        Ok(DataSpec::Own(own))
    }
}

fn parse_size(v: &str) -> Result<[usize; 2]> {
    let bad = || Error::param("image size", "HxW with both in 1..=4096", v);
    let (h, w) = v.split_once('x').ok_or_else(bad)?;
    let (h, w): (usize, usize) = (h.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
    if !(1..=4096).contains(&h) || !(1..=4096).contains(&w) {
        return Err(bad());
    }
    Ok([h, w])
}

impl serde::Serialize for DataSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DataSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Loads a built-in dataset (see [`crate::load`]) or the user's files (see the module docs).
pub fn load_spec(spec: &DataSpec, dir: &DataDir, opts: &LoadOptions) -> Result<Dataset> {
    match spec {
        DataSpec::Known(id) => crate::dataset::load(*id, dir, opts),
        DataSpec::Own(own) => load_own(own, opts),
    }
}

/// Shape and task of a dataset without loading all of it where that is cheap (built-in sets: no I/O; an image
/// folder: its class folders and the first image's header). CSV and `.npy` sets are read whole.
pub fn peek(spec: &DataSpec) -> Result<(Vec<usize>, Task)> {
    match spec {
        DataSpec::Known(id) => Ok((id.sample_shape(), id.task())),
        DataSpec::Own(OwnData::ImageFolder { root, size }) => folder::peek(root, *size),
        DataSpec::Own(own) => {
            let ds = load_own(own, &LoadOptions::default())?;
            Ok((ds.sample_shape, ds.task))
        }
    }
}

/// What one own-data reader produced: the task, one sample's shape, the parts, and the files read.
struct Parts {
    task: Task,
    shape: Vec<usize>,
    /// The whole set when `test` is `None`, else the training part.
    train: Split,
    valid: Option<Split>,
    test: Option<Split>,
    class_names: Option<Vec<String>>,
    files: Vec<String>,
}

fn load_own(own: &OwnData, opts: &LoadOptions) -> Result<Dataset> {
    opts.validate()?;
    let (source, parts) = match own {
        OwnData::ImageFolder { root, size } => (root.clone(), folder::read(root, *size)?),
        OwnData::Csv { path, target, task } => (
            path.clone(),
            table_file::read(path, target.as_deref(), *task)?,
        ),
        OwnData::Npy { dir } => (dir.clone(), npy::read_dir(dir)?),
    };
    let (mut train, mut test) = match parts.test {
        Some(test) => (parts.train, test),
        None => {
            let n = parts.train.n;
            let n_train = n * 4 / 5;
            if n_train == 0 || n_train == n {
                return Err(Error::too_few(
                    &source,
                    format!("{n} records are too few for a training and a test part"),
                ));
            }
            let idx = shuffled_parts(n, &[n_train, n - n_train], opts.seed);
            (parts.train.select(&idx[0])?, parts.train.select(&idx[1])?)
        }
    };
    let mut valid = parts.valid;
    train.truncate(opts.train_limit.into_iter().chain(opts.limit).min());
    if let Some(v) = &mut valid {
        v.truncate(opts.limit);
    }
    test.truncate(opts.limit);
    Ok(Dataset {
        spec: DataSpec::Own(own.clone()),
        task: parts.task,
        sample_shape: parts.shape,
        train,
        valid,
        test,
        source: source.display().to_string(),
        files: parts.files,
        class_names: parts.class_names,
    })
}

/// Sorted class names: numerically when every name is an integer (so `10` follows `9`), else by text.
fn sorted_classes(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    if names.iter().all(|n| n.parse::<i64>().is_ok()) {
        names.sort_by_key(|n| n.parse::<i64>().unwrap_or_default());
    }
    names
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_through_their_string_and_serde() {
        for s in [
            "fashion-mnist",
            "cifar100-coarse",
            "image-folder:data/photos",
            "image-folder:p,size=32x24",
            "csv:a/b.csv",
            "csv:b.csv,target=price,task=regression",
            "npy:arrays",
        ] {
            let spec: DataSpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<DataSpec>(&json).unwrap(), spec);
        }
        assert_eq!(
            "csv:x.csv, task = classification"
                .parse::<DataSpec>()
                .unwrap(),
            DataSpec::Own(OwnData::Csv {
                path: "x.csv".into(),
                target: None,
                task: Some(TargetKind::Classification)
            })
        );
    }

    #[test]
    fn bad_specs_say_what_is_allowed() {
        for (s, why) in [
            ("fashion", "image-folder:DIR"),
            ("tiff:x", "csv:FILE"),
            ("csv:", "not empty"),
            ("csv:x.csv,tsk=regression", "target=COLUMN"),
            ("csv:x.csv,task=ordinal", "classification or regression"),
            ("image-folder:x,size=0x4", "HxW"),
            ("image-folder:x,size=32", "HxW"),
            ("npy:d,size=1x1", "no option"),
            ("csv:x.csv,target", "key=value"),
        ] {
            let e = s.parse::<DataSpec>().unwrap_err().to_string();
            assert!(e.contains(why), "{s}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn class_names_sort_numerically_when_all_are_integers() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            sorted_classes(v(&["10", "9", "2", "9"])),
            v(&["2", "9", "10"])
        );
        assert_eq!(
            sorted_classes(v(&["dog", "cat", "10"])),
            v(&["10", "cat", "dog"])
        );
    }
}
