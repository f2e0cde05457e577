//! What a run reports: per-step progress, per-epoch curve records, the final metrics of every task and
//! the run record. Plain data shared by the tasks, the engine and the checkpoints.

use crate::config::TrainConfig;
use mixlab_core::calib::{self, ClassMetrics, ReliabilityBin};
use mixlab_core::collapse::Collapse;
use serde::{Deserialize, Serialize};

/// One training step, for progress bars.
#[derive(Clone, Debug, PartialEq)]
pub struct StepInfo {
    pub epoch: usize,
    pub epochs: usize,
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    /// Accuracy of the arg-max against each sample's majority label (classification only).
    pub acc: Option<f64>,
    pub lr: f64,
    pub samples_per_s: f64,
}

/// Callbacks a front end uses to draw progress. All methods default to doing nothing.
pub trait Progress {
    fn epoch_start(&mut self, _epoch: usize, _epochs: usize, _steps: usize) {}
    fn step(&mut self, _info: &StepInfo) {}
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
    pub acc: Option<f64>,
    pub ece15: Option<f64>,
    pub rmse: Option<f64>,
    pub mae: Option<f64>,
    pub mape_pct: Option<f64>,
    /// Recall@1, 2, 4, 8 on held-out classes (embedding methods; `acc` is then Recall@1 and `loss`
    /// 1 − Recall@1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<Vec<f64>>,
}

/// One point of the learning curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub lr_last: f64,
    pub val: EvalMetrics,
    /// Test metrics, in the epochs [`TrainConfig::tests_after`] names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<EvalMetrics>,
    pub train_samples_per_s: f64,
    pub wall_s: f64,
}

/// Test-set classification metrics before and after temperature scaling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassFinal {
    pub before: ClassMetrics,
    pub after_ts: ClassMetrics,
    /// Temperature fitted on the validation logits.
    pub temperature: f64,
    pub reliability_before: Vec<ReliabilityBin>,
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
    pub best_epoch: usize,
    pub val_rmse: f64,
    pub test: calib::RegressionMetrics,
}

/// The final numbers of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "kebab-case")]
pub enum FinalMetrics {
    Classification(ClassFinal),
    Regression(RegFinal),
    /// Embedding methods: retrieval on held-out classes.
    Retrieval(RetrievalFinal),
    /// Cross-modal runs (geomix): retrieval across two datasets.
    CrossModal(CrossModalFinal),
}

/// The record of a finished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    pub config: TrainConfig,
    pub curve: Vec<EpochRecord>,
    pub final_metrics: FinalMetrics,
    pub params: usize,
    pub wall_s: f64,
    pub train_samples_per_s: f64,
    /// Epochs trained by this process (fewer than `config.epochs` after a resume).
    pub epochs_this_process: usize,
}

/// How a call to [`train`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Finished(Box<TrainResult>),
    /// Stopped by `stop_after_epochs` after this many epochs (a checkpoint holds the state).
    Stopped {
        epochs_done: usize,
    },
}

/// Retrieval metrics of the final model on the held-out classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetrievalFinal {
    /// Classes `0..train_classes` trained; the rest were retrieved.
    pub train_classes: usize,
    pub classes: usize,
    /// The K of `test_recall` / `val_recall`.
    pub ks: Vec<usize>,
    /// Recall@K on the held-out classes of the test split (each query against the rest of the split).
    pub test_recall: Vec<f64>,
    pub val_recall: Vec<f64>,
    /// Wang & Isola's uniformity (t = 2) of the test embeddings: lower is more uniform on the sphere.
    pub test_uniformity: f64,
    /// Held-out test queries.
    pub test_queries: usize,
}

/// Cross-modal metrics of the final model on the test splits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossModalFinal {
    /// The K of the recalls.
    pub ks: Vec<usize>,
    /// Run dataset → paired dataset (e.g. audio → image) and back.
    pub a_to_b: Vec<f64>,
    pub b_to_a: Vec<f64>,
    /// Mean ‖f(a) − g(b)‖² over same-class test pairs (lower = better aligned).
    pub alignment: f64,
    /// log E exp(−2‖u − v‖²) within each modality's test embeddings (lower = more uniform).
    pub uniformity_a: f64,
    pub uniformity_b: f64,
}
