//! Checks the task tests share: a finished run's record, its curve without wall-clock fields, and the
//! rerun-and-resume check every task must pass (same seed, same numbers; a stopped run resumed from its
//! checkpoint ends where the whole run does).

use crate::config::{RunOptions, TrainConfig};
use crate::data::Splits;
use crate::records::{EvalMetrics, Outcome};
use crate::trainer::{NoProgress, TrainResult, train as train_any};

/// The record of a run that must have finished.
pub(crate) fn finished(o: Outcome) -> TrainResult {
    match o {
        Outcome::Finished(r) => *r,
        Outcome::Stopped { .. } => panic!("stopped"),
    }
}

/// Trains `c` twice and once stopped after `stop` epochs then resumed from its checkpoint; asserts
/// that all three end with the same curve and final metrics, and returns the first.
pub(crate) fn rerun_and_resume(c: &TrainConfig, data: &Splits, stop: usize) -> TrainResult {
    let whole = finished(train_any(c, data, &RunOptions::default(), &mut NoProgress).unwrap());
    let again = finished(train_any(c, data, &RunOptions::default(), &mut NoProgress).unwrap());
    assert_eq!(curve(&whole), curve(&again));
    assert_eq!(whole.final_metrics, again.final_metrics);
    let dir = tempfile::tempdir().unwrap();
    let mut opts = RunOptions {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        resume: true,
        stop_after_epochs: Some(stop),
        checkpoint_every: 1,
    };
    let o = train_any(c, data, &opts, &mut NoProgress).unwrap();
    assert_eq!(o, Outcome::Stopped { epochs_done: stop });
    opts.stop_after_epochs = None;
    let resumed = finished(train_any(c, data, &opts, &mut NoProgress).unwrap());
    assert_eq!(resumed.epochs_this_process, c.epochs - stop);
    assert_eq!(curve(&resumed), curve(&whole));
    assert_eq!(resumed.final_metrics, whole.final_metrics);
    whole
}

/// The learning curve without its wall-clock fields (the checkpoint must carry everything else exactly).
pub(crate) fn curve(r: &TrainResult) -> Vec<(usize, f64, f64, EvalMetrics, Option<EvalMetrics>)> {
    r.curve
        .iter()
        .map(|e| {
            (
                e.epoch,
                e.train_loss,
                e.lr_last,
                e.val.clone(),
                e.test.clone(),
            )
        })
        .collect()
}
