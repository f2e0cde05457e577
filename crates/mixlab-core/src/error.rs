//! Errors of the mixing core: one variant per broken rule, each message names the rule and the bad value.

/// Result type of mixlab-core.
pub type Result<T> = std::result::Result<T, Error>;

/// Every way a mixing configuration, shape or buffer can be rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A hyper-parameter is outside its valid range.
    #[error("{name} must be {rule}, got {value}")]
    InvalidParam {
        name: &'static str,
        rule: &'static str,
        value: String,
    },
    /// A shape string or shape value is unusable.
    #[error("invalid shape {shape:?}: {why}")]
    InvalidShape { shape: String, why: String },
    /// A method does not support the given layout (e.g. 3-D for a 2-D-only method).
    #[error("method {method} does not support {rank}-D samples")]
    UnsupportedRank { method: &'static str, rank: usize },
    /// A method does not support the sample's layout at this rank (e.g. a non-square image for a method on
    /// a square block grid).
    #[error("method {method} does not support {shape} samples: {why}")]
    UnsupportedLayout {
        method: &'static str,
        shape: String,
        why: &'static str,
    },
    /// Buffers, labels or plans disagree in size.
    #[error("size mismatch: {what}: expected {expected}, got {got}")]
    SizeMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A label is outside 0..classes.
    #[error("label {label} at index {index} is out of range for {classes} classes")]
    LabelOutOfRange {
        label: usize,
        index: usize,
        classes: usize,
    },
    /// The method needs the batch's pixel data at sampling time (e.g. saliency) and none was given.
    #[error("method {0} needs the batch data to sample its plan")]
    NeedsData(&'static str),
    /// A combination of options that cannot work together.
    #[error("{0}")]
    Incompatible(String),
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
}
