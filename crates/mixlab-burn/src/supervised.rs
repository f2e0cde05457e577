//! The classification / regression task: shuffle, augment, plan, mix on the device, soft targets, loss,
//! step; validation every epoch and the test split where the curve needs it; temperature scaling and
//! calibration at the end. What a step computes from its planned batch is the run's strategy
//! ([`crate::strategy`]: soft targets, RankMixup, C-Mixup, DecoupleMix, distillation).
//!
//! Every random draw is a named stream: `Shuffle(epoch)`, `Augment(epoch, step)`, `Mix(epoch, step)`
//! (which also picks the manifold-mixup stage), `Init` for the weights. A step therefore depends only
//! on (seed, epoch, step, weights, optimiser state), which is what makes checkpoints resume
//! bit-identically (see [`crate::checkpoint`]).

use crate::augment::step_batch;
use crate::config::{RunOptions, TrainConfig};
use crate::data::{Splits, Targets, TrainData};
use crate::engine::{
    drive, optimise_with, predict, split_batches, start_state, steps_per_epoch, to_f32,
};
use crate::error::{Error, Result};
use crate::models::Model;
use crate::records::{ClassFinal, EvalMetrics, FinalMetrics, Outcome, Progress, RegFinal};
use crate::state::RunState;
use crate::strategy::{StepAt, StepInput, Strategy};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use mixlab_core::calib::{self, ReliabilityBin};
use mixlab_core::collapse::{Collapse, neural_collapse};
use mixlab_core::mixer::BatchInfo;
use mixlab_core::rng::{Purpose, stream};
use rand::RngExt;
use std::time::Instant;

/// Trains a classifier or regressor (the caller, [`crate::trainer::train`], has checked the splits).
pub(crate) fn train(
    cfg: &TrainConfig,
    data: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    let shape = data.train.shape;
    let outputs = data.train.outputs();
    cfg.validate(&shape, outputs)?;
    let t0 = Instant::now();
    let plain = cfg.device.device()?;
    let dev = plain.clone().autodiff();
    // Nothing in our models draws from Burn's RNG (weights come from the Init stream); seeding it keeps
    // any backend-side randomness reproducible too. On flex this seed is process-global.
    dev.seed(cfg.seed);
    let mut st = start_state(cfg, &shape, outputs, opts, &dev)?;
    let mut strategy = crate::strategy::for_run(cfg, data, &plain)?;
    let origin = opts.checkpoint_dir.clone().unwrap_or_default();
    strategy.begin(&st.model, std::mem::take(&mut st.aux), &origin)?;
    // The step hooks and the checkpoint both reach the strategy.
    let strategy = std::cell::RefCell::new(strategy);
    let driven = drive(
        cfg,
        data.train.n,
        &mut st,
        opts,
        progress,
        data.is_regression(),
        |model, optim, idx, epoch, step, lr| {
            let mut strategy = strategy.borrow_mut();
            let stepped = train_step(
                cfg,
                data,
                strategy.as_mut(),
                model,
                optim,
                idx,
                epoch,
                step,
                lr,
                &dev,
            )?;
            let steps = steps_per_epoch(data.train.n, cfg.batch_size);
            let at = StepAt {
                iter: epoch * steps + step,
                total: cfg.epochs * steps,
            };
            strategy.after_step(&stepped.0, at)?;
            Ok(Some(stepped))
        },
        |model, with_test| {
            let strategy = strategy.borrow();
            let model = strategy.eval_model().unwrap_or(model);
            let (val, _) = evaluate(model, &data.val, cfg.eval_batch_size, &plain)?;
            let test = match with_test {
                true => Some(evaluate(model, &data.test, cfg.eval_batch_size, &plain)?.0),
                false => None,
            };
            Ok((val, test))
        },
        || strategy.borrow().state(),
    )?;
    let Some(driven) = driven else {
        return Ok(Outcome::Stopped {
            epochs_done: st.curve.len(),
        });
    };
    let final_metrics = finish(cfg, data, &st, strategy.borrow().eval_model(), &plain)?;
    Ok(Outcome::Finished(Box::new(driven.result(
        cfg,
        st,
        final_metrics,
        t0,
    ))))
}

