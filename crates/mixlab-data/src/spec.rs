//! How a dataset is named in one string: a built-in set or the user's own files ([`DataSpec`]:
//! `fashion-mnist`, `image-folder:photos`, `csv:houses.csv,target=price`, `npy:arrays`), the spelling of the
//! CLI's `--dataset`, of run configs and of suites. Kept apart from the loaders in [`crate::own`] so that a
//! [`crate::Dataset`] can record its spec without the dataset module importing the loaders that build on it.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::id::DatasetId;

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
