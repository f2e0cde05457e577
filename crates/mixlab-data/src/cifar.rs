//! CIFAR-10 binary reader: headerless files of 3073-byte records (1 label byte, then the red, green and blue
//! 32×32 planes), and the folder layout of the official `cifar-10-batches-bin` download.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::images::U8Images;
use crate::input::{open_file, read_full};

/// Bytes of one record: 1 label + 3 × 32 × 32 pixels.
pub const RECORD_LEN: usize = 1 + 3 * 32 * 32;
/// Number of classes; labels must be below it.
pub const CLASSES: usize = 10;
/// Largest batch file accepted (an official batch is 30 730 000 bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 31;
/// Training batch names, read in this order.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// Test batch names, first found wins: the official file, then the 1000-record prefix shipped with mixlab's data.
pub const TEST_FILES: [&str; 2] = ["test_batch.bin", "test_batch_first1000.bin"];
/// Subfolder of the official archive, looked into when the folder itself holds no batch.
pub const SUBFOLDER: &str = "cifar-10-batches-bin";
/// Class names in label order.
pub const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Reads one CIFAR-10 binary file (at most `limit` records) as `[3, 32, 32]` images.
///
/// Refused: an empty file, a size that is not a multiple of [`RECORD_LEN`], a file over [`MAX_FILE_BYTES`], and a
/// label ≥ 10 (named by record number).
pub fn read_cifar_file(path: &Path, limit: Option<usize>) -> Result<U8Images> {
    let (mut file, size) = open_file(path)?;
    let total = record_count(path, size)?;
    let n = limit.map_or(total, |l| l.min(total));
    let mut raw = vec![0u8; n * RECORD_LEN];
    let got = read_full(&mut file as &mut dyn Read, &mut raw).map_err(|e| Error::io(path, e))?;
    if got < raw.len() {
        // Only possible when the file shrank after its size was taken.
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            record: (got / RECORD_LEN) as u64 + 1,
            total: total as u64,
        });
    }
    decode_records(path, &raw)
}

/// [`read_cifar_file`] on bytes already in memory; `name` only names the input in error messages.
pub fn read_cifar_bytes(name: &Path, bytes: &[u8], limit: Option<usize>) -> Result<U8Images> {
    if bytes.is_empty() {
        return Err(Error::Empty {
            path: name.to_path_buf(),
        });
    }
    let total = record_count(name, bytes.len() as u64)?;
    let n = limit.map_or(total, |l| l.min(total));
    decode_records(name, &bytes[..n * RECORD_LEN])
}

/// Number of records in a file of `size` bytes, refusing a size that is not whole records or is over the cap.
fn record_count(path: &Path, size: u64) -> Result<usize> {
    if !size.is_multiple_of(RECORD_LEN as u64) {
        return Err(Error::NotMultiple {
            path: path.to_path_buf(),
            size,
            record_len: RECORD_LEN,
        });
    }
    if size > MAX_FILE_BYTES {
        return Err(Error::FileTooLarge {
            path: path.to_path_buf(),
            bytes: size,
            cap: MAX_FILE_BYTES,
        });
    }
    // Below the 2^31 cap, so it fits in usize.
    Ok((size / RECORD_LEN as u64) as usize)
}

/// Splits whole records into labels and pixel planes, refusing a label ≥ [`CLASSES`].
fn decode_records(path: &Path, raw: &[u8]) -> Result<U8Images> {
    debug_assert_eq!(raw.len() % RECORD_LEN, 0);
    let n = raw.len() / RECORD_LEN;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = Vec::with_capacity(n * (RECORD_LEN - 1));
    for (i, rec) in raw.chunks_exact(RECORD_LEN).enumerate() {
        if usize::from(rec[0]) >= CLASSES {
            return Err(Error::BadLabel {
                path: path.to_path_buf(),
                record: i as u64 + 1,
                label: u64::from(rec[0]),
                classes: CLASSES,
            });
        }
        labels.push(rec[0]);
        pixels.extend_from_slice(&rec[1..]);
    }
    Ok(U8Images {
        n,
        shape: [3, 32, 32],
        pixels,
        labels,
    })
}