/// One optimisation step on the samples `idx`: gather and augment the batch on the host, draw its plan
/// and mixing point from the step's `Mix` stream, let the run's strategy compute the loss, step the
/// optimiser. Returns the new model, the loss and, for classification, the strategy's arg-max hits.
#[allow(clippy::too_many_arguments)]
fn train_step(
    cfg: &TrainConfig,
    data: &Splits,
    strategy: &mut dyn Strategy,
    model: &Model,
    optim: &mut ModuleOptimizer,
    idx: &[usize],
    epoch: usize,
    step: usize,
    lr: f64,
    dev: &Device,
) -> Result<(Model, f64, Option<usize>)> {
    let shape = data.train.shape;
    let b = idx.len();
    let xb = step_batch(cfg, &data.train, idx, epoch, step);
    let mut mix_rng = stream(cfg.seed, Purpose::Mix, epoch as u64, step as u64);
    let info = BatchInfo {
        batch: b,
        shape,
        epoch: epoch as u64,
        data: Some(&xb),
    };
    let plan = cfg.mixer.sample(&info, &mut mix_rng)?;
    let stage = match cfg.mix_points() {
        Some(stages) if stages.len() > 1 => stages[mix_rng.random_range(0..stages.len())],
        Some(stages) => stages[0],
        None => 0,
    };
    let input = StepInput {
        cfg,
        data,
        idx,
        xb,
        plan,
        stage,
        epoch,
        iter: epoch * steps_per_epoch(data.train.n, cfg.batch_size) + step,
        dev,
    };
    let (loss, hits) = strategy.loss(model, input, &mut mix_rng)?;
    let (model, loss, _) = optimise_with(model, optim, loss, lr, epoch, step, |rest| {
        strategy.own_step(rest, lr)
    })?;
    Ok((model, loss, hits))
}

/// Evaluates a split; returns the metrics and the raw outputs.
pub(crate) fn evaluate(
    model: &Model,
    split: &TrainData,
    batch: usize,
    dev: &Device,
) -> Result<(EvalMetrics, Vec<f32>)> {
    let out = predict(model, split, batch, dev)?;
    let m = match &split.targets {
        Targets::Classes { labels, classes } => class_metrics(&out, labels, *classes)?,
        Targets::Regression { values, .. } => {
            EvalMetrics::regression(&calib::regression_metrics(&out, values, calib::MAPE_EPS)?)
        }
    };
    Ok((m, out))
}

/// Top-1 accuracy, NLL and ECE₁₅ of `logits` (rows of `classes`) against `labels`.
pub(crate) fn class_metrics(
    logits: &[f32],
    labels: &[usize],
    classes: usize,
) -> Result<EvalMetrics> {
    let p = calib::softmax(logits, classes, 1.0)?;
    let (conf, correct) = calib::confidences(&p, labels, classes)?;
    Ok(EvalMetrics {
        loss: calib::nll(&p, labels, classes)?,
        acc: Some(correct.iter().filter(|&&c| c).count() as f64 / labels.len().max(1) as f64),
        ece15: Some(calib::ece_from_bins(
            &calib::reliability_bins(&conf, &correct, calib::ECE_BINS)?,
            labels.len(),
        )),
        rmse: None,
        mae: None,
        mape_pct: None,
        recall: None,
    })
}

/// The test split's calibration before and after temperature scaling, the temperature fitted on the
/// validation logits (no collapse or training accuracy: the caller adds them where it measures them).
pub(crate) fn calibrated(
    (val_logits, val_labels): (&[f32], &[usize]),
    (test_logits, test_labels): (&[f32], &[usize]),
    classes: usize,
) -> Result<ClassFinal> {
    let t = calib::fit_temperature(val_logits, val_labels, classes)?;
    let p0 = calib::softmax(test_logits, classes, 1.0)?;
    let p1 = calib::softmax(test_logits, classes, t)?;
    let bins = |p: &[f32]| -> Result<Vec<ReliabilityBin>> {
        let (conf, correct) = calib::confidences(p, test_labels, classes)?;
        Ok(calib::reliability_bins(&conf, &correct, calib::ECE_BINS)?)
    };
    Ok(ClassFinal {
        before: calib::class_metrics(&p0, test_labels, classes)?,
        after_ts: calib::class_metrics(&p1, test_labels, classes)?,
        temperature: t,
        reliability_before: bins(&p0)?,
        reliability_after_ts: bins(&p1)?,
        collapse: None,
        train_acc: None,
    })
}

