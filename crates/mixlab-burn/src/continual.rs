//! Online class-incremental training ([`crate::config::ContinualConfig`]): the classes arrive in tasks,
//! each task is one epoch over its own training samples in stream batches, and every stream batch is
//! trained together with a batch replayed from a reservoir buffer (experience replay, ER). With
//! `--method dualmix` two kinds of mixed samples join the batch ([`mixlab_core::methods::dualmix`]).
//!
//! DualMix, as far as its abstract states it and as read here (no code, no formula could be read; every
//! point below is a choice):
//! - **EnMix**: a second augmented view of the whole batch (stream and replay) is mixed with a shuffled
//!   copy of itself, inputs and one-hot labels alike, λ ~ Beta(α, α) per sample; "mixes the augmented
//!   samples and their labels simultaneously";
//! - **AdpMix**: the k-th replayed (old-class) sample is mixed with the k-th stream (new-class) sample,
//!   λ ~ Beta(α, α), and the old class's label share is λ re-weighted by the inverse counts the model trains
//!   on (the buffer's count of the old class, the stream's count so far of the new class in this task)
//!   ([`mixlab_core::continual::adpmix_label_share`]); where both are of one class the share is λ;
//! - the mixed rows join the plain batch and the loss is the mean soft cross-entropy over all rows (every
//!   row weighs the same); one optimiser step per stream batch;
//! - buffer: reservoir sampling of the stream (after the step), replay batch drawn without replacement.
//!
//! Evaluation after each task: the test accuracy on every task seen so far (the accuracy matrix), and the
//! validation split on all classes for the curve. Final: average accuracy after the last task and
//! forgetting ([`mixlab_core::continual::summary`]). A checkpoint after each task holds the model, the
//! optimiser, the buffer, the class counts and the accuracy matrix, so a killed run resumes to the same
//! numbers.

use crate::augment::augment;
use crate::config::{RunOptions, TrainConfig};
use crate::data::{Splits, Targets, TrainData};
use crate::engine::{batch_tensor, drive, optimise, start_state};
use crate::error::{Error, Result};
use crate::records::{ContinualFinal, EvalMetrics, FinalMetrics, Outcome, Progress};
use crate::state::{AuxFile, AuxKind};
use crate::strategy::to_i64;
use burn::prelude::*;
use mixlab_core::continual::{Reservoir, adpmix_label_share, class_split, summary};
use mixlab_core::methods::{DualmixConfig, MethodConfig, sample_beta};
use mixlab_core::rng::{Purpose, stream};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::Path;
use std::time::Instant;

const STATE: &str = "continual";

/// What a continual run carries from step to step and keeps in its checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Stream {
    buffer: Reservoir,
    /// Samples of each class seen in the current task's stream.
    seen_in_task: Vec<usize>,
    /// The task `seen_in_task` counts.
    task: usize,
    /// `accuracy[t][j]`: test accuracy on task j after task t.
    accuracy: Vec<Vec<f64>>,
}

impl Stream {
    fn restore(saved: Vec<AuxFile>, fresh: Stream, origin: &Path) -> Result<Self> {
        let mut saved = saved.into_iter();
        match (saved.next(), saved.next()) {
            (None, _) => Ok(fresh),
            (Some(f), None) if f.name == STATE => serde_json::from_slice(&f.bytes).map_err(|e| {
                Error::ckpt(origin, format!("its continual state is unreadable: {e}"))
            }),
            (Some(f), _) => Err(Error::ckpt(
                origin,
                format!("a continual run keeps one {STATE} file, found {}", f.name),
            )),
        }
    }

    fn file(&self) -> Result<AuxFile> {
        Ok(AuxFile {
            name: STATE.into(),
            kind: AuxKind::Json,
            bytes: serde_json::to_vec(self).map_err(|e| Error::Data(e.to_string()))?,
        })
    }
}

/// The rows of `d` whose class belongs to each task.
fn rows_by_task(labels: &[usize], split: &[Vec<usize>]) -> Vec<Vec<usize>> {
    split
        .iter()
        .map(|cs| {
            (0..labels.len())
                .filter(|&i| cs.contains(&labels[i]))
                .collect()
        })
        .collect()
}

fn subset(d: &TrainData, rows: &[usize], labels: &[usize], classes: usize) -> Result<TrainData> {
    TrainData::classification(
        d.shape,
        d.rows(rows),
        rows.iter().map(|&i| labels[i]).collect(),
        classes,
    )
}

