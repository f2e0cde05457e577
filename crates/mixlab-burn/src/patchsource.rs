//! The patch-source task ([`mixlab_core::methods::patchsource`]): a classifier with `grid² × classes`
//! outputs predicts, for every patch of a mixed image, the class of the image the patch came from.
//!
//! Training batches are shuffled, augmented and mixed by the base method exactly as a supervised step's
//! (`Augment(epoch, step)` and `Mix(epoch, step)` streams), so the loop, its checkpoints and its resume are
//! the classifier's ([`crate::engine`]). The validation and test splits are mixed once, in batches of
//! `eval_batch_size`, from `Mix` streams of their own (epochs `u64::MAX − 1` and `u64::MAX`, which no
//! training epoch reaches): every method and target choice with the same seed and base is scored on the same
//! mixed images, each sample with its own draw. Metrics count patches: accuracy against each patch's majority source, NLL, ECE₁₅, and the
//! final calibration with a temperature fitted on the validation patches.

use crate::augment::step_batch;
use crate::config::{RunOptions, TrainConfig};
use crate::data::{Splits, Targets, TrainData};
use crate::engine::{batch_tensor, drive, optimise, predict, start_state};
use crate::error::{Error, Result};
use crate::loss::soft_cross_entropy;
use crate::records::{FinalMetrics, Outcome, Progress};
use crate::supervised::{calibrated, class_metrics};
use burn::prelude::*;
use mixlab_core::apply::apply_in_place;
use mixlab_core::dense::{patch_classes, patch_targets};
use mixlab_core::methods::{MethodConfig, MixMethod, PatchTargets, PatchsourceConfig};
use mixlab_core::mixer::{BatchInfo, Granularity, MixerConfig};
use mixlab_core::plan::MixPlan;
use mixlab_core::rng::{Purpose, stream};
use std::time::Instant;

/// A split mixed once for evaluation: the mixed samples (as a split `predict` reads) and each patch's class.
struct MixedSplit {
    data: TrainData,
    patch_labels: Vec<usize>,
}

fn labels_of(d: &TrainData) -> Result<(&[usize], usize)> {
    match &d.targets {
        Targets::Classes { labels, classes } => Ok((labels, *classes)),
        Targets::Regression { .. } => Err(Error::Incompatible(
            "patchsource predicts the class of each patch's source: it needs class labels".into(),
        )),
    }
}

/// The run's patch-source config, checked against the data and the run settings it does not use.
fn setup(cfg: &TrainConfig, data: &Splits) -> Result<PatchsourceConfig> {
    let Some(MethodConfig::Patchsource(p)) = cfg.representation() else {
        return Err(Error::Incompatible("not a patchsource run".into()));
    };
    labels_of(&data.train)?;
    let m = &cfg.mixer;
    let unused = [
        (m.prob != 1.0, "a mixing probability below 1"),
        (m.label_smoothing != 0.0, "label smoothing"),
        (m.off_epoch.is_some(), "a mixing-off epoch"),
        (cfg.kd.is_some(), "knowledge distillation"),
        (cfg.mix_at.is_some(), "mix_at (it mixes inputs)"),
    ];
    if let Some((_, what)) = unused.iter().find(|(set, _)| *set) {
        return Err(Error::Incompatible(format!(
            "patchsource does not use {what}: drop it from the config"
        )));
    }
    p.validate(&data.train.shape)?;
    Ok(p.clone())
}

/// The base method's plan for a host batch `x` of `b` samples, from `rng`, drawn as `mixer` (granularity,
/// pairing) says.
fn plan(
    p: &PatchsourceConfig,
    mixer: &MixerConfig,
    x: &[f32],
    b: usize,
    d: &TrainData,
    epoch: u64,
    rng: &mut impl rand::Rng,
) -> Result<MixPlan> {
    let info = BatchInfo {
        batch: b,
        shape: d.shape,
        epoch,
        data: Some(x),
    };
    let m = MixerConfig::single((*p.base).clone())
        .with_granularity(mixer.granularity)
        .with_pairing(mixer.pairing);
    Ok(m.sample(&info, rng)?)
}

