//! Errors of the Burn side: one variant per broken rule, each message names the rule and the bad value.

/// Result type of mixlab-burn.
pub type Result<T> = std::result::Result<T, Error>;

/// Every way a model, training config, batch or checkpoint can be rejected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule of mixlab-core (plan, shape, labels, calibration input) was broken.
    #[error(transparent)]
    Core(#[from] mixlab_core::Error),
    /// A hyper-parameter is outside its valid range.
    #[error("{name} must be {rule}, got {value}")]
    InvalidParam {
        name: &'static str,
        rule: &'static str,
        value: String,
    },
    /// Two things that must agree in size do not.
    #[error("size mismatch: {what}: expected {expected}, got {got}")]
    SizeMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A combination of options that cannot work together.
    #[error("{0}")]
    Incompatible(String),
    /// The requested device was not compiled in.
    #[error("device {0} is not available in this build (rebuild mixlab-burn with --features {0})")]
    DeviceUnavailable(&'static str),
    /// Reading or writing a file failed.
    /// The cause is in the message and not also exposed as `source()`, so a `{:#}` chain shows it once.
    #[error("{what} {path}: {cause}")]
    Io {
        what: &'static str,
        path: String,
        cause: std::io::Error,
    },
    /// A checkpoint or record is malformed or does not belong to this run.
    #[error("checkpoint {path}: {why}")]
    Checkpoint { path: String, why: String },
    /// A tensor read back from the device had an unexpected type.
    #[error("tensor data: {0}")]
    Data(String),
}

impl Error {
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

    pub(crate) fn io(what: &'static str, path: &std::path::Path, cause: std::io::Error) -> Self {
        Error::Io {
            what,
            path: path.display().to_string(),
            cause,
        }
    }

    pub(crate) fn ckpt(path: &std::path::Path, why: impl std::fmt::Display) -> Self {
        Error::Checkpoint {
            path: path.display().to_string(),
            why: why.to_string(),
        }
    }
}