/// The batch files found in a CIFAR-10 folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CifarFiles {
    /// Training batches that exist, in `data_batch_1..5` order (at least one).
    pub train: Vec<PathBuf>,
    /// The test batch.
    pub test: PathBuf,
}

fn batches_in(dir: &Path) -> (Vec<PathBuf>, Option<PathBuf>) {
    let train = TRAIN_FILES
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.is_file())
        .collect();
    let test = TEST_FILES.iter().map(|f| dir.join(f)).find(|p| p.is_file());
    (train, test)
}

/// Finds the batch files in `dir`, or in `dir/cifar-10-batches-bin/` when `dir` itself holds no batch.
pub fn find_cifar_files(dir: &Path) -> Result<CifarFiles> {
    if !dir.is_dir() {
        return Err(Error::MissingDir {
            path: dir.to_path_buf(),
        });
    }
    let (mut train, mut test) = batches_in(dir);
    let mut at = dir.to_path_buf();
    if train.is_empty() && test.is_none() {
        let sub = dir.join(SUBFOLDER);
        if sub.is_dir() {
            (train, test) = batches_in(&sub);
            at = sub;
        }
    }
    if train.is_empty() {
        return Err(Error::NoFiles {
            path: at,
            what: "CIFAR-10 training batch (data_batch_1.bin … data_batch_5.bin)".into(),
        });
    }
    let Some(test) = test else {
        return Err(Error::NoFiles {
            path: at,
            what: "CIFAR-10 test batch (test_batch.bin or test_batch_first1000.bin)".into(),
        });
    };
    Ok(CifarFiles { train, test })
}

/// Reads a CIFAR-10 folder: the training batches concatenated in order (stopping once `limit` records are read)
/// and the test batch (at most `limit` records).
pub fn read_cifar_dir(dir: &Path, limit: Option<usize>) -> Result<(U8Images, U8Images)> {
    read_cifar_split(dir, limit, limit).map(|(train, test, _)| (train, test))
}

/// As [`read_cifar_dir`] with separate caps for the training (`train_limit`) and test (`test_limit`) parts;
/// also returns the files actually read, in reading order (a training batch past the cap is not opened).
pub fn read_cifar_split(
    dir: &Path,
    train_limit: Option<usize>,
    test_limit: Option<usize>,
) -> Result<(U8Images, U8Images, Vec<PathBuf>)> {
    let limit = train_limit;
    let files = find_cifar_files(dir)?;
    let mut read = Vec::new();
    let mut train = U8Images {
        n: 0,
        shape: [3, 32, 32],
        pixels: Vec::new(),
        labels: Vec::new(),
    };
    for path in &files.train {
        let left = limit.map(|l| l - train.n);
        if left == Some(0) {
            break;
        }
        train.extend(read_cifar_file(path, left)?);
        read.push(path.clone());
    }
    let test = read_cifar_file(&files.test, test_limit)?;
    read.push(files.test.clone());
    Ok((train, test, read))
}

/// CIFAR-100 binary version: 3074-byte records (coarse label byte, fine label byte, then the three 32×32
/// planes) in `train.bin` (50 000 records) and `test.bin` (10 000), inside `cifar-100-binary/` of the official
/// archive.
pub mod hundred {
    use std::io::Read;
    use std::path::{Path, PathBuf};

    use crate::error::{Error, Result};
    use crate::images::U8Images;
    use crate::input::{open_file, read_full};

    /// Bytes of one record: coarse label, fine label, 3 × 32 × 32 pixels.
    pub const RECORD_LEN: usize = 2 + 3 * 32 * 32;
    /// Fine classes.
    pub const FINE_CLASSES: usize = 100;
    /// Coarse classes (superclasses).
    pub const COARSE_CLASSES: usize = 20;
    /// Largest file accepted (the official `train.bin` is 153 700 000 bytes).
    pub const MAX_FILE_BYTES: u64 = 1 << 31;
    /// Subfolder of the official archive, looked into when the folder itself holds no `train.bin`.
    pub const SUBFOLDER: &str = "cifar-100-binary";