/// `split` mixed in batches of `batch` by the base method, from the `Mix` stream of epoch `tag`, each sample
/// with its own draw (a batch-wide λ would make one draw decide a whole split's difficulty).
fn mixed_split(
    p: &PatchsourceConfig,
    split: &TrainData,
    batch: usize,
    seed: u64,
    tag: u64,
) -> Result<MixedSplit> {
    let (labels, classes) = labels_of(split)?;
    let len = split.shape.sample_len();
    let (mut x, mut patch_labels) = (Vec::with_capacity(split.x.len()), Vec::new());
    for (k, (chunk, yb)) in split
        .x
        .chunks(batch.max(1) * len)
        .zip(labels.chunks(batch.max(1)))
        .enumerate()
    {
        let mut xb = chunk.to_vec();
        let each = MixerConfig::default().with_granularity(Granularity::Elem);
        let mut rng = stream(seed, Purpose::Mix, tag, k as u64);
        let pl = plan(p, &each, &xb, yb.len(), split, tag, &mut rng)?;
        apply_in_place(&pl, &mut xb)?;
        patch_labels.extend(patch_classes(&pl, yb, p.grid)?);
        x.extend(xb);
    }
    Ok(MixedSplit {
        data: TrainData::classification(split.shape, x, labels.to_vec(), classes)?,
        patch_labels,
    })
}