/// One eval-mode pass over the training split: the accuracy on its own labels (noisy ones under label
/// noise: memorisation) and the neural collapse of its penultimate features, `None` when a class is absent
/// from the split (a `--limit` subset can miss one), since the measures need every class mean.
fn train_pass(
    model: &Model,
    split: &TrainData,
    batch: usize,
    dev: &Device,
) -> Result<(f64, Option<Collapse>)> {
    let Targets::Classes { labels, classes } = &split.targets else {
        return Err(Error::Incompatible(
            "a training-split pass needs class labels".into(),
        ));
    };
    let (mut feats, mut logits, mut dim) = (Vec::new(), Vec::new(), 0);
    for x in split_batches(split, batch, dev) {
        let (l, f) = model.forward_features(x)?;
        dim = f.dims()[1];
        logits.extend(to_f32(l.into_data())?);
        feats.extend(to_f32(f.into_data())?);
    }
    // Ranking logits ranks probabilities: top-1 needs no softmax.
    let acc = calib::top_k_accuracy(&logits, labels, *classes, 1)?;
    let mut seen = vec![false; *classes];
    labels.iter().for_each(|&l| seen[l] = true);
    if seen.contains(&false) {
        return Ok((acc, None));
    }
    Ok((acc, Some(neural_collapse(&feats, dim, labels, *classes)?)))
}

