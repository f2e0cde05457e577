//! Where datasets live: the data directory (`--data-dir` > `MIXLAB_DATA` > none), the folder of each dataset
//! inside it, and the two small sets compiled into the binary from the crate's `data/` folder.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::id::DatasetId;
use crate::input::Source;

/// Environment variable naming the data directory when no explicit path is given.
pub const ENV_VAR: &str = "MIXLAB_DATA";

static DIGITS_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
static AIRFOIL_DAT: &[u8] = include_bytes!("../data/airfoil_self_noise.dat");

/// The embedded copy of a dataset (digits and Airfoil only), named as in the repository.
pub(crate) fn embedded_source(id: DatasetId) -> Option<Source> {
    match id {
        DatasetId::Digits => Some(Source::Embedded {
            name: "data/digits.csv.gz (embedded)",
            bytes: DIGITS_GZ,
        }),
        DatasetId::Airfoil => Some(Source::Embedded {
            name: "data/airfoil_self_noise.dat (embedded)",
            bytes: AIRFOIL_DAT,
        }),
        _ => None,
    }
}

/// How the data directory was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirOrigin {
    /// An explicit path (`--data-dir`).
    Explicit,
    /// The `MIXLAB_DATA` environment variable.
    Env,
    /// Neither: only the embedded datasets are available.
    None,
}

/// The resolved data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: Option<PathBuf>,
    origin: DirOrigin,
}

impl DataDir {
    /// Explicit path > `MIXLAB_DATA` (when set and not empty) > no directory (embedded sets only).
    pub fn resolve(explicit: Option<&Path>) -> DataDir {
        DataDir::resolve_with(explicit, std::env::var_os(ENV_VAR))
    }

    /// [`DataDir::resolve`] with the environment value passed in (tests cannot safely set variables).
    pub fn resolve_with(explicit: Option<&Path>, env: Option<OsString>) -> DataDir {
        match (explicit, env) {
            (Some(p), _) => DataDir::at(p),
            (None, Some(v)) if !v.is_empty() => DataDir {
                root: Some(PathBuf::from(v)),
                origin: DirOrigin::Env,
            },
            _ => DataDir::none(),
        }
    }

    /// An explicit directory.
    pub fn at(path: impl Into<PathBuf>) -> DataDir {
        DataDir {
            root: Some(path.into()),
            origin: DirOrigin::Explicit,
        }
    }

    /// No directory: only the embedded datasets (digits, airfoil) can load.
    pub fn none() -> DataDir {
        DataDir {
            root: None,
            origin: DirOrigin::None,
        }
    }

    /// The directory, if any.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// How it was chosen.
    pub fn origin(&self) -> DirOrigin {
        self.origin
    }

    /// Where `id` would be loaded from: the first candidate folder (see [`DatasetId::folders`]) that holds the
    /// dataset's files, else the embedded copy, else missing.
    pub fn locate(&self, id: DatasetId) -> Location {
        let mut tried = Vec::new();
        if let Some(root) = &self.root {
            for f in id.folders() {
                let dir = if *f == "." {
                    root.clone()
                } else {
                    root.join(f)
                };
                if holds(id, &dir) {
                    return Location::Folder(dir);
                }
                tried.push(dir);
            }
        }
        match embedded_source(id) {
            Some(Source::Embedded { name, .. }) => Location::Embedded(name),
            _ => Location::Missing { tried },
        }
    }
}

/// The first of `names` that exists as a file in `dir`.
pub(crate) fn first_file(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// File-name variants of an IDX file: gzip, raw, and the `train-images.idx3-ubyte` spelling of some mirrors.
pub(crate) fn idx_names(part: &str, kind: &str) -> [String; 3] {
    let dotted = kind.replacen('-', ".", 1);
    [
        format!("{part}-{kind}-ubyte.gz"),
        format!("{part}-{kind}-ubyte"),
        format!("{part}-{dotted}-ubyte"),
    ]
}

pub(crate) const IDX_FILES: [(&str, &str); 4] = [
    ("train", "images-idx3"),
    ("train", "labels-idx1"),
    ("t10k", "images-idx3"),
    ("t10k", "labels-idx1"),
];

/// Whether `dir` holds what the loader of `id` needs (cheap: file existence only).
fn holds(id: DatasetId, dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    match id {
        DatasetId::Mnist | DatasetId::FashionMnist => IDX_FILES.iter().all(|(part, kind)| {
            let names = idx_names(part, kind);
            first_file(dir, &names.iter().map(String::as_str).collect::<Vec<_>>()).is_some()
        }),
        DatasetId::Cifar10 => crate::cifar::find_cifar_files(dir).is_ok(),
        DatasetId::Cifar100 | DatasetId::Cifar100Coarse => {
            crate::cifar::hundred::find_files(dir).is_ok()
        }
        DatasetId::Fsdd => {
            let rec = crate::fsdd::recordings_dir(dir);
            std::fs::read_dir(rec).is_ok_and(|mut it| {
                it.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "wav")))
            })
        }
        _ => first_file(dir, id.file_names()).is_some(),
    }
}

/// Where a dataset was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// The dataset's folder inside the data directory.
    Folder(PathBuf),
    /// The copy compiled into the binary (named as in the repository).
    Embedded(&'static str),
    /// Not found; the folders looked at.
    Missing {
        /// Candidate folders that did not hold the files.
        tried: Vec<PathBuf>,
    },
}

impl Location {
    /// Whether the dataset can be loaded.
    pub fn is_found(&self) -> bool {
        !matches!(self, Location::Missing { .. })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Folder(p) => write!(f, "found at {}", p.display()),
            Location::Embedded(name) => write!(f, "found: {name}"),
            Location::Missing { tried } if tried.is_empty() => {
                write!(
                    f,
                    "missing (no data directory; pass --data-dir or set {ENV_VAR})"
                )
            }
            Location::Missing { tried } => {
                let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
                write!(f, "missing (looked in {})", list.join(", "))
            }
        }
    }
}

/// One line of [`status`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetStatus {
    /// The dataset.
    pub id: DatasetId,
    /// Where it is (or where it was looked for).
    pub location: Location,
}

/// Where every known dataset is, in [`DatasetId::ALL`] order (file existence checks only; nothing is parsed).
pub fn status(dir: &DataDir) -> Vec<DatasetStatus> {
    DatasetId::ALL
        .iter()
        .map(|&id| DatasetStatus {
            id,
            location: dir.locate(id),
        })
        .collect()
}
