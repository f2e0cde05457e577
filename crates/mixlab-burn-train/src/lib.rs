//! mixlab inside burn-train's `Learner`: wrap the training batcher in a [`MixingBatcher`], return a
//! [`SoftClassificationOutput`] from the model's `TrainStep`, and register [`EceMetric`] / [`NllMetric`]
//! beside burn-train's own accuracy and loss; [`EpochProgress`] keeps the console to one line per split.
//!
//! ```text
//! let mixer = BatchMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 10, seed)?;
//! let train = DataLoaderBuilder::new(MixingBatcher::new(MyBatcher, mixer).reporting_to(interrupter))
//!     .batch_size(64).shuffle(seed).build(train_set);
//!
//! impl TrainStep for MyModel {
//!     type Input = MixedBatch<4>;
//!     type Output = SoftClassificationOutput;
//!     fn step(&self, batch: MixedBatch<4>) -> TrainOutput<SoftClassificationOutput> {
//!         let out = SoftClassificationOutput::new(self.forward(batch.inputs.clone()), batch);
//!         TrainOutput::new(self, out.loss.backward(), out)
//!     }
//! }
//!
//! SupervisedTraining::new(dir, train, valid)
//!     .metric_valid_numeric(AccuracyMetric::new())
//!     .metric_valid_numeric(EceMetric::new())
//!     .metric_valid_numeric(NllMetric::new())
//! ```
//!
//! `examples/learner.rs` is the whole program on Fashion-MNIST; `cargo test` runs it on a few batches.
//! The validation step keeps burn-train's `ClassificationOutput`, which adapts to the calibration metrics
//! too. Only input-level methods mix here (see [`mixlab_burn::BatchMixer`]).

#![warn(missing_docs)]

mod batcher;
mod metrics;
mod output;
mod progress;

pub use batcher::{MixedBatch, MixingBatcher};
pub use metrics::{CalibrationInput, EceMetric, NllMetric};
pub use output::SoftClassificationOutput;
pub use progress::EpochProgress;
