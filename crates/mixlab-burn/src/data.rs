//! In-memory training data: samples, their targets (class labels or regression values) and the
//! train / validation / test splits every kind of run reads.

use crate::error::{Error, Result};
use mixlab_core::methods::puzzlemix::Denorm;
use mixlab_core::shape::SampleShape;

/// What is predicted.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// One label per sample in `0..classes`.
    Classes {
        /// The `n` labels, in sample order.
        labels: Vec<usize>,
        /// Number of classes (≥ 2): a classifier's output count.
        classes: usize,
    },
    /// `dim` values per sample.
    Regression {
        /// The targets, N×dim row-major.
        values: Vec<f32>,
        /// Values per sample (≥ 1): a regressor's output count.
        dim: usize,
    },
}

/// One in-memory split: `n` samples of `shape`, contiguous N×C×spatial.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainData {
    /// Shape of one sample (channels and spatial extent).
    pub shape: SampleShape,
    /// The inputs, `n` samples of `shape.sample_len()` values each (N×C×spatial, row-major).
    pub x: Vec<f32>,
    /// What each sample is labelled with.
    pub targets: Targets,
    /// Number of samples (≥ 1).
    pub n: usize,
    /// The value a raw 0 takes after the input scaling, per channel: what crop augmentation pads with, so
    /// that padding is black as in torchvision's `RandomCrop(padding=4)` before `Normalize` (`None`: 0).
    pub zero: Option<Vec<f32>>,
    /// Per channel, how an input maps back to the raw pixel (`raw = x·scale + offset`), for methods that
    /// measure raw images (PuzzleMix's seam term; `None`: inputs are raw).
    pub denorm: Option<Vec<Denorm>>,
}

impl TrainData {
    /// A classification split; checks sizes and labels.
    pub fn classification(
        shape: SampleShape,
        x: Vec<f32>,
        labels: Vec<usize>,
        classes: usize,
    ) -> Result<Self> {
        let d = Self {
            shape,
            n: labels.len(),
            x,
            targets: Targets::Classes { labels, classes },
            zero: None,
            denorm: None,
        };
        d.validate()?;
        Ok(d)
    }

    /// A regression split with `dim` targets per sample; checks sizes.
    pub fn regression(
        shape: SampleShape,
        x: Vec<f32>,
        values: Vec<f32>,
        dim: usize,
    ) -> Result<Self> {
        let d = Self {
            shape,
            n: values.len() / dim.max(1),
            x,
            targets: Targets::Regression { values, dim },
            zero: None,
            denorm: None,
        };
        d.validate()?;
        Ok(d)
    }

    /// Sets [`TrainData::zero`] (one value per channel).
    pub fn with_zero(mut self, zero: Vec<f32>) -> Result<Self> {
        if zero.len() != self.shape.channels {
            return Err(Error::SizeMismatch {
                what: "padding values (one per channel)",
                expected: self.shape.channels,
                got: zero.len(),
            });
        }
        self.zero = Some(zero);
        Ok(self)
    }

    /// Sets [`TrainData::denorm`] (one per channel).
    pub fn with_denorm(mut self, denorm: Vec<Denorm>) -> Result<Self> {
        if denorm.len() != self.shape.channels {
            return Err(Error::SizeMismatch {
                what: "de-normalisation (one per channel)",
                expected: self.shape.channels,
                got: denorm.len(),
            });
        }
        self.denorm = Some(denorm);
        Ok(self)
    }

    /// Checks that buffers, labels and targets agree.
    pub fn validate(&self) -> Result<()> {
        if self.n == 0 {
            return Err(Error::param("number of samples in a split", ">= 1", 0));
        }
        let want = self.n * self.shape.sample_len();
        if self.x.len() != want {
            return Err(Error::SizeMismatch {
                what: "input buffer (n x sample length)",
                expected: want,
                got: self.x.len(),
            });
        }
        match &self.targets {
            Targets::Classes { labels, classes } => {
                if labels.len() != self.n {
                    return Err(Error::SizeMismatch {
                        what: "labels",
                        expected: self.n,
                        got: labels.len(),
                    });
                }
                if *classes < 2 {
                    return Err(Error::param("classes", ">= 2", classes));
                }
                if let Some((index, &label)) =
                    labels.iter().enumerate().find(|(_, l)| **l >= *classes)
                {
                    return Err(mixlab_core::Error::LabelOutOfRange {
                        label,
                        index,
                        classes: *classes,
                    }
                    .into());
                }
            }
            Targets::Regression { values, dim } => {
                if *dim == 0 || values.len() != self.n * dim {
                    return Err(Error::SizeMismatch {
                        what: "regression targets (n x dim)",
                        expected: self.n * (*dim).max(1),
                        got: values.len(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The samples `idx`, in that order, as one row-major host batch.
    pub(crate) fn rows(&self, idx: &[usize]) -> Vec<f32> {
        let len = self.shape.sample_len();
        let mut x = Vec::with_capacity(idx.len() * len);
        for &i in idx {
            x.extend_from_slice(&self.x[i * len..(i + 1) * len]);
        }
        x
    }

    pub(crate) fn outputs(&self) -> usize {
        match &self.targets {
            Targets::Classes { classes, .. } => *classes,
            Targets::Regression { dim, .. } => *dim,
        }
    }
}

/// Train, validation and test splits of one task.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits {
    /// The split the model is trained on.
    pub train: TrainData,
    /// Evaluated after every epoch: the curve, best-epoch tracking, temperature fitting.
    pub val: TrainData,
    /// Held out for the final metrics (and the curve's test entries).
    pub test: TrainData,
    /// Inputs of training records whose labels are withheld (semi-supervised runs), laid out as
    /// `train.x`; `None` in supervised runs.
    pub unlabelled: Option<Vec<f32>>,
}

impl Splits {
    /// Checks each split and that they describe the same task.
    pub fn validate(&self) -> Result<()> {
        for s in [&self.train, &self.val, &self.test] {
            s.validate()?;
            if s.shape != self.train.shape {
                return Err(Error::Incompatible(format!(
                    "splits disagree on the sample shape: {} vs {}",
                    s.shape, self.train.shape
                )));
            }
            let same = match (&s.targets, &self.train.targets) {
                (Targets::Classes { classes: a, .. }, Targets::Classes { classes: b, .. }) => {
                    a == b
                }
                (Targets::Regression { dim: a, .. }, Targets::Regression { dim: b, .. }) => a == b,
                _ => false,
            };
            if !same {
                return Err(Error::Incompatible(
                    "splits disagree on the task (classes or regression dimension)".into(),
                ));
            }
        }
        if let Some(u) = &self.unlabelled
            && !u.len().is_multiple_of(self.train.shape.sample_len())
        {
            return Err(Error::Incompatible(format!(
                "the unlabelled inputs ({} values) are not whole samples of {}",
                u.len(),
                self.train.shape
            )));
        }
        Ok(())
    }

    pub(crate) fn is_regression(&self) -> bool {
        matches!(self.train.targets, Targets::Regression { .. })
    }
}
