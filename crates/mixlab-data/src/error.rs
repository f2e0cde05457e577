//! Errors of the dataset readers: one variant per broken rule; every message starts with the file (or folder) it is
//! about and states the rule and the bad value, so a user can fix the input without reading the code.

use std::path::PathBuf;

/// Result type of mixlab-data.
pub type Result<T> = std::result::Result<T, Error>;

/// Every way a dataset file, folder or loading option can be rejected.
///
/// Record numbers in messages count from 1 (`record 1` is the first record of the file); line and column numbers
/// count from 1 as in a text editor.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a read (missing file, permission, corrupt gzip stream, …).
    ///
    /// The cause is part of the message and deliberately not exposed as `source()`: a caller printing the
    /// chain (`{:#}`) would otherwise show it twice on its one error line.
    #[error("{}: cannot read: {cause}", .path.display())]
    Io {
        /// The file or folder that could not be read.
        path: PathBuf,
        /// The operating system's (or decoder's) error.
        cause: std::io::Error,
    },
    /// The file has zero bytes.
    #[error("{}: file is empty", .path.display())]
    Empty {
        /// The empty file.
        path: PathBuf,
    },
    /// A folder that should hold a dataset does not exist.
    #[error("{}: directory does not exist", .path.display())]
    MissingDir {
        /// The folder that was expected.
        path: PathBuf,
    },
    /// A folder exists but holds none of the files a reader needs.
    #[error("{}: no {what} found", .path.display())]
    NoFiles {
        /// The folder that was searched.
        path: PathBuf,
        /// What was looked for, naming the expected files (e.g. "CIFAR-100 train.bin and test.bin").
        what: String,
    },
    /// The file ends inside its fixed-size header.
    #[error("{}: file ends inside the {what} header ({got} of {need} bytes)", .path.display())]
    ShortHeader {
        /// The file the error is about.
        path: PathBuf,
        /// The format whose header it is (`IDX`, `npy`).
        what: &'static str,
        /// Bytes present.
        got: usize,
        /// Bytes the header needs.
        need: usize,
    },
    /// An IDX magic number is not the one this reader expects.
    #[error("{}: bad magic 0x{found:08X}, expected 0x{expected:08X}", .path.display())]
    BadMagic {
        /// The file the error is about.
        path: PathBuf,
        /// The file's first four bytes, big-endian.
        found: u32,
        /// The magic of the expected kind of IDX file (images or labels).
        expected: u32,
    },
    /// A header field is impossible (zero dimension, unsupported type, …).
    #[error("{}: {rule}", .path.display())]
    BadHeader {
        /// The file the error is about.
        path: PathBuf,
        /// What is wrong with the header, as a sentence.
        rule: String,
    },
    /// A header claims more data than the sane cap; refused before anything is allocated.
    #[error("{}: header claims {claim} ({bytes} bytes), more than the cap of {cap} bytes", .path.display())]
    HeaderTooLarge {
        /// The file the error is about.
        path: PathBuf,
        /// What the header claims, in words (e.g. "60000 images of 28x28").
        claim: String,
        /// Payload size in bytes that the claim implies (u128: a product of header fields cannot overflow it).
        bytes: u128,
        /// The most payload bytes the reader accepts.
        cap: u64,
    },
    /// A file (or its decompressed text) is larger than the reader accepts.
    #[error("{}: {bytes} bytes, more than the cap of {cap} bytes", .path.display())]
    FileTooLarge {
        /// The file the error is about.
        path: PathBuf,
        /// Its size in bytes.
        bytes: u64,
        /// The most bytes the reader accepts.
        cap: u64,
    },
    /// The file ends inside a record the header promised.
    #[error("{}: truncated record {record} of {total}", .path.display())]
    Truncated {
        /// The file the error is about.
        path: PathBuf,
        /// The first incomplete record, counting from 1.
        record: u64,
        /// The number of records the header (or file size) announced.
        total: u64,
    },
    /// Bytes follow the last record the header announced.
    #[error("{}: {extra} unexpected bytes after the last of {total} records", .path.display())]
    TrailingBytes {
        /// The file the error is about.
        path: PathBuf,
        /// Number of bytes past the announced end.
        extra: u64,
        /// The number of records the header announced.
        total: u64,
    },
    /// A headerless record file whose size does not divide into records.
    #[error("{}: size {size} bytes is not a multiple of the {record_len}-byte record", .path.display())]
    NotMultiple {
        /// The file the error is about.
        path: PathBuf,
        /// The file's size in bytes.
        size: u64,
        /// Length of one record in bytes.
        record_len: usize,
    },
    /// A class label outside `0..classes`.
    #[error("{}: record {record}: label {label} is not below {classes}", .path.display())]
    BadLabel {
        /// The file holding the label.
        path: PathBuf,
        /// The record it belongs to, counting from 1.
        record: u64,
        /// The label as stored.
        label: u64,
        /// The dataset's number of classes.
        classes: usize,
    },
    /// An image file and its label file disagree on the number of records.
    #[error("{}: {images} images but {} holds {labels} labels", .images_path.display(), .labels_path.display())]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// The label file.
        labels_path: PathBuf,
        /// Records in the image file.
        images: u64,
        /// Records in the label file.
        labels: u64,
    },
    /// A table cell is not a finite number (or breaks a column rule).
    #[error("{}: line {line}, column {column}: {rule}, got {value:?}", .path.display())]
    Cell {
        /// The file the error is about.
        path: PathBuf,
        /// The cell's line in the file, counting from 1.
        line: u64,
        /// The cell's column, counting from 1.
        column: usize,
        /// The rule it breaks (e.g. "cell must be a finite number").
        rule: String,
        /// The cell's text as found.
        value: String,
    },
    /// A text line longer than any real table's; refused before it is split into fields.
    #[error("{}: line {line} is {bytes} bytes long, more than the cap of {cap} bytes", .path.display())]
    LineTooLong {
        /// The file the error is about.
        path: PathBuf,
        /// The line, counting from 1.
        line: u64,
        /// Its length in bytes.
        bytes: u64,
        /// The longest line accepted, in bytes.
        cap: u64,
    },
    /// A table row has the wrong number of fields.
    #[error("{}: line {line} has {got} fields, expected {expected}", .path.display())]
    RowLength {
        /// The file the error is about.
        path: PathBuf,
        /// The row's line, counting from 1.
        line: u64,
        /// Fields found on it.
        got: usize,
        /// Fields every row must have: the format's column count, else the first row's.
        expected: usize,
    },
    /// A header line does not name the expected column.
    #[error("{}: header column {column} is {got:?}, expected {expected:?}", .path.display())]
    HeaderName {
        /// The file the error is about.
        path: PathBuf,
        /// The column, counting from 1.
        column: usize,
        /// The name found in the header.
        got: String,
        /// The name the format defines for that column.
        expected: &'static str,
    },
    /// A file has too few usable rows or records for what was asked.
    #[error("{}: {why}", .path.display())]
    TooFew {
        /// The file the error is about.
        path: PathBuf,
        /// What is missing, as a sentence.
        why: String,
    },
    /// A WAV file whose format is not the one the dataset defines.
    #[error("{}: {what} {got}, expected {expected}", .path.display())]
    WavFormat {
        /// The file the error is about.
        path: PathBuf,
        /// The format property that differs (e.g. channels, sample rate, bits per sample).
        what: &'static str,
        /// The file's value.
        got: String,
        /// The dataset's value.
        expected: String,
    },
    /// The WAV decoder rejected the file.
    ///
    /// Like [`Error::Io`], the cause is in the message and not repeated as `source()`.
    #[error("{}: invalid WAV: {cause}", .path.display())]
    Wav {
        /// The file the error is about.
        path: PathBuf,
        /// The decoder's error.
        cause: hound::Error,
    },
    /// A file name that does not follow the dataset's naming scheme.
    #[error("{}: file name does not match {pattern}", .path.display())]
    FileName {
        /// The file the error is about.
        path: PathBuf,
        /// The naming scheme, human-readable.
        pattern: &'static str,
    },
    /// A dataset was found in none of the places it may live.
    #[error("dataset {dataset} not found (looked in: {}); pass --data-dir or set MIXLAB_DATA", join_paths(.tried))]
    NotFound {
        /// The dataset's name.
        dataset: &'static str,
        /// Every folder that was searched, in order (empty when no data directory was given).
        tried: Vec<PathBuf>,
    },
    /// An unknown dataset name.
    #[error("unknown dataset {name:?}; known: {known}")]
    UnknownDataset {
        /// The name as given.
        name: String,
        /// The accepted names (and, for `--data`, the own-data forms), comma-separated.
        known: String,
    },
    /// A loading option outside its valid range.
    #[error("{name} must be {rule}, got {value}")]
    InvalidParam {
        /// The option's name.
        name: &'static str,
        /// The rule it breaks, phrased to follow "must be".
        rule: &'static str,
        /// The rejected value, formatted.
        value: String,
    },
}

fn join_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no data directory given".to_string();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }

    pub(crate) fn param(
        name: &'static str,
        rule: &'static str,
        value: impl std::fmt::Display,
    ) -> Self {
        Error::InvalidParam {
            name,
            rule,
            value: value.to_string(),
        }
    }

    pub(crate) fn too_few(path: impl Into<PathBuf>, why: impl Into<String>) -> Self {
        Error::TooFew {
            path: path.into(),
            why: why.into(),
        }
    }
}