/// Final metrics: calibration with temperature scaling (classification, of `eval` where the strategy
/// keeps its own evaluated model, else of the trained one) or the best-validation epoch's test errors
/// (regression).
fn finish(
    cfg: &TrainConfig,
    data: &Splits,
    st: &RunState,
    eval: Option<&Model>,
    dev: &Device,
) -> Result<FinalMetrics> {
    match (&data.val.targets, &data.test.targets) {
        (
            Targets::Classes {
                labels: vl,
                classes,
            },
            Targets::Classes { labels: tl, .. },
        ) => {
            let model = eval.unwrap_or(&st.model).valid();
            let val_logits = predict(&model, &data.val, cfg.eval_batch_size, dev)?;
            let test_logits = predict(&model, &data.test, cfg.eval_batch_size, dev)?;
            let (train_acc, collapse) = train_pass(&model, &data.train, cfg.eval_batch_size, dev)?;
            Ok(FinalMetrics::Classification(ClassFinal {
                collapse,
                train_acc: Some(train_acc),
                ..calibrated((&val_logits, vl), (&test_logits, tl), *classes)?
            }))
        }
        (_, Targets::Regression { values, .. }) => {
            let (best_epoch, val_rmse, model) = match &st.best {
                Some((e, v, m)) => (*e, *v, m.valid()),
                None => {
                    return Err(Error::Incompatible(
                        "regression run finished without an epoch".into(),
                    ));
                }
            };
            let out = predict(&model, &data.test, cfg.eval_batch_size, dev)?;
            Ok(FinalMetrics::Regression(RegFinal {
                best_epoch,
                val_rmse,
                test: calib::regression_metrics(&out, values, calib::MAPE_EPS)?,
            }))
        }
        _ => Err(Error::Incompatible("splits disagree on the task".into())),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{Augment, KdConfig};
    use crate::device::DeviceKind;
    use crate::engine::{batch_tensor, optimise};
    use crate::models::{CnnConfig, MlpConfig, ModelConfig};
    use crate::optim::{OptimizerConfig, Schedule};
    use crate::records::{NoProgress, TrainResult};
    use crate::state::snapshot;
    use crate::test_support::finished;
    use mixlab_core::methods::MethodConfig;
    use mixlab_core::methods::{CutmixConfig, MixupConfig};
    use mixlab_core::mixer::MixerConfig;
    use mixlab_core::shape::SampleShape;

    /// A learnable toy task: class = which quadrant of an 8×8 image holds a bright blob, plus noise.
    pub(crate) fn toy_images(n: usize, seed: u64) -> TrainData {
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        let mut rng = stream(seed, Purpose::Split, 0, 0);
        let mut x = Vec::with_capacity(n * 64);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let c = rng.random_range(0..4usize);
            let (oy, ox) = ((c / 2) * 4, (c % 2) * 4);
            for r in 0..8 {
                for q in 0..8 {
                    let inside = (oy..oy + 4).contains(&r) && (ox..ox + 4).contains(&q);
                    x.push(if inside { 1.0 } else { 0.0 } + rng.random_range(-0.5f32..0.5));
                }
            }
            y.push(c);
        }
        TrainData::classification(shape, x, y, 4).unwrap()
    }

    pub(crate) fn toy_splits() -> Splits {
        Splits {
            train: toy_images(96, 1),
            val: toy_images(40, 2),
            test: toy_images(40, 3),
            unlabelled: None,
        }
    }

    pub(crate) fn small_cfg() -> TrainConfig {
        TrainConfig::default()
            .with_model(ModelConfig::Cnn(CnnConfig {
                channels: vec![4, 8],
                hidden: 16,
            }))
            .with_epochs(3)
            .with_batch_size(16)
            .with_lr(0.05)
            .with_mixer(MixerConfig::single(MethodConfig::Cutmix(
                CutmixConfig::default(),
            )))
            .with_augment(Augment::CropFlip)
            .with_seed(7)
    }

    #[test]
    fn tiny_run_learns_and_is_deterministic() {
        let data = toy_splits();
        // No crop: shifting an 8x8 image by up to 4 pixels moves the blob to another quadrant.
        let cfg = small_cfg()
            .with_mixer(MixerConfig::default())
            .with_augment(Augment::None)
            .with_schedule(Schedule::Constant)
            .with_lr(0.1)
            .with_epochs(12);
        let a = finished(train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        let first = a.curve[0].train_loss;
        let last = a.curve[a.curve.len() - 1].train_loss;
        assert!(last < first * 0.8, "loss {first} -> {last}");
        let FinalMetrics::Classification(f) = &a.final_metrics else {
            panic!("classification")
        };
        assert!(f.temperature > 0.0 && f.before.acc > 0.5, "{f:?}");
        let b = finished(train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        assert_eq!(
            a.curve
                .iter()
                .map(|r| (&r.val, &r.test, r.train_loss))
                .collect::<Vec<_>>(),
            b.curve
                .iter()
                .map(|r| (&r.val, &r.test, r.train_loss))
                .collect::<Vec<_>>()
        );
        assert_eq!(a.final_metrics, b.final_metrics);
    }

    #[test]
    fn manifold_mixup_and_regression_run() {
        let data = toy_splits();
        let cfg = small_cfg()
            .with_epochs(1)
            .with_augment(Augment::None)
            .with_mixer(MixerConfig::single(MethodConfig::Mixup(
                MixupConfig::default(),
            )))
            .with_mix_at(Some(vec![0, 1, 2]));
        assert!(matches!(
            train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap(),
            Outcome::Finished(_)
        ));
        // Cutmix on hidden features is refused before training.
        let bad = cfg
            .clone()
            .with_mixer(MixerConfig::single(MethodConfig::Cutmix(
                CutmixConfig::default(),
            )));
        assert!(train(&bad, &data, &RunOptions::default(), &mut NoProgress).is_err());
        // Regression: y = sum of the 5 inputs.
        let shape = SampleShape::d1(5, 1).unwrap();
        let mk = |n: usize, seed: u64| {
            let mut rng = stream(seed, Purpose::Split, 0, 0);
            let x: Vec<f32> = (0..n * 5).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let y: Vec<f32> = x.chunks(5).map(|r| r.iter().sum()).collect();
            TrainData::regression(shape, x, y, 1).unwrap()
        };
        let reg = Splits {
            train: mk(64, 1),
            val: mk(32, 2),
            test: mk(32, 3),
            unlabelled: None,
        };
        let cfg = TrainConfig::default()
            .with_model(ModelConfig::Mlp(
                MlpConfig::default()
                    .with_hidden(vec![16])
                    .with_activation(crate::models::Activation::LeakyRelu),
            ))
            .with_epochs(3)
            .with_batch_size(16)
            .with_lr(0.01)
            .with_optimizer(OptimizerConfig::adamw())
            .with_mixer(MixerConfig::single(MethodConfig::Mixup(
                MixupConfig::default(),
            )));
        let r = finished(train(&cfg, &reg, &RunOptions::default(), &mut NoProgress).unwrap());
        let FinalMetrics::Regression(f) = &r.final_metrics else {
            panic!("regression")
        };
        assert!(f.test.rmse.is_finite() && f.best_epoch < 3);
    }

    /// A BatchNorm regression task: 1×16 signals whose target is their sum, for the `cnn1d` model.
    pub(crate) fn bn_regression() -> (TrainConfig, Splits) {
        let shape = SampleShape::d1(1, 16).unwrap();
        let mk = |n: usize, seed: u64| {
            let mut rng = stream(seed, Purpose::Split, 0, 0);
            let x: Vec<f32> = (0..n * 16)
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect();
            let y: Vec<f32> = x.chunks(16).map(|r| r.iter().sum::<f32>() * 0.25).collect();
            TrainData::regression(shape, x, y, 1).unwrap()
        };
        let cfg = TrainConfig::default()
            .with_model(ModelConfig::Cnn1d(crate::models::Cnn1dConfig {
                channels: vec![4, 4],
                first_kernel: 3,
                first_stride: 1,
            }))
            .with_epochs(5)
            .with_batch_size(8)
            .with_lr(0.05)
            .with_schedule(Schedule::Constant)
            .with_seed(3);
        let splits = Splits {
            train: mk(64, 1),
            val: mk(24, 2),
            test: mk(24, 3),
            unlabelled: None,
        };
        (cfg, splits)
    }

    #[test]
    fn the_best_epoch_snapshot_keeps_its_batchnorm_statistics() {
        let (cfg, data) = bn_regression();
        let dev = Device::flex().autodiff();
        let model = cfg.model.init(&data.train.shape, 1, 1, &dev).unwrap();
        let mut optim = cfg.optimizer.build(cfg.weight_decay);
        let probe = || batch_tensor(data.val.x.clone(), &data.val.shape, &Device::flex());
        let step = |m: &Model, optim: &mut ModuleOptimizer, k: usize| {
            let x = batch_tensor(
                data.train.x[k * 128..(k + 1) * 128].to_vec(),
                &data.train.shape,
                &dev,
            );
            let out = m.forward(x).unwrap();
            let loss = (out.clone() * out).mean();
            optimise(m, optim, loss, 0.05, 0, k).unwrap().0
        };
        let model = step(&model, &mut optim, 0);
        let snap = snapshot(&model);
        // Eval mode (running statistics); `valid()` of an eval-mode snapshot is itself.
        let before = to_f32(snap.valid().forward(probe()).unwrap().into_data()).unwrap();
        // Training goes on: the BatchNorm running statistics of `model` move.
        let mut m = model;
        for k in 1..4 {
            m = step(&m, &mut optim, k);
        }
        let moved = to_f32(m.valid().forward(probe()).unwrap().into_data()).unwrap();
        assert_ne!(
            moved, before,
            "the live model's statistics should have moved"
        );
        let after = to_f32(snap.valid().forward(probe()).unwrap().into_data()).unwrap();
        assert_eq!(
            after, before,
            "the snapshot shares running statistics with the live model"
        );
    }

    #[test]
    fn a_batchnorm_regression_run_reports_the_best_epochs_test_metrics() {
        let (cfg, data) = bn_regression();
        let r = finished(train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        let FinalMetrics::Regression(f) = &r.final_metrics else {
            panic!("regression")
        };
        // Epoch 2 is the best of the 5 (validation RMSE 0.364): two more epochs move the statistics after it.
        assert!(
            f.best_epoch + 1 < r.curve.len(),
            "best epoch {}",
            f.best_epoch
        );
        let at_best = r.curve[f.best_epoch].test.as_ref().unwrap();
        assert_eq!(
            at_best.rmse,
            Some(f.test.rmse),
            "best epoch {}",
            f.best_epoch
        );
        assert_eq!(at_best.mae, Some(f.test.mae));
    }

    pub(crate) fn toy_regression() -> Splits {
        // y = sum of the 5 inputs.
        let shape = SampleShape::d1(5, 1).unwrap();
        let mk = |n: usize, seed: u64| {
            let mut rng = stream(seed, Purpose::Split, 0, 0);
            let x: Vec<f32> = (0..n * 5).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let y: Vec<f32> = x.chunks(5).map(|r| r.iter().sum()).collect();
            TrainData::regression(shape, x, y, 1).unwrap()
        };
        Splits {
            train: mk(64, 1),
            val: mk(32, 2),
            test: mk(32, 3),
            unlabelled: None,
        }
    }

    pub(crate) fn mlp_cfg(method: MethodConfig) -> TrainConfig {
        TrainConfig::default()
            .with_model(ModelConfig::Mlp(
                MlpConfig::default()
                    .with_hidden(vec![16, 16])
                    .with_activation(crate::models::Activation::LeakyRelu),
            ))
            .with_epochs(2)
            .with_batch_size(16)
            .with_lr(0.01)
            .with_optimizer(OptimizerConfig::adamw())
            .with_mixer(MixerConfig::single(method))
    }

    #[test]
    fn representation_methods_train_deterministically() {
        use mixlab_core::methods::{
            CmixupConfig, DecouplemixConfig, ManifoldmixConfig, RankLoss, RankmixupConfig,
        };
        let data = toy_splits();
        let class_methods = [
            MethodConfig::Manifoldmix(ManifoldmixConfig::default()),
            MethodConfig::Decouplemix(DecouplemixConfig {
                eta: 0.1,
                base: Box::new(MethodConfig::Cutmix(CutmixConfig::default())),
            }),
            MethodConfig::Rankmixup(RankmixupConfig::default()),
            MethodConfig::Rankmixup(RankmixupConfig {
                loss: RankLoss::Mndcg,
                ..Default::default()
            }),
            MethodConfig::Puzzlemix(mixlab_core::methods::PuzzlemixConfig::default()),
            MethodConfig::Guidedmix(mixlab_core::methods::GuidedmixConfig::default()),
            MethodConfig::Guidedmix(mixlab_core::methods::GuidedmixConfig {
                saliency: mixlab_core::methods::guidedmix::GuidedSaliency::Ap,
                ..Default::default()
            }),
        ];
        for m in class_methods {
            let cfg = small_cfg()
                .with_epochs(2)
                .with_augment(Augment::None)
                .with_mixer(MixerConfig::single(m.clone()));
            let a = finished(train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
            let b = finished(train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
            assert_eq!(
                a.curve[1].train_loss.to_bits(),
                b.curve[1].train_loss.to_bits(),
                "{m:?}"
            );
            assert!(a.curve.iter().all(|r| r.train_loss.is_finite()), "{m:?}");
            let FinalMetrics::Classification(f) = &a.final_metrics else {
                panic!("classification")
            };
            let nc = f
                .collapse
                .expect("every class is in the toy training split");
            assert!(nc.nc1.is_finite() && nc.nc1 >= 0.0 && nc.etf_distance >= 0.0);
        }
        // C-Mixup on inputs and after the first block, against plain mixup on the same data.
        let reg = toy_regression();
        for layers in [vec![0], vec![1]] {
            let cfg = mlp_cfg(MethodConfig::CMixup(CmixupConfig {
                bandwidth: 0.5,
                layers,
                ..Default::default()
            }));
            let a = finished(train(&cfg, &reg, &RunOptions::default(), &mut NoProgress).unwrap());
            let b = finished(train(&cfg, &reg, &RunOptions::default(), &mut NoProgress).unwrap());
            let losses = |r: &TrainResult| -> Vec<u64> {
                r.curve.iter().map(|e| e.train_loss.to_bits()).collect()
            };
            assert_eq!(losses(&a), losses(&b));
            assert_eq!(a.final_metrics, b.final_metrics);
            let FinalMetrics::Regression(f) = &a.final_metrics else {
                panic!("regression")
            };
            assert!(f.test.rmse.is_finite());
        }
    }

    #[test]
    fn representation_misconfigurations_fail_before_training() {
        use mixlab_core::methods::{CmixupConfig, ManifoldmixConfig};
        let data = toy_splits();
        // A layer past the model's depth (the small CNN has mixing points 0..=2).
        let deep = small_cfg().with_mixer(MixerConfig::single(MethodConfig::Manifoldmix(
            ManifoldmixConfig {
                layers: vec![0, 5],
                ..Default::default()
            },
        )));
        let e = train(&deep, &data, &RunOptions::default(), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("5, past the depth of cnn"), "{e}");
        // A regression method on a classification set.
        let cm = small_cfg().with_mixer(MixerConfig::single(MethodConfig::CMixup(
            CmixupConfig::default(),
        )));
        let e = train(&cm, &data, &RunOptions::default(), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("regression method"), "{e}");
        // σ ≤ 0.
        let bad = mlp_cfg(MethodConfig::CMixup(CmixupConfig {
            bandwidth: -1.0,
            ..Default::default()
        }));
        let e = train(
            &bad,
            &toy_regression(),
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("bandwidth must be a finite number > 0, got -1"),
            "{e}"
        );
    }

    #[test]
    fn distillation_from_a_finished_teacher() {
        let data = toy_splits();
        let dir = tempfile::tempdir().unwrap();
        let teacher_dir = dir.path().join("teacher");
        let teacher = small_cfg().with_epochs(2).with_augment(Augment::None);
        let opts = RunOptions {
            checkpoint_dir: Some(teacher_dir.clone()),
            ..Default::default()
        };
        finished(train(&teacher, &data, &opts, &mut NoProgress).unwrap());
        let mut student = small_cfg()
            .with_epochs(2)
            .with_augment(Augment::None)
            .with_model(ModelConfig::Cnn(CnnConfig {
                channels: vec![2, 4],
                hidden: 8,
            }));
        student.kd = Some(KdConfig::new(teacher_dir.clone()));
        let r = finished(train(&student, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        assert!(r.curve.iter().all(|e| e.train_loss.is_finite()));
        // A folder without a checkpoint, and a bad temperature, are refused.
        student.kd = Some(KdConfig::new(dir.path().join("nothing")));
        assert!(train(&student, &data, &RunOptions::default(), &mut NoProgress).is_err());
        student.kd = Some(KdConfig {
            temperature: 0.0,
            ..KdConfig::new(teacher_dir)
        });
        let e = train(&student, &data, &RunOptions::default(), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("kd temperature"), "{e}");
    }

    #[test]
    fn bad_configs_are_typed_errors() {
        let data = toy_splits();
        let shape = data.train.shape;
        assert!(small_cfg().with_epochs(0).validate(&shape, 4).is_err());
        assert!(small_cfg().with_lr(-1.0).validate(&shape, 4).is_err());
        assert!(
            small_cfg()
                .with_mix_at(Some(vec![9]))
                .validate(&shape, 4)
                .is_err()
        );
        assert!(
            small_cfg()
                .with_model(ModelConfig::Cnn1d(Default::default()))
                .validate(&shape, 4)
                .is_err()
        );
        if !cfg!(feature = "cuda") {
            assert!(
                small_cfg()
                    .with_device(DeviceKind::Cuda)
                    .validate(&shape, 4)
                    .is_err()
            );
        }
        assert!(TrainData::classification(shape, vec![0.0; 64], vec![7], 4).is_err());
    }
}
