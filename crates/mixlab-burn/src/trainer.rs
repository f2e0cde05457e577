//! The entry of a training run: picks the task a config asks for (embedding, cross-modal checks,
//! classification / regression) above the tasks, and re-exports the run's types for front ends.

pub use crate::config::{Augment, ContinualConfig, KdConfig, MAX_BATCH, RunOptions, TrainConfig};
pub use crate::data::{Splits, Targets, TrainData};
pub use crate::engine::predict;
pub use crate::records::{
    ClassFinal, ContinualFinal, EpochRecord, EvalMetrics, FinalMetrics, NoProgress, Outcome,
    Progress, RegFinal, StepInfo, TrainResult,
};

use crate::error::{Error, Result};

/// Trains as configured; with `opts.checkpoint_dir` writes a checkpoint on the `opts.checkpoint_every`
/// cadence and, with `opts.resume`, continues from the one found there.
pub fn train(
    cfg: &TrainConfig,
    data: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    data.validate()?;
    if let Some(m) = cfg
        .representation()
        .filter(|m| m.cross_modal_dim().is_some())
    {
        return Err(Error::Incompatible(format!(
            "{} pairs two datasets: give the paired dataset (mixlab train --paired-dataset)",
            m.method().name()
        )));
    }
    if cfg.continual.is_some() {
        return crate::continual::train(cfg, data, opts, progress);
    }
    if cfg.trains_embedding() {
        return crate::embed::train(cfg, data, opts, progress);
    }
    crate::supervised::train(cfg, data, opts, progress)
}
