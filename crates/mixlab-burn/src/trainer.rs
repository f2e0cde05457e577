//! The entry of a training run: picks the task a config asks for (embedding, cross-modal checks, continual,
//! patch-source prediction, CLEM's digit decoding, MixedAE pre-training, classification / regression) above the tasks, and re-exports the run's types for front ends.

pub use crate::config::{Augment, ContinualConfig, KdConfig, MAX_BATCH, RunOptions, TrainConfig};
pub use crate::data::{Splits, Targets, TrainData};
pub use crate::engine::predict;
pub use crate::records::{
    ClassFinal, ContinualFinal, EpochRecord, EvalMetrics, FinalMetrics, NoProgress, Outcome,
    Progress, RegFinal, StepInfo, TrainResult,
};

use crate::error::{Error, Result};
use mixlab_core::methods::MethodConfig;

/// The checks a run's config needs its data for, cheap enough to run before anything is written: MixMatch
/// needs unlabelled samples, a continual run needs its tasks to divide the classes and each task to have
/// training samples.
pub fn preflight(cfg: &TrainConfig, data: &Splits) -> Result<()> {
    data.validate()?;
    if matches!(cfg.representation(), Some(MethodConfig::Mixmatch(_)))
        && data.unlabelled.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(Error::Incompatible(
            "mixmatch needs unlabelled samples: set labels_per_class (--labels-per-class N) so that the \
             rest of the training split is unlabelled"
                .into(),
        ));
    }
    if let (Some(c), Targets::Classes { labels, classes }) = (&cfg.continual, &data.train.targets) {
        for (t, task) in mixlab_core::continual::class_split(*classes, c.tasks)?
            .iter()
            .enumerate()
        {
            if !labels.iter().any(|l| task.contains(l)) {
                return Err(Error::Incompatible(format!(
                    "task {t} (classes {task:?}) has no training sample"
                )));
            }
        }
    }
    Ok(())
}

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
    if matches!(cfg.representation(), Some(MethodConfig::Mixedae(_))) {
        return crate::mixedae::train(cfg, data, opts, progress);
    }
    if matches!(cfg.representation(), Some(MethodConfig::Clem(_))) {
        return crate::clem::train(cfg, data, opts, progress);
    }
    if matches!(cfg.representation(), Some(MethodConfig::Patchsource(_))) {
        return crate::patchsource::train(cfg, data, opts, progress);
    }
    if cfg.trains_embedding() {
        return crate::embed::train(cfg, data, opts, progress);
    }
    crate::supervised::train(cfg, data, opts, progress)
}