/// Trains the patch-source task (see the module docs); called by [`crate::trainer::train`].
pub(crate) fn train(
    cfg: &TrainConfig,
    data: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    let p = setup(cfg, data)?;
    let (train_labels, classes) = labels_of(&data.train)?;
    let tr = &data.train;
    let shape = tr.shape;
    let patches = p.grid * p.grid;
    cfg.validate(&shape, patches * classes)?;
    let t0 = Instant::now();
    let plain = cfg.device.device()?;
    let dev = plain.clone().autodiff();
    dev.seed(cfg.seed);
    let eb = cfg.eval_batch_size;
    let val = mixed_split(&p, &data.val, eb, cfg.seed, u64::MAX - 1)?;
    let test = mixed_split(&p, &data.test, eb, cfg.seed, u64::MAX)?;
    let mut st = start_state(cfg, &shape, patches * classes, opts, &dev)?;
    let by_source = p.targets == PatchTargets::SourceMap;
    let driven = drive(
        cfg,
        tr.n,
        &mut st,
        opts,
        progress,
        false,
        |model, optim, idx, epoch, step, lr| {
            let mut xb = step_batch(cfg, tr, idx, epoch, step);
            let mut rng = stream(cfg.seed, Purpose::Mix, epoch as u64, step as u64);
            let pl = plan(&p, &cfg.mixer, &xb, idx.len(), tr, epoch as u64, &mut rng)?;
            apply_in_place(&pl, &mut xb)?;
            let yb: Vec<usize> = idx.iter().map(|&i| train_labels[i]).collect();
            let t = patch_targets(&pl, &yb, classes, p.grid, by_source)?;
            let rows = idx.len() * patches;
            let target = Tensor::<2>::from_data(TensorData::new(t, [rows, classes]), &dev);
            let out = model
                .forward(batch_tensor(xb, &shape, &dev))?
                .reshape([rows, classes]);
            let loss = soft_cross_entropy(out, target);
            optimise(model, optim, loss, lr, epoch, step).map(Some)
        },
        |model, with_test| {
            let v = class_metrics(
                &predict(model, &val.data, eb, &plain)?,
                &val.patch_labels,
                classes,
            )?;
            let t = match with_test {
                true => Some(class_metrics(
                    &predict(model, &test.data, eb, &plain)?,
                    &test.patch_labels,
                    classes,
                )?),
                false => None,
            };
            Ok((v, t))
        },
        || Ok(Vec::new()),
    )?;
    let Some(driven) = driven else {
        return Ok(Outcome::Stopped {
            epochs_done: st.curve.len(),
        });
    };
    let model = st.model.valid();
    let (vl, tl) = (
        predict(&model, &val.data, eb, &plain)?,
        predict(&model, &test.data, eb, &plain)?,
    );
    let final_metrics = FinalMetrics::Classification(calibrated(
        (&vl, &val.patch_labels),
        (&tl, &test.patch_labels),
        classes,
    )?);
    Ok(Outcome::Finished(Box::new(driven.result(
        cfg,
        st,
        final_metrics,
        t0,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervised::tests::{small_cfg, toy_regression, toy_splits};
    use crate::test_support::{finished, rerun_and_resume};
    use crate::trainer::{NoProgress, train as train_any};
    use mixlab_core::methods::MaskmixConfig;

    fn cfg(targets: PatchTargets) -> TrainConfig {
        small_cfg().with_mixer(MixerConfig::single(MethodConfig::Patchsource(
            PatchsourceConfig {
                grid: 2,
                targets,
                ..Default::default()
            },
        )))
    }

    #[test]
    fn reruns_bit_identically_resumes_and_the_targets_matter() {
        let data = toy_splits();
        let c = cfg(PatchTargets::SourceMap).with_epochs(4);
        let whole = rerun_and_resume(&c, &data, 2);
        let FinalMetrics::Classification(f) = &whole.final_metrics else {
            panic!("per-patch classification metrics")
        };
        assert!((0.0..=1.0).contains(&f.before.acc) && f.collapse.is_none());
        // The control sees the same images and draws; only the per-patch targets differ.
        let control = cfg(PatchTargets::ImageLabel).with_epochs(4);
        let other =
            finished(train_any(&control, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        assert_ne!(other.curve[0].train_loss, whole.curve[0].train_loss);
        assert_eq!(other.curve.len(), whole.curve.len());
    }

    #[test]
    fn evaluation_mixes_are_fixed_by_seed_and_base_and_labelled_by_majority() {
        let data = toy_splits();
        let p = PatchsourceConfig {
            grid: 2,
            ..Default::default()
        };
        let a = mixed_split(&p, &data.test, 16, 3, u64::MAX).unwrap();
        let b = mixed_split(&p, &data.test, 16, 3, u64::MAX).unwrap();
        assert_eq!(
            (a.data.x.clone(), a.patch_labels.clone()),
            (b.data.x, b.patch_labels)
        );
        assert_eq!(a.patch_labels.len(), data.test.n * 4);
        let masked = PatchsourceConfig {
            base: Box::new(MethodConfig::Maskmix(MaskmixConfig::default())),
            ..p.clone()
        };
        let m = mixed_split(&masked, &data.test, 16, 3, u64::MAX).unwrap();
        assert_ne!(m.data.x, a.data.x);
        // Some patches show the partner's class: the dense labels are not the image labels repeated.
        let (labels, _) = labels_of(&data.test).unwrap();
        let repeated: Vec<usize> = labels.iter().flat_map(|&l| [l; 4]).collect();
        assert_ne!(a.patch_labels, repeated);
    }

    #[test]
    fn unusable_settings_are_refused_before_training() {
        let run = |c: &TrainConfig, d: &Splits| {
            train_any(c, d, &RunOptions::default(), &mut NoProgress)
                .unwrap_err()
                .to_string()
        };
        let data = toy_splits();
        let e = run(
            &cfg(PatchTargets::SourceMap).with_mix_at(Some(vec![1])),
            &data,
        );
        assert!(e.contains("mix_at"), "{e}");
        let mut smooth = cfg(PatchTargets::SourceMap);
        smooth.mixer.label_smoothing = 0.1;
        assert!(run(&smooth, &data).contains("label smoothing"));
        let e = run(
            &cfg(PatchTargets::SourceMap).with_augment(crate::config::Augment::None),
            &toy_regression(),
        );
        assert!(e.contains("class labels") || e.contains("2-D"), "{e}");
        let big = small_cfg().with_mixer(MixerConfig::single(MethodConfig::Patchsource(
            PatchsourceConfig {
                grid: 9,
                ..Default::default()
            },
        )));
        assert!(run(&big, &data).contains("grid"));
    }
}
