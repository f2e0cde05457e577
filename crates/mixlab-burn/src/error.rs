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
        /// The parameter, as a user would name it (e.g. `"learning rate"`).
        name: &'static str,
        /// The range or rule it must satisfy (e.g. `"a finite number > 0"`).
        rule: &'static str,
        /// The rejected value, formatted.
        value: String,
    },
    /// Two things that must agree in size do not.
    #[error("size mismatch: {what}: expected {expected}, got {got}")]
    SizeMismatch {
        /// What was measured (e.g. `"labels"`).
        what: &'static str,
        /// The size the rule requires.
        expected: usize,
        /// The size found.
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
        /// The failed operation (e.g. `"cannot read"`, `"cannot write"`, `"cannot create"`).
        what: &'static str,
        /// The file or folder, as displayed.
        path: String,
        /// The underlying I/O error.
        cause: std::io::Error,
    },
    /// A checkpoint or record is malformed or does not belong to this run.
    #[error("checkpoint {path}: {why}")]
    Checkpoint {
        /// The checkpoint file or folder, as displayed.
        path: String,
        /// What is wrong with it.
        why: String,
    },
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