/// Trains a continual run (`cfg.continual` set, `cfg.epochs` equal to its tasks).
pub(crate) fn train(
    cfg: &TrainConfig,
    data: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    let cc = cfg
        .continual
        .clone()
        .ok_or_else(|| Error::Incompatible("not a continual run".into()))?;
    let shape = data.train.shape;
    let (
        Targets::Classes { labels, classes },
        Targets::Classes {
            labels: test_labels,
            ..
        },
    ) = (&data.train.targets, &data.test.targets)
    else {
        return Err(Error::Incompatible(
            "a continual run learns classes: this dataset's targets are values".into(),
        ));
    };
    let classes = *classes;
    cfg.validate(&shape, classes)?;
    let dual = match cfg.representation() {
        Some(MethodConfig::Dualmix(d)) => Some(d.clone()),
        _ => None,
    };
    let split = class_split(classes, cc.tasks)?;
    let members = rows_by_task(labels, &split);
    if let Some(t) = members.iter().position(Vec::is_empty) {
        return Err(Error::Incompatible(format!(
            "task {t} (classes {:?}) has no training sample",
            split[t]
        )));
    }
    let test_tasks = rows_by_task(test_labels, &split)
        .iter()
        .map(|rows| subset(&data.test, rows, test_labels, classes))
        .collect::<Result<Vec<_>>>()?;
    let n = members.iter().map(Vec::len).max().unwrap_or(0);

    let t0 = Instant::now();
    let plain = cfg.device.device()?;
    let dev = plain.clone().autodiff();
    dev.seed(cfg.seed);
    let mut st = start_state(cfg, &shape, classes, opts, &dev)?;
    let origin = opts.checkpoint_dir.clone().unwrap_or_default();
    let fresh = Stream {
        buffer: Reservoir::new(cc.buffer)?,
        seen_in_task: vec![0; classes],
        task: 0,
        accuracy: Vec::new(),
    };
    let stream_state = RefCell::new(Stream::restore(
        std::mem::take(&mut st.aux),
        fresh,
        &origin,
    )?);
    let driven = drive(
        cfg,
        n,
        &mut st,
        opts,
        progress,
        false,
        |model, optim, idx, task, k, lr| {
            let mut s = stream_state.borrow_mut();
            if s.task != task {
                s.task = task;
                s.seen_in_task.fill(0);
            }
            let rows: Vec<usize> = idx
                .iter()
                .filter_map(|&p| members[task].get(p).copied())
                .collect();
            if rows.is_empty() {
                return Ok(None);
            }
            let mut rng = stream(cfg.seed, Purpose::Mix, task as u64, k as u64);
            let replay = s.buffer.sample(cc.replay_batch, &mut rng);
            let base: Vec<usize> = rows.iter().chain(&replay).copied().collect();
            let mut xb = data.train.rows(&base);
            let zero = data.train.zero.as_deref();
            augment(
                cfg.augment,
                &mut xb,
                &shape,
                zero,
                &mut stream(cfg.seed, Purpose::Augment, task as u64, k as u64),
            );
            let one_hot = |i: usize| {
                let mut v = vec![0f32; classes];
                v[labels[i]] = 1.0;
                v
            };
            let mut targets: Vec<f32> = base.iter().flat_map(|&i| one_hot(i)).collect();
            let mut parts = vec![base.len()];
            if let Some(d) = &dual {
                let counts = class_counts(&s.buffer, labels, classes);
                let mixed = dual_parts(
                    d,
                    DualInput {
                        base: &base,
                        rows: &rows,
                        replay: &replay,
                        xb: &xb,
                        train: &data.train,
                        labels,
                        classes,
                        buffer_counts: &counts,
                        seen_in_task: &s.seen_in_task,
                    },
                    cfg,
                    &shape,
                    zero,
                    &mut rng,
                )?;
                for p in mixed {
                    parts.push(p.targets.len() / classes);
                    xb.extend(p.x);
                    targets.extend(p.targets);
                }
            }
            let total: usize = parts.iter().sum();
            let logits = model.forward(batch_tensor(xb, &shape, &dev))?;
            let tgt = Tensor::<2>::from_data(TensorData::new(targets, [total, classes]), &dev);
            // Every row weighs the same: the mixed rows join the batch (summing a mean per part would
            // scale the step by the number of parts).
            let loss = cfg.class_loss.eval(logits.clone(), tgt);
            let hits = {
                let pred = to_i64(
                    logits
                        .slice([0..rows.len(), 0..classes])
                        .argmax(1)
                        .into_data(),
                )?;
                pred.iter()
                    .zip(&rows)
                    .filter(|(p, r)| **p == labels[**r] as i64)
                    .count()
            };
            let stepped = optimise(model, optim, loss, lr, task, k)?;
            for &r in &rows {
                s.seen_in_task[labels[r]] += 1;
                s.buffer.offer(r, &mut rng);
            }
            Ok(Some((stepped.0, stepped.1, Some(hits))))
        },
        |model, with_test| {
            let mut s = stream_state.borrow_mut();
            let task = s.accuracy.len();
            let row = test_tasks[..=task.min(test_tasks.len() - 1)]
                .iter()
                .map(|d| {
                    crate::supervised::evaluate(model, d, cfg.eval_batch_size, &plain)
                        .map(|(m, _)| m.acc.unwrap_or(0.0))
                })
                .collect::<Result<Vec<f64>>>()?;
            s.accuracy.push(row);
            let (val, _) =
                crate::supervised::evaluate(model, &data.val, cfg.eval_batch_size, &plain)?;
            let test = match with_test {
                true => Some(
                    crate::supervised::evaluate(model, &data.test, cfg.eval_batch_size, &plain)?.0,
                ),
                false => None,
            };
            Ok((val, test))
        },
        || Ok(vec![stream_state.borrow().file()?]),
    )?;
    let Some(driven) = driven else {
        return Ok(Outcome::Stopped {
            epochs_done: st.curve.len(),
        });
    };
    let accuracy_matrix = stream_state.borrow().accuracy.clone();
    let (average_accuracy, forgetting) = summary(&accuracy_matrix)?;
    let test: EvalMetrics =
        crate::supervised::evaluate(&st.model.valid(), &data.test, cfg.eval_batch_size, &plain)?.0;
    let final_metrics = FinalMetrics::Continual(ContinualFinal {
        average_accuracy,
        forgetting,
        accuracy: accuracy_matrix,
        test_acc: test.acc.unwrap_or(0.0),
        buffer: cc.buffer,
    });
    Ok(Outcome::Finished(Box::new(driven.result(
        cfg,
        st,
        final_metrics,
        t0,
    ))))
}

