//! What a mixing `TrainStep` returns: [`SoftClassificationOutput`] carries the soft-target loss, the
//! logits and the targets, and adapts to burn-train's loss and accuracy metrics and to mixlab's
//! calibration metrics. burn-train's own `ClassificationOutput` (integer targets) adapts to the
//! calibration metrics too, so the validation split can keep it.

use crate::batcher::MixedBatch;
use crate::metrics::CalibrationInput;
use burn::prelude::*;
use burn::train::ClassificationOutput;
use burn::train::ItemLazy;
use burn::train::metric::{AccuracyInput, Adaptor, LossInput};
use mixlab_burn::soft_cross_entropy;

/// The output of a training step on a [`MixedBatch`].
///
/// Accuracy and calibration on a mixed batch are measured against each sample's **dominant class**, the
/// arg-max of its soft target (the label of the larger share; ties go to the lower class index).
pub struct SoftClassificationOutput {
    /// The mean soft cross-entropy of the batch, shape \[1\].
    pub loss: Tensor<1>,
    /// The logits, B×classes.
    pub output: Tensor<2>,
    /// The soft targets the loss was taken against, B×classes.
    pub targets: Tensor<2>,
    /// The labels of the batch before mixing, B.
    pub labels: Tensor<1, Int>,
}

impl SoftClassificationOutput {
    /// Takes the soft cross-entropy of `logits` against the batch's targets.
    pub fn new<const D: usize>(logits: Tensor<2>, batch: MixedBatch<D>) -> Self {
        Self {
            loss: soft_cross_entropy(logits.clone(), batch.targets.clone()),
            output: logits,
            targets: batch.targets,
            labels: batch.labels,
        }
    }

    /// The dominant class of every mixed sample (B).
    pub fn dominant(&self) -> Tensor<1, Int> {
        let b = self.targets.dims()[0];
        self.targets.clone().argmax(1).reshape([b])
    }
}

impl ItemLazy for SoftClassificationOutput {
    fn sync(self) -> Result<Self, burn::tensor::ExecutionError> {
        // As burn-train's own outputs: flush the stream, take the tensors off the tape, read nothing back.
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
            output: self.output.without_autodiff(),
            targets: self.targets.without_autodiff(),
            labels: self.labels.without_autodiff(),
        })
    }
}

impl Adaptor<LossInput> for SoftClassificationOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

impl Adaptor<AccuracyInput> for SoftClassificationOutput {
    fn adapt(&self) -> AccuracyInput {
        AccuracyInput::new(self.output.clone(), self.dominant())
    }
}

impl Adaptor<CalibrationInput> for SoftClassificationOutput {
    fn adapt(&self) -> CalibrationInput {
        CalibrationInput::new(self.output.clone(), self.dominant())
    }
}

impl Adaptor<CalibrationInput> for ClassificationOutput {
    fn adapt(&self) -> CalibrationInput {
        CalibrationInput::new(self.output.clone(), self.targets.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may unwrap")]
    use super::*;

    #[test]
    fn the_loss_is_soft_cross_entropy_and_metrics_see_the_dominant_class() {
        let dev = Device::flex();
        let targets = Tensor::<2>::from_data([[0.3f32, 0.7, 0.0], [0.6, 0.0, 0.4]], &dev);
        let logits = Tensor::<2>::from_data([[1.0f32, 2.0, 0.5], [0.0, 0.0, 3.0]], &dev);
        let batch = MixedBatch {
            inputs: Tensor::<2>::zeros([2, 4], &dev),
            targets: targets.clone(),
            labels: Tensor::from_data([0i64, 2], &dev),
        };
        let out = SoftClassificationOutput::new(logits.clone(), batch);
        let want: f32 = soft_cross_entropy(logits, targets).into_scalar();
        assert_eq!(out.loss.clone().into_scalar::<f32>(), want);
        assert_eq!(
            out.dominant().into_data().try_into_vec_as::<i64>().unwrap(),
            vec![1, 0]
        );
        let synced = out.sync().unwrap();
        assert_eq!(
            synced.labels.into_data().try_into_vec_as::<i64>().unwrap(),
            vec![0, 2]
        );
    }
}