    /// Which of the two labels of a record to keep.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Labels {
        /// The 100 fine classes (byte 1 of a record).
        Fine,
        /// The 20 superclasses (byte 0).
        Coarse,
    }

    impl Labels {
        /// Number of classes of this labelling.
        pub fn classes(self) -> usize {
            match self {
                Labels::Fine => FINE_CLASSES,
                Labels::Coarse => COARSE_CLASSES,
            }
        }
    }

    /// `train.bin` and `test.bin` in `dir` or in `dir/cifar-100-binary/`.
    pub fn find_files(dir: &Path) -> Result<(PathBuf, PathBuf)> {
        if !dir.is_dir() {
            return Err(Error::MissingDir {
                path: dir.to_path_buf(),
            });
        }
        let at = if dir.join("train.bin").is_file() {
            dir.to_path_buf()
        } else {
            dir.join(SUBFOLDER)
        };
        let (train, test) = (at.join("train.bin"), at.join("test.bin"));
        if !train.is_file() || !test.is_file() {
            return Err(Error::NoFiles {
                path: at,
                what: "CIFAR-100 train.bin and test.bin".into(),
            });
        }
        Ok((train, test))
    }

    /// Reads one CIFAR-100 binary file (at most `limit` records) as `[3, 32, 32]` images with the chosen labels.
    ///
    /// Refused: an empty file, a size that is not whole records, a file over [`MAX_FILE_BYTES`], and a fine
    /// label ≥ 100 or coarse label ≥ 20 (named by record number), whichever labelling is kept.
    pub fn read_file(path: &Path, labels: Labels, limit: Option<usize>) -> Result<U8Images> {
        let (mut file, size) = open_file(path)?;
        if !size.is_multiple_of(RECORD_LEN as u64) {
            return Err(Error::NotMultiple {
                path: path.to_path_buf(),
                size,
                record_len: RECORD_LEN,
            });
        }
        if size > MAX_FILE_BYTES {
            return Err(Error::FileTooLarge {
                path: path.to_path_buf(),
                bytes: size,
                cap: MAX_FILE_BYTES,
            });
        }
        let total = (size / RECORD_LEN as u64) as usize;
        let n = limit.map_or(total, |l| l.min(total));
        let mut raw = vec![0u8; n * RECORD_LEN];
        let got =
            read_full(&mut file as &mut dyn Read, &mut raw).map_err(|e| Error::io(path, e))?;
        if got < raw.len() {
            return Err(Error::Truncated {
                path: path.to_path_buf(),
                record: (got / RECORD_LEN) as u64 + 1,
                total: total as u64,
            });
        }
        decode(path, &raw, labels)
    }

    /// Splits whole records into the chosen labels and pixel planes.
    pub fn decode(path: &Path, raw: &[u8], labels: Labels) -> Result<U8Images> {
        if raw.is_empty() {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        if !raw.len().is_multiple_of(RECORD_LEN) {
            return Err(Error::NotMultiple {
                path: path.to_path_buf(),
                size: raw.len() as u64,
                record_len: RECORD_LEN,
            });
        }
        let n = raw.len() / RECORD_LEN;
        let mut out = Vec::with_capacity(n);
        let mut pixels = Vec::with_capacity(n * (RECORD_LEN - 2));
        for (i, rec) in raw.chunks_exact(RECORD_LEN).enumerate() {
            for (label, classes) in [(rec[0], COARSE_CLASSES), (rec[1], FINE_CLASSES)] {
                if usize::from(label) >= classes {
                    return Err(Error::BadLabel {
                        path: path.to_path_buf(),
                        record: i as u64 + 1,
                        label: u64::from(label),
                        classes,
                    });
                }
            }
            out.push(match labels {
                Labels::Coarse => rec[0],
                Labels::Fine => rec[1],
            });
            pixels.extend_from_slice(&rec[2..]);
        }
        Ok(U8Images {
            n,
            shape: [3, 32, 32],
            pixels,
            labels: out,
        })
    }

    /// Reads a CIFAR-100 folder: training part (at most `train_limit` records) and test part (at most
    /// `test_limit`), and the two files.
    pub fn read_split(
        dir: &Path,
        labels: Labels,
        train_limit: Option<usize>,
        test_limit: Option<usize>,
    ) -> Result<(U8Images, U8Images, Vec<PathBuf>)> {
        let (train, test) = find_files(dir)?;
        let tr = read_file(&train, labels, train_limit)?;
        let te = read_file(&test, labels, test_limit)?;
        Ok((tr, te, vec![train, test]))
    }
}
