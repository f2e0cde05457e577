//! Errors of the mixing core: one variant per broken rule, each message names the rule and the bad value.

/// Result type of mixlab-core.
pub type Result<T> = std::result::Result<T, Error>;

/// Every way a mixing configuration, shape or buffer can be rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A hyper-parameter is outside its valid range.
    #[error("{name} must be {rule}, got {value}")]
    InvalidParam {
        /// The parameter's name as the user spells it (a config field or CLI option).
        name: &'static str,
        /// The rule it breaks, phrased to follow "must be" (e.g. "in (0, 1]").
        rule: &'static str,
        /// The rejected value, already formatted.
        value: String,
    },
    /// A shape string or shape value is unusable.
    #[error("invalid shape {shape:?}: {why}")]
    InvalidShape {
        /// The offending shape: the string as given, or the extents joined as `CxHxW`.
        shape: String,
        /// Which rule it breaks.
        why: String,
    },
    /// A method does not support the given layout (e.g. 3-D for a 2-D-only method).
    #[error("method {method} does not support {rank}-D samples")]
    UnsupportedRank {
        /// The method's name.
        method: &'static str,
        /// Number of spatial dimensions of the sample (1, 2 or 3).
        rank: usize,
    },
    /// A method does not support the sample's layout at this rank (e.g. a non-square image for a method on
    /// a square block grid).
    #[error("method {method} does not support {shape} samples: {why}")]
    UnsupportedLayout {
        /// The method's name.
        method: &'static str,
        /// The sample shape, formatted.
        shape: String,
        /// The layout requirement the shape misses.
        why: &'static str,
    },
    /// Buffers, labels or plans disagree in size.
    #[error("size mismatch: {what}: expected {expected}, got {got}")]
    SizeMismatch {
        /// The buffer or list that has the wrong size.
        what: &'static str,
        /// The length the other inputs imply.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A label is outside 0..classes.
    #[error("label {label} at index {index} is out of range for {classes} classes")]
    LabelOutOfRange {
        /// The bad label.
        label: usize,
        /// Its position in the label list.
        index: usize,
        /// The number of classes the labels must stay below.
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
