//! Calibration as burn-train metrics: [`EceMetric`] (equal-width ECE, 15 bins by default, gpleiss' bin
//! edges) and [`NllMetric`] (mean negative log-likelihood), both over the softmax of the logits.
//!
//! ECE is not a mean of per-batch ECEs: the metric fills one set of reliability bins over the whole epoch
//! ([`RunningCalibration`]), so the epoch value burn-train logs (its `Final` entry, which its summary and
//! checkpoint strategies read) equals mixlab's [`mixlab_core::calib::ece`] over all samples at once.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::{ExecutionError, TensorReadError};
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry, format_float,
};
use mixlab_core::calib::{ECE_BINS, RunningCalibration};
use std::sync::Arc;

/// What the calibration metrics read: logits (B×classes) and the class each row should predict (B).
#[derive(Clone, Debug)]
pub struct CalibrationInput {
    logits: Tensor<2>,
    labels: Tensor<1, Int>,
}

impl CalibrationInput {
    /// Logits B×classes and labels B.
    pub fn new(logits: Tensor<2>, labels: Tensor<1, Int>) -> Self {
        Self { logits, labels }
    }

    /// The softmax probabilities and labels on the host, checked.
    fn read(&self) -> Result<(Vec<f32>, Vec<usize>, usize), TensorReadError> {
        let [b, classes] = self.logits.dims();
        let probs: Vec<f32> = softmax(self.logits.clone(), 1)
            .try_into_data_as::<f32>()?
            .try_into_vec()?;
        let labels: Vec<i64> = self
            .labels
            .clone()
            .try_into_data_as::<i64>()?
            .try_into_vec()?;
        if labels.len() != b {
            return Err(TensorReadError::InvalidShape {
                expected: b,
                actual: labels.len(),
            });
        }
        let labels = labels
            .into_iter()
            .map(|l| {
                usize::try_from(l).map_err(|_| {
                    ExecutionError::with_context(format!(
                        "calibration metric: label {l} is negative"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((probs, labels, classes))
    }
}

fn refused(e: mixlab_core::Error) -> TensorReadError {
    ExecutionError::with_context(format!("calibration metric: {e}")).into()
}

/// Expected calibration error over an epoch (lower is better), as a fraction in \[0, 1\].
#[derive(Clone)]
pub struct EceMetric {
    name: MetricName,
    state: RunningCalibration,
    last_batch: Option<f64>,
}

impl EceMetric {
    /// ECE with the headline 15 equal-width bins (Guo et al. 2017), named `ECE (15 bins)`.
    pub fn new() -> Self {
        Self {
            name: Arc::new(format!("ECE ({ECE_BINS} bins)")),
            state: RunningCalibration::default(),
            last_batch: None,
        }
    }

    /// ECE with `bins` equal-width bins; refuses zero.
    pub fn with_bins(bins: usize) -> mixlab_core::Result<Self> {
        Ok(Self {
            name: Arc::new(format!("ECE ({bins} bins)")),
            state: RunningCalibration::new(bins)?,
            last_batch: None,
        })
    }

    fn entry(&self, batch: Option<f64>) -> SerializedEntry {
        let epoch = self.state.ece();
        let formatted = match batch {
            Some(b) => format!(
                "epoch {} - batch {}",
                format_float(epoch, 4),
                format_float(b, 4)
            ),
            None => format!("epoch {}", format_float(epoch, 4)),
        };
        let serialized = if batch.is_some() {
            NumericEntry::Value(epoch)
        } else {
            NumericEntry::Final(epoch)
        };
        SerializedEntry::new(formatted, serialized.serialize())
    }
}

impl Default for EceMetric {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for EceMetric {
    type Input = CalibrationInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn description(&self) -> Option<String> {
        Some("expected calibration error over the epoch, equal-width bins (b/B, (b+1)/B]".into())
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &CalibrationInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let (probs, labels, classes) = item.read()?;
        let mut batch = self.state.clone();
        batch.clear();
        batch.add(&probs, &labels, classes).map_err(refused)?;
        self.state.add(&probs, &labels, classes).map_err(refused)?;
        self.last_batch = Some(batch.ece());
        Ok(self.entry(self.last_batch))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry(None))
    }

    fn clear(&mut self) {
        self.state.clear();
        self.last_batch = None;
    }
}

impl Numeric for EceMetric {
    fn value(&self) -> Option<NumericEntry> {
        self.last_batch.map(NumericEntry::Value)
    }

    fn running_value(&self) -> Option<NumericEntry> {
        (self.state.samples() > 0).then(|| NumericEntry::Value(self.state.ece()))
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.state.ece())
    }
}

/// Mean negative log-likelihood of the labels over an epoch (lower is better).
#[derive(Clone)]
pub struct NllMetric {
    name: MetricName,
    state: NumericMetricState,
}

impl NllMetric {
    /// The metric, named `NLL`.
    pub fn new() -> Self {
        Self {
            name: Arc::new("NLL".into()),
            state: NumericMetricState::new(),
        }
    }
}

impl Default for NllMetric {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for NllMetric {
    type Input = CalibrationInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &CalibrationInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let (probs, labels, classes) = item.read()?;
        let nll = mixlab_core::calib::nll(&probs, &labels, classes).map_err(refused)?;
        self.state.update(nll, labels.len());
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(4)))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self
            .state
            .compute_final(FormatOptions::new(self.name()).precision(4)))
    }

    fn clear(&mut self) {
        self.state.reset();
    }
}

impl Numeric for NllMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may unwrap")]
    use super::*;
    use burn::data::dataloader::Progress;
    use mixlab_core::calib::{ece, nll};

    fn meta() -> MetricMetadata {
        MetricMetadata {
            progress: Progress::new(1, 1, None),
            iteration: Some(1),
            lr: None,
        }
    }

    fn input(logits: &[f32], labels: &[i64]) -> CalibrationInput {
        let dev = Device::flex();
        let b = labels.len();
        CalibrationInput::new(
            Tensor::from_data(
                TensorData::new(logits.to_vec(), [b, logits.len() / b]),
                &dev,
            ),
            Tensor::from_data(TensorData::new(labels.to_vec(), [b]), &dev),
        )
    }

    #[test]
    fn the_epoch_values_are_mixlabs_over_all_batches() {
        // 7 rows of 3 logits in two batches.
        let logits: Vec<f32> = (0..21)
            .map(|i| ((i * 37) % 11) as f32 * 0.4 - 2.0)
            .collect();
        let labels = [0i64, 2, 1, 1, 0, 2, 2];
        let mut e = EceMetric::new();
        let mut n = NllMetric::new();
        for (rows, ys) in [(0..12, 0..4), (12..21, 4..7)] {
            let inp = input(&logits[rows], &labels[ys]);
            e.update(&inp, &meta()).unwrap();
            n.update(&inp, &meta()).unwrap();
        }
        let probs = mixlab_core::calib::softmax(&logits, 3, 1.0).unwrap();
        let y: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
        let want_ece = ece(&probs, &y, 3, 15).unwrap();
        let want_nll = nll(&probs, &y, 3).unwrap();
        // Burn's softmax runs in f32 on the device and mixlab's in f64: equal to float precision.
        let final_ece = e.compute().unwrap().serialized;
        let got = NumericEntry::deserialize(&final_ece).unwrap();
        assert!(matches!(got, NumericEntry::Final(_)));
        assert!(
            (got.current() - want_ece).abs() < 1e-6,
            "{got:?} vs {want_ece}"
        );
        assert!((n.final_value().current() - want_nll).abs() < 1e-5);
        assert_eq!(&*e.name(), "ECE (15 bins)");
        e.clear();
        assert_eq!(e.running_value().map(|v| v.current()), None);
        assert!(EceMetric::with_bins(0).is_err());
    }

    #[test]
    fn bad_labels_are_read_errors_not_panics() {
        let mut e = EceMetric::new();
        let err = e.update(&input(&[0.0, 1.0], &[-1]), &meta()).err().unwrap();
        assert!(err.to_string().contains("negative"), "{err}");
        let err = e.update(&input(&[0.0, 1.0], &[5]), &meta()).err().unwrap();
        assert!(err.to_string().contains("calibration metric"), "{err}");
        assert_eq!(
            e.running_value().map(|v| v.current()),
            None,
            "nothing was added"
        );
    }
}