/// Samples of each class in the buffer.
fn class_counts(buffer: &Reservoir, labels: &[usize], classes: usize) -> Vec<usize> {
    let mut c = vec![0; classes];
    buffer.rows.iter().for_each(|&r| c[labels[r]] += 1);
    c
}

/// One mixed part of the batch: its inputs and soft targets, row by row.
struct Part {
    x: Vec<f32>,
    targets: Vec<f32>,
}

/// What the DualMix parts are built from.
struct DualInput<'a> {
    base: &'a [usize],
    rows: &'a [usize],
    replay: &'a [usize],
    /// The augmented plain batch (stream then replay).
    xb: &'a [f32],
    /// The training split the rows index.
    train: &'a TrainData,
    labels: &'a [usize],
    classes: usize,
    buffer_counts: &'a [usize],
    seen_in_task: &'a [usize],
}

/// EnMix's and AdpMix's inputs and soft targets (each a part of its own), as the module docs read them.
fn dual_parts(
    d: &DualmixConfig,
    inp: DualInput<'_>,
    cfg: &TrainConfig,
    shape: &mixlab_core::shape::SampleShape,
    zero: Option<&[f32]>,
    rng: &mut rand::rngs::ChaCha8Rng,
) -> Result<Vec<Part>> {
    let len = shape.sample_len();
    let c = inp.classes;
    let mut parts = Vec::new();
    let blend = |a: &[f32], b: &[f32], l: f32| -> Vec<f32> {
        a.iter()
            .zip(b)
            .map(|(&u, &v)| l * u + (1.0 - l) * v)
            .collect()
    };
    if d.enmix {
        let mut view = inp.train.rows(inp.base);
        augment(cfg.augment, &mut view, shape, zero, rng);
        let mut perm: Vec<usize> = (0..inp.base.len()).collect();
        perm.shuffle(rng);
        let (mut x, mut t) = (Vec::new(), Vec::new());
        for (i, &j) in perm.iter().enumerate() {
            let l = sample_beta(d.alpha, d.alpha, rng)? as f32;
            x.extend(blend(
                &view[i * len..(i + 1) * len],
                &view[j * len..(j + 1) * len],
                l,
            ));
            let mut tv = vec![0f32; c];
            tv[inp.labels[inp.base[i]]] += l;
            tv[inp.labels[inp.base[j]]] += 1.0 - l;
            t.extend(tv);
        }
        parts.push(Part { x, targets: t });
    }
    let pairs = inp.replay.len().min(inp.rows.len());
    if d.adpmix && pairs > 0 {
        let (mut x, mut t) = (Vec::new(), Vec::new());
        let replay_at = inp.rows.len();
        for k in 0..pairs {
            let (old, new) = (inp.replay[k], inp.rows[k]);
            let l = sample_beta(d.alpha, d.alpha, rng)?;
            let xo = &inp.xb[(replay_at + k) * len..(replay_at + k + 1) * len];
            let xn = &inp.xb[k * len..(k + 1) * len];
            x.extend(blend(xo, xn, l as f32));
            let (yo, yn) = (inp.labels[old], inp.labels[new]);
            let share = if yo == yn {
                l
            } else {
                adpmix_label_share(l, inp.buffer_counts[yo], inp.seen_in_task[yn].max(1))
            } as f32;
            let mut tv = vec![0f32; c];
            tv[yo] += share;
            tv[yn] += 1.0 - share;
            t.extend(tv);
        }
        parts.push(Part { x, targets: t });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use crate::checkpoint::tests::uninterrupted_and_resumed;
    use crate::config::{Augment, ContinualConfig};
    use crate::records::{FinalMetrics, NoProgress};
    use crate::strategy::test_util::losses;
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::{RunOptions, train};
    use mixlab_core::methods::{DualmixConfig, MethodConfig};
    use mixlab_core::mixer::MixerConfig;

    fn cfg(method: MethodConfig) -> crate::config::TrainConfig {
        let mut c = small_cfg()
            .with_epochs(2)
            .with_batch_size(8)
            .with_lr(0.003)
            .with_optimizer(crate::optim::OptimizerConfig::adamw())
            .with_schedule(crate::optim::Schedule::Constant)
            .with_augment(Augment::CropFlip)
            .with_mixer(MixerConfig::single(method));
        c.continual = Some(ContinualConfig {
            tasks: 2,
            buffer: 16,
            replay_batch: 8,
        });
        c
    }

    #[test]
    fn er_and_dualmix_pass_over_the_tasks_rerun_and_resume_bit_for_bit() {
        // The toy images have 4 classes: 2 tasks of 2.
        let data = toy_splits();
        for m in [
            MethodConfig::None,
            MethodConfig::Dualmix(DualmixConfig::default()),
            MethodConfig::Dualmix(DualmixConfig {
                enmix: false,
                ..Default::default()
            }),
        ] {
            let c = cfg(m.clone());
            let tmp = tempfile::tempdir().unwrap();
            let (full, resumed) = uninterrupted_and_resumed(&c, &data, 1, tmp.path(), |_| {});
            assert_eq!(losses(&full), losses(&resumed), "{m:?}");
            assert_eq!(full.final_metrics, resumed.final_metrics, "{m:?}");
            let FinalMetrics::Continual(f) = &full.final_metrics else {
                panic!("continual")
            };
            assert_eq!(f.accuracy.len(), 2);
            assert_eq!((f.accuracy[0].len(), f.accuracy[1].len()), (1, 2));
            let (avg, forget) = mixlab_core::continual::summary(&f.accuracy).unwrap();
            assert_eq!((avg, forget), (f.average_accuracy, f.forgetting));
            // Task 0 is learned before task 1 arrives.
            assert!(f.accuracy[0][0] > 0.6, "{m:?}: {:?}", f.accuracy);
        }
        let a = train(
            &cfg(MethodConfig::None),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap();
        let b = train(
            &cfg(MethodConfig::Dualmix(DualmixConfig::default())),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap();
        assert_ne!(a, b, "the mixed rows change training");
    }

    #[test]
    fn continual_misconfigurations_are_refused() {
        let data = toy_splits();
        let run = |c: &crate::config::TrainConfig| {
            train(c, &data, &RunOptions::default(), &mut NoProgress)
                .unwrap_err()
                .to_string()
        };
        let e = run(&cfg(MethodConfig::None).with_epochs(3));
        assert!(e.contains("epochs must equal tasks"), "{e}");
        let mut no_stream = cfg(MethodConfig::Dualmix(DualmixConfig::default()));
        no_stream.continual = None;
        assert!(run(&no_stream).contains("continual method"));
        let e = run(&cfg(MethodConfig::Mixup(Default::default())));
        assert!(e.contains("experience replay"), "{e}");
        let mut three = cfg(MethodConfig::None).with_epochs(3);
        if let Some(c) = &mut three.continual {
            c.tasks = 3;
        }
        assert!(run(&three).contains("divisor"));
        let both_off = cfg(MethodConfig::Dualmix(DualmixConfig {
            enmix: false,
            adpmix: false,
            ..Default::default()
        }));
        assert!(run(&both_off).contains("experience replay"));
    }
}
