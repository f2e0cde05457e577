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
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The file has zero bytes.
    #[error("{}: file is empty", .path.display())]
    Empty { path: PathBuf },
    /// A folder that should hold a dataset does not exist.
    #[error("{}: directory does not exist", .path.display())]
    MissingDir { path: PathBuf },
    /// A folder exists but holds none of the files a reader needs.
    #[error("{}: no {what} found", .path.display())]
    NoFiles { path: PathBuf, what: String },
    /// The file ends inside its fixed-size header.
    #[error("{}: file ends inside the {what} header ({got} of {need} bytes)", .path.display())]
    ShortHeader {
        path: PathBuf,
        what: &'static str,
        got: usize,
        need: usize,
    },
    /// An IDX magic number is not the one this reader expects.
    #[error("{}: bad magic 0x{found:08X}, expected 0x{expected:08X}", .path.display())]
    BadMagic {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// A header field is impossible (zero dimension, unsupported type, …).
    #[error("{}: {rule}", .path.display())]
    BadHeader { path: PathBuf, rule: String },
    /// A header claims more data than the sane cap; refused before anything is allocated.
    #[error("{}: header claims {claim} ({bytes} bytes), more than the cap of {cap} bytes", .path.display())]
    HeaderTooLarge {
        path: PathBuf,
        claim: String,
        bytes: u128,
        cap: u64,
    },
    /// A file (or its decompressed text) is larger than the reader accepts.
    #[error("{}: {bytes} bytes, more than the cap of {cap} bytes", .path.display())]
    FileTooLarge { path: PathBuf, bytes: u64, cap: u64 },
    /// The file ends inside a record the header promised.
    #[error("{}: truncated record {record} of {total}", .path.display())]
    Truncated {
        path: PathBuf,
        record: u64,
        total: u64,
    },
    /// Bytes follow the last record the header announced.
    #[error("{}: {extra} unexpected bytes after the last of {total} records", .path.display())]
    TrailingBytes {
        path: PathBuf,
        extra: u64,
        total: u64,
    },
    /// A headerless record file whose size does not divide into records.
    #[error("{}: size {size} bytes is not a multiple of the {record_len}-byte record", .path.display())]
    NotMultiple {
        path: PathBuf,
        size: u64,
        record_len: usize,
    },
    /// A class label outside `0..classes`.
    #[error("{}: record {record}: label {label} is not below {classes}", .path.display())]
    BadLabel {
        path: PathBuf,
        record: u64,
        label: u64,
        classes: usize,
    },
    /// An image file and its label file disagree on the number of records.
    #[error("{}: {images} images but {} holds {labels} labels", .images_path.display(), .labels_path.display())]
    CountMismatch {
        images_path: PathBuf,
        labels_path: PathBuf,
        images: u64,
        labels: u64,
    },
    /// A table cell is not a finite number (or breaks a column rule).
    #[error("{}: line {line}, column {column}: {rule}, got {value:?}", .path.display())]
    Cell {
        path: PathBuf,
        line: u64,
        column: usize,
        rule: String,
        value: String,
    },
    /// A text line longer than any real table's; refused before it is split into fields.
    #[error("{}: line {line} is {bytes} bytes long, more than the cap of {cap} bytes", .path.display())]
    LineTooLong {
        path: PathBuf,
        line: u64,
        bytes: u64,
        cap: u64,
    },
    /// A table row has the wrong number of fields.
    #[error("{}: line {line} has {got} fields, expected {expected}", .path.display())]
    RowLength {
        path: PathBuf,
        line: u64,
        got: usize,
        expected: usize,
    },
    /// A header line does not name the expected column.
    #[error("{}: header column {column} is {got:?}, expected {expected:?}", .path.display())]
    HeaderName {
        path: PathBuf,
        column: usize,
        got: String,
        expected: &'static str,
    },
    /// A file has too few usable rows or records for what was asked.
    #[error("{}: {why}", .path.display())]
    TooFew { path: PathBuf, why: String },
    /// A WAV file whose format is not the one the dataset defines.
    #[error("{}: {what} {got}, expected {expected}", .path.display())]
    WavFormat {
        path: PathBuf,
        what: &'static str,
        got: String,
        expected: String,
    },
    /// The WAV decoder rejected the file.
    ///
    /// Like [`Error::Io`], the cause is in the message and not repeated as `source()`.
    #[error("{}: invalid WAV: {cause}", .path.display())]
    Wav { path: PathBuf, cause: hound::Error },
    /// A file name that does not follow the dataset's naming scheme.
    #[error("{}: file name does not match {pattern}", .path.display())]
    FileName {
        path: PathBuf,
        pattern: &'static str,
    },
    /// A dataset was found in none of the places it may live.
    #[error("dataset {dataset} not found (looked in: {}); pass --data-dir or set MIXLAB_DATA", join_paths(.tried))]
    NotFound {
        dataset: &'static str,
        tried: Vec<PathBuf>,
    },
    /// An unknown dataset name.
    #[error("unknown dataset {name:?}; known: {known}")]
    UnknownDataset { name: String, known: String },
    /// A loading option outside its valid range.
    #[error("{name} must be {rule}, got {value}")]
    InvalidParam {
        name: &'static str,
        rule: &'static str,
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
