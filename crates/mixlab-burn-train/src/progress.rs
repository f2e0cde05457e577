//! A one-line-per-split renderer for `SupervisedTraining::renderer`: without the `tui` feature (or off a
//! terminal) burn-train's default renderer prints every batch's progress snapshot, which buries the results
//! of a short run; [`EpochProgress`] prints one line when each split of each epoch (or each test) ends.

use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use std::time::Instant;

/// Prints `epoch 2/3 train: 2000 items in 4.1 s` when a split ends, and nothing per batch; the metrics
/// themselves go to burn-train's metric logger (files under the training directory by default).
pub struct EpochProgress {
    epoch: usize,
    total: usize,
    split: String,
    items: usize,
    started: Instant,
}

impl EpochProgress {
    /// A logger that has seen nothing yet.
    pub fn new() -> Self {
        Self {
            epoch: 0,
            total: 0,
            split: String::new(),
            items: 0,
            started: Instant::now(),
        }
    }
}

impl Default for EpochProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl TrainingProgressLogger for EpochProgress {
    fn start(
        &mut self,
        total: usize,
        starting: usize,
        _items: Option<usize>,
        _label: Option<&str>,
    ) {
        self.total = total;
        self.epoch = starting;
    }

    fn update_epoch(&mut self, epoch: usize) {
        // burn-train counts from 1: `start` gets the first epoch, `update_epoch` the one that just ended.
        self.epoch = epoch + 1;
    }

    fn start_split(&mut self, split: &str, _total_items: usize) {
        split.clone_into(&mut self.split);
        self.items = 0;
        self.started = Instant::now();
    }

    fn update_split(&mut self, items_processed: usize) {
        self.items = items_processed;
    }

    fn end_split(&mut self) {
        println!(
            "epoch {}/{} {}: {} items in {:.1} s",
            self.epoch,
            self.total,
            self.split,
            self.items,
            self.started.elapsed().as_secs_f64()
        );
    }

    fn end(&mut self) {}

    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for EpochProgress {
    fn start_global_progress(&mut self, _total_tests: usize) {}

    fn start_test(&mut self, name: &str, total_items: usize) {
        self.start_split(name, total_items);
    }

    fn update_test_progress(&mut self, items_processed: usize) {
        self.items = items_processed;
    }

    fn end_test(&mut self) {
        println!(
            "test {}: {} items in {:.1} s",
            self.split,
            self.items,
            self.started.elapsed().as_secs_f64()
        );
    }

    fn end_global_progress(&mut self) {}

    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRendererTraining for EpochProgress {
    fn update_train(&mut self, _state: MetricState) {}

    fn update_valid(&mut self, _state: MetricState) {}
}

impl MetricsRendererEvaluation for EpochProgress {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl MetricsRenderer for EpochProgress {
    fn manual_close(&mut self) {}

    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
