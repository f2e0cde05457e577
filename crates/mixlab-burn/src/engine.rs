//! The epoch loop every kind of run shares (shuffle, scheduled steps, evaluation, best-validation
//! tracking, curve, checkpoint cadence) and the batch helpers around it. It names no method and no task:
//! a task hands it a step and an evaluation closure.

use crate::checkpoint::{self, CheckpointState};
use crate::config::{RunOptions, TrainConfig};
use crate::data::TrainData;
use crate::error::{Error, Result};
use crate::models::Model;
use crate::records::{EpochRecord, EvalMetrics, FinalMetrics, Progress, StepInfo, TrainResult};
use crate::state::{AuxFile, RunState, snapshot};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Gradients;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::seq::SliceRandom;
use std::time::Instant;

/// A fresh run state (weights from the Init stream), or the one in `opts.checkpoint_dir` when resuming.
pub(crate) fn start_state(
    cfg: &TrainConfig,
    shape: &SampleShape,
    outputs: usize,
    opts: &RunOptions,
    dev: &Device,
) -> Result<RunState> {
    if let (Some(dir), true) = (&opts.checkpoint_dir, opts.resume)
        && let Some(CheckpointState { state, .. }) =
            checkpoint::load(dir, cfg, shape, outputs, dev)?
    {
        return Ok(state);
    }
    Ok(RunState {
        model: cfg.model.init(shape, outputs, cfg.seed, dev)?,
        optim: cfg.optimizer.build(cfg.weight_decay),
        best: None,
        curve: Vec::new(),
        aux: Vec::new(),
    })
}

/// What [`drive`] did in this process.
pub(crate) struct Driven {
    trained: usize,
    train_samples: usize,
    train_time: f64,
}

impl Driven {
    /// The run record of a finished run.
    pub(crate) fn result(
        &self,
        cfg: &TrainConfig,
        st: RunState,
        final_metrics: FinalMetrics,
        t0: Instant,
    ) -> TrainResult {
        TrainResult {
            config: cfg.clone(),
            params: st.model.num_params(),
            curve: st.curve,
            final_metrics,
            wall_s: t0.elapsed().as_secs_f64(),
            train_samples_per_s: self.train_samples as f64 / self.train_time.max(1e-9),
            epochs_this_process: self.trained,
        }
    }
}

/// One step's outcome: the new model, the batch's mean loss and, for classification, the arg-max hits.
pub(crate) type Stepped = (Model, f64, Option<usize>);

/// The epoch loop every kind of run shares: shuffle (`Shuffle` stream), steps over `n` training samples with
/// the scheduled learning rate, evaluation, best-validation tracking by RMSE (`track_best`), the learning
/// curve and a checkpoint on the `opts.checkpoint_every` cadence. `step` returns `None` for a batch it skips (a one-sample tail a
/// pair loss cannot use); `aux` gives the files the run's strategy keeps in a checkpoint. Returns `None`
/// when `opts.stop_after_epochs` stopped the run.
#[allow(clippy::too_many_arguments)]
pub(crate) fn drive(
    cfg: &TrainConfig,
    n: usize,
    st: &mut RunState,
    opts: &RunOptions,
    progress: &mut dyn Progress,
    track_best: bool,
    mut step: impl FnMut(
        &Model,
        &mut ModuleOptimizer,
        &[usize],
        usize,
        usize,
        f64,
    ) -> Result<Option<Stepped>>,
    mut eval: impl FnMut(&Model, bool) -> Result<(EvalMetrics, Option<EvalMetrics>)>,
    mut aux: impl FnMut() -> Result<Vec<AuxFile>>,
) -> Result<Option<Driven>> {
    let steps = steps_per_epoch(n, cfg.batch_size);
    let start = st.curve.len();
    let mut driven = Driven {
        trained: 0,
        train_samples: 0,
        train_time: 0.0,
    };
    for epoch in start..cfg.epochs {
        if opts.stop_after_epochs.is_some_and(|s| epoch >= s) {
            return Ok(None);
        }
        let te = Instant::now();
        progress.epoch_start(epoch, cfg.epochs, steps);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut stream(cfg.seed, Purpose::Shuffle, epoch as u64, 0));
        let (mut loss_sum, mut hits, mut seen) = (0f64, 0usize, 0usize);
        let mut lr = cfg.lr;
        for k in 0..steps {
            let idx = &order[k * cfg.batch_size..((k + 1) * cfg.batch_size).min(n)];
            lr = cfg.lr_at(epoch, k, steps);
            let Some((m, loss, hit)) = step(&st.model, &mut st.optim, idx, epoch, k, lr)? else {
                continue;
            };
            st.model = m;
            loss_sum += loss * idx.len() as f64;
            hits += hit.unwrap_or(0);
            seen += idx.len();
            let el = te.elapsed().as_secs_f64();
            progress.step(&StepInfo {
                epoch,
                epochs: cfg.epochs,
                step: k,
                steps,
                loss,
                acc: hit.map(|_| hits as f64 / seen as f64),
                lr,
                samples_per_s: seen as f64 / el.max(1e-9),
            });
        }
        let train_s = te.elapsed().as_secs_f64();
        driven.train_samples += n;
        driven.train_time += train_s;
        let (val, test) = eval(&st.model.valid(), cfg.tests_after(epoch))?;
        if track_best {
            let v = val.rmse.unwrap_or(f64::INFINITY);
            // Strictly better only, so ties keep the earlier epoch (as C-Mixup's `<` comparison does).
            if st.best.as_ref().is_none_or(|(_, b, _)| v < *b) {
                st.best = Some((epoch, v, snapshot(&st.model)));
            }
        }
        let record = EpochRecord {
            epoch,
            // Skipped batches are not in the mean (with none skipped, `seen` is n).
            train_loss: loss_sum / seen.max(1) as f64,
            lr_last: lr,
            val,
            test,
            train_samples_per_s: n as f64 / train_s.max(1e-9),
            wall_s: te.elapsed().as_secs_f64(),
        };
        progress.epoch_end(&record);
        st.curve.push(record);
        driven.trained += 1;
        let every = opts.checkpoint_every.max(1);
        let done = epoch + 1;
        let due = done.is_multiple_of(every)
            || done == cfg.epochs
            || opts.stop_after_epochs.is_some_and(|s| done >= s);
        if let (Some(dir), true) = (&opts.checkpoint_dir, due) {
            checkpoint::save(dir, cfg, st, &aux()?)?;
        }
    }
    Ok(Some(driven))
}

