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

use std::path::Path;

use crate::dataset::{Dataset, LoadOptions, Split};
use crate::error::{Error, Result};
use crate::id::Task;
use crate::location::DataDir;
use crate::split::shuffled_parts;

pub use crate::spec::{DataSpec, OwnData, TargetKind};
pub use npy::{NpyArray, NpyData, parse_npy, read_npy};

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
