//! What a run reports: per-step progress, per-epoch curve records, the final metrics of every task and
//! the run record. Plain data shared by the tasks, the engine and the checkpoints.

use crate::config::TrainConfig;
use mixlab_core::calib::{self, ClassMetrics, ReliabilityBin};
use mixlab_core::collapse::Collapse;
use serde::{Deserialize, Serialize};

/// One training step, for progress bars.
#[derive(Clone, Debug, PartialEq)]
pub struct StepInfo {
    /// Zero-based epoch index.
    pub epoch: usize,
    /// Epochs of the whole run ([`TrainConfig::epochs`]).
    pub epochs: usize,
    /// Zero-based step within the epoch.
    pub step: usize,
    /// Steps per epoch (`⌈n / batch_size⌉`, including any skipped tail batch).
    pub steps: usize,
    /// This batch's mean training loss.
    pub loss: f64,
    /// Accuracy of the arg-max against each sample's majority label (classification only).
    pub acc: Option<f64>,
    /// Scheduled learning rate of this step ([`TrainConfig::lr_at`]).
    pub lr: f64,
    /// Training samples seen so far in this epoch per second since the epoch started.
    pub samples_per_s: f64,
}

/// Callbacks a front end uses to draw progress. All methods default to doing nothing.
pub trait Progress {
    /// Called as an epoch starts, with its zero-based index, the run's epoch count and its step count.
    fn epoch_start(&mut self, _epoch: usize, _epochs: usize, _steps: usize) {}
    /// Called after each optimiser step (batches a step skips are not reported).
    fn step(&mut self, _info: &StepInfo) {}
    /// Called after the epoch's evaluation with its curve record, before any checkpoint is written.
    fn epoch_end(&mut self, _record: &EpochRecord) {}
}

/// Progress that draws nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// Metrics of one evaluation pass (classification fields or regression fields are set).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Mean NLL (classification) or mean squared error (regression).
    pub loss: f64,
    /// Top-1 accuracy in [0, 1] (classification; Recall@1 for retrieval and cross-modal runs).
    pub acc: Option<f64>,
    /// Expected calibration error over 15 equal-width confidence bins (classification).
    pub ece15: Option<f64>,
    /// Root mean squared error over every output value (regression).
    pub rmse: Option<f64>,
    /// Mean absolute error (regression).
    pub mae: Option<f64>,
    /// Mean absolute percentage error in percent, skipping targets with `|y| < 1e-8` (regression).
    pub mape_pct: Option<f64>,
    /// Recall@1, 2, 4, 8 on held-out classes (embedding methods; `acc` is then Recall@1 and `loss`
    /// 1 − Recall@1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<Vec<f64>>,
}

impl EvalMetrics {
    /// A regression pass's errors (`loss` is the MSE).
    pub fn regression(r: &calib::RegressionMetrics) -> Self {
        EvalMetrics {
            loss: r.rmse * r.rmse,
            acc: None,
            ece15: None,
            rmse: Some(r.rmse),
            mae: Some(r.mae),
            mape_pct: Some(r.mape_pct),
            recall: None,
        }
    }
}

/// One point of the learning curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Zero-based epoch index.
    pub epoch: usize,
    /// Mean training loss over the epoch's samples (skipped batches excluded).
    pub train_loss: f64,
    /// Learning rate of the epoch's last step.
    pub lr_last: f64,
    /// Validation metrics after the epoch (eval mode).
    pub val: EvalMetrics,
    /// Test metrics, in the epochs [`TrainConfig::tests_after`] names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<EvalMetrics>,
    /// Training throughput of the epoch (training samples / seconds of its steps).
    pub train_samples_per_s: f64,
    /// Seconds the whole epoch took, evaluation included.
    pub wall_s: f64,
}

/// Test-set classification metrics before and after temperature scaling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassFinal {
    /// Test metrics of the raw softmax (temperature 1).
    pub before: ClassMetrics,
    /// Test metrics after dividing the logits by [`temperature`](Self::temperature).
    pub after_ts: ClassMetrics,
    /// Temperature fitted on the validation logits.
    pub temperature: f64,
    /// The 15 equal-width reliability bins of the test predictions before temperature scaling.
    pub reliability_before: Vec<ReliabilityBin>,
    /// The same bins after temperature scaling.
    pub reliability_after_ts: Vec<ReliabilityBin>,
    /// Neural-collapse measures of the penultimate features on the training split (final model, eval mode).
    #[serde(default)]
    pub collapse: Option<Collapse>,
    /// Top-1 accuracy of the final model on the training split's own labels (eval mode).
    #[serde(default)]
    pub train_acc: Option<f64>,
}