/// Optimiser steps in an epoch of `n` samples: the last batch may be short.
pub(crate) fn steps_per_epoch(n: usize, batch: usize) -> usize {
    n.div_ceil(batch.max(1))
}

/// Backward, a finite-loss check and one optimiser step; returns the new model and the loss.
pub(crate) fn optimise(
    model: &Model,
    optim: &mut ModuleOptimizer,
    loss: Tensor<1>,
    lr: f64,
    epoch: usize,
    step: usize,
) -> Result<Stepped> {
    optimise_with(model, optim, loss, lr, epoch, step, |_| Ok(()))
}

/// [`optimise`] where the loss also reaches modules outside the model (a training strategy's own
/// trainable modules): the model takes its gradients first, then `rest` gets the gradients that remain
/// and steps those modules, before the model's step.
#[allow(clippy::too_many_arguments)]
pub(crate) fn optimise_with(
    model: &Model,
    optim: &mut ModuleOptimizer,
    loss: Tensor<1>,
    lr: f64,
    epoch: usize,
    step: usize,
    rest: impl FnOnce(&mut Gradients) -> Result<()>,
) -> Result<Stepped> {
    let mut all = loss.backward();
    let grads = GradientsParams::from_module(&mut all, model);
    let loss_v: f32 = loss.into_scalar();
    if !loss_v.is_finite() {
        return Err(Error::Incompatible(format!(
            "training diverged: loss is {loss_v} at epoch {epoch} step {step} (lower the learning rate)"
        )));
    }
    rest(&mut all)?;
    Ok((
        optim.step(lr, model.clone(), grads),
        f64::from(loss_v),
        None,
    ))
}

pub(crate) fn to_f32(d: TensorData) -> Result<Vec<f32>> {
    d.try_into_vec_as::<f32>()
        .map_err(|e| Error::Data(format!("{e:?}")))
}

/// Model outputs for a whole split (N×outputs, row-major), in eval mode on the plain device.
pub fn predict(model: &Model, split: &TrainData, batch: usize, dev: &Device) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for x in split_batches(split, batch, dev) {
        out.extend(to_f32(model.forward(x)?.into_data())?);
    }
    Ok(out)
}

/// A host batch of `shape` samples (N×C×S, row-major) as a tensor on `dev`.
pub(crate) fn batch_tensor(x: Vec<f32>, shape: &SampleShape, dev: &Device) -> Tensor<3> {
    let rows = x.len() / shape.sample_len().max(1);
    Tensor::from_data(
        TensorData::new(x, [rows, shape.channels, shape.spatial_len()]),
        dev,
    )
}

/// A split in consecutive batches of at most `batch` samples.
pub(crate) fn split_batches<'a>(
    split: &'a TrainData,
    batch: usize,
    dev: &'a Device,
) -> impl Iterator<Item = Tensor<3>> + 'a {
    split
        .x
        .chunks(batch.max(1) * split.shape.sample_len())
        .map(move |c| batch_tensor(c.to_vec(), &split.shape, dev))
}