/// Test-set regression metrics of the best-validation epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegFinal {
    /// Zero-based epoch with the lowest validation RMSE (ties keep the earlier epoch).
    pub best_epoch: usize,
    /// Validation RMSE of that epoch.
    pub val_rmse: f64,
    /// Test-set errors of that epoch's weights (through its ridge head for SupReMix).
    pub test: calib::RegressionMetrics,
}

/// The final numbers of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "kebab-case")]
pub enum FinalMetrics {
    /// Supervised classification: calibration before and after temperature scaling.
    Classification(ClassFinal),
    /// Regression (supervised, or SupReMix through a linear head): the best-validation epoch's test errors.
    Regression(RegFinal),
    /// Embedding methods: retrieval on held-out classes.
    Retrieval(RetrievalFinal),
    /// Cross-modal runs (geomix): retrieval across two datasets.
    CrossModal(CrossModalFinal),
    /// Online class-incremental runs: accuracy over the tasks and forgetting.
    Continual(ContinualFinal),
}

/// The record of a finished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// The config the run trained with.
    pub config: TrainConfig,
    /// The learning curve, one record per epoch (resumed epochs included).
    pub curve: Vec<EpochRecord>,
    /// The task's final metrics.
    pub final_metrics: FinalMetrics,
    /// Number of model parameters.
    pub params: usize,
    /// Wall-clock seconds of the run in this process: setup, training, evaluation and the final metrics.
    pub wall_s: f64,
    /// Training throughput of this process (training samples / seconds of training steps).
    pub train_samples_per_s: f64,
    /// Epochs trained by this process (fewer than `config.epochs` after a resume).
    pub epochs_this_process: usize,
}

/// How a call to [`train`](crate::trainer::train) ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The run trained all its epochs; its record.
    Finished(Box<TrainResult>),
    /// Stopped by `stop_after_epochs` after this many epochs (a checkpoint holds the state).
    Stopped {
        /// Epochs completed so far (resumed ones included).
        epochs_done: usize,
    },
}

/// Retrieval metrics of the final model on the held-out classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetrievalFinal {
    /// Classes `0..train_classes` trained; the rest were retrieved.
    pub train_classes: usize,
    /// Classes in the dataset (labels `0..classes`).
    pub classes: usize,
    /// The K of `test_recall` / `val_recall`.
    pub ks: Vec<usize>,
    /// Recall@K on the held-out classes of the test split (each query against the rest of the split).
    pub test_recall: Vec<f64>,
    /// Recall@K on the held-out classes of the validation split.
    pub val_recall: Vec<f64>,
    /// Wang & Isola's uniformity (t = 2) of the test embeddings: lower is more uniform on the sphere.
    pub test_uniformity: f64,
    /// Held-out test queries.
    pub test_queries: usize,
}

/// A continual run's record: the accuracy matrix and the field's two summary numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinualFinal {
    /// Mean test accuracy over the tasks after the last one.
    pub average_accuracy: f64,
    /// Mean over all tasks but the last of (best earlier accuracy − final accuracy).
    pub forgetting: f64,
    /// `accuracy[t][j]`: test accuracy on task j after task t (j ≤ t).
    pub accuracy: Vec<Vec<f64>>,
    /// Accuracy on the whole test split after the last task.
    pub test_acc: f64,
    /// The replay buffer's size.
    pub buffer: usize,
}

/// Cross-modal metrics of the final model on the test splits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossModalFinal {
    /// The K of the recalls.
    pub ks: Vec<usize>,
    /// Recall@K from the run dataset's test queries to the paired dataset's (e.g. audio → image).
    pub a_to_b: Vec<f64>,
    /// Recall@K the other way, paired dataset → run dataset.
    pub b_to_a: Vec<f64>,
    /// Mean ‖f(a) − g(b)‖² over same-class test pairs (lower = better aligned).
    pub alignment: f64,
    /// log E exp(−2‖u − v‖²) within the run dataset's test embeddings (lower = more uniform).
    pub uniformity_a: f64,
    /// The same within the paired dataset's test embeddings.
    pub uniformity_b: f64,
}
