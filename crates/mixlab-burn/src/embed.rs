//! Training an embedding: the model's outputs are a `dim`-wide embedding, L2-normalised.
//!
//! - For retrieval (Metrix, MI-Mix, ProxyDet) it trains on the classes `0..k` of the training split and is judged by
//!   Recall@K on the classes `k..` of the validation and test splits, which it never saw (the
//!   deep-metric-learning protocol of CUB-200 / Cars-196).
//! - For regression (SupReMix) it trains on the whole training split; every epoch a ridge head is fitted on the
//!   frozen training embeddings and scored on validation and test, and the best-validation epoch is kept.
//!
//! The loop, its random streams and its checkpoints are the classifier's (see [`crate::engine`]); only the step
//! and the evaluation differ.

use crate::config::{RunOptions, TrainConfig};
use crate::data::{Splits, Targets, TrainData};
use crate::engine::{batch_tensor, drive, optimise_with, split_batches, start_state, to_f32};
use crate::error::{Error, Result};
pub use crate::loss::l2_normalise;
use crate::metric_loss::{self, MsParams};
use crate::models::Model;
use crate::owned::Owned;
pub use crate::records::RetrievalFinal;
use crate::records::{EvalMetrics, FinalMetrics, Outcome, Progress, RegFinal};
use crate::state::RunState;
use burn::prelude::*;
use mixlab_core::calib;
use mixlab_core::methods::{
    DrawCtx, EmbeddingTask, Method, MethodConfig, MetricLoss, MetrixConfig, MimixConfig, MixLevel,
};
use mixlab_core::plan::{MixPlan, SampleWeight};
use mixlab_core::retrieval;
use mixlab_core::ridge;
use mixlab_core::rng::{Purpose, stream};
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use std::time::Instant;

/// The K of the reported Recall@K (the metric-learning literature's 1, 2, 4, 8).
pub const RECALL_KS: [usize; 4] = [1, 2, 4, 8];

/// The classes of a split's labels.
fn class_labels(d: &TrainData, what: &str) -> Result<(Vec<usize>, usize)> {
    match &d.targets {
        Targets::Classes { labels, classes } => Ok((labels.clone(), *classes)),
        Targets::Regression { .. } => Err(Error::Incompatible(format!(
            "metric learning retrieves by class, but the {what} split has regression targets"
        ))),
    }
}

/// The samples of `d` whose label passes `keep`, labels unchanged.
fn subset(d: &TrainData, keep: impl Fn(usize) -> bool) -> Result<TrainData> {
    let (labels, classes) = class_labels(d, "data")?;
    let rows: Vec<usize> = (0..labels.len()).filter(|&i| keep(labels[i])).collect();
    let y = rows.iter().map(|&i| labels[i]).collect();
    TrainData::classification(d.shape, d.rows(&rows), y, classes)
}

/// The run's embedding method and its retrieval task, if it has one.
pub fn embedding_method(cfg: &TrainConfig) -> Option<(&MethodConfig, EmbeddingTask)> {
    cfg.representation()
        .and_then(|m| m.embedding_task().map(|t| (m, t)))
}

/// What the embedding is judged by, with the splits it trains and evaluates on.
enum Judge {
    /// Recall@K on the held-out classes `k..classes`.
    Retrieval {
        k: usize,
        classes: usize,
        labels: Vec<usize>,
        by_class: Vec<Vec<usize>>,
    },
    /// A ridge head on the frozen training embeddings, scored on scalar targets.
    Regression { values: Vec<f32>, ridge: f64 },
}

struct Setup {
    method: MethodConfig,
    dim: usize,
    judge: Judge,
    train: TrainData,
    val: TrainData,
    test: TrainData,
}

/// Refuses run settings an embedding loop does not apply, so that a recorded config never claims them.
pub(crate) fn check_unused_settings(cfg: &TrainConfig, name: &str) -> Result<()> {
    let m = &cfg.mixer;
    let unused = [
        (
            cfg.augment != crate::config::Augment::None,
            "host augmentation (crop-flip, wave)",
        ),
        (m.prob != 1.0, "a mixing probability below 1"),
        (m.label_smoothing != 0.0, "label smoothing"),
        (m.off_epoch.is_some(), "a mixing-off epoch"),
    ];
    match unused.iter().find(|(set, _)| *set) {
        Some((_, what)) => Err(Error::Incompatible(format!(
            "{name} does not use {what}: drop it from the config"
        ))),
        None => Ok(()),
    }
}

fn setup(cfg: &TrainConfig, data: &Splits) -> Result<Setup> {
    let Some(method) = cfg.representation().filter(|_| cfg.trains_embedding()) else {
        return Err(Error::Incompatible(
            "not an embedding method (metrix, mimix, supremix)".into(),
        ));
    };
    let name = method.method().name();
    check_unused_settings(cfg, name)?;
    if cfg.kd.is_some() {
        return Err(Error::Incompatible(format!(
            "{name} trains an embedding: knowledge distillation needs class outputs"
        )));
    }
    if let MethodConfig::Supremix(c) = method {
        let Targets::Regression { values, dim } = &data.train.targets else {
            return Err(Error::Incompatible(
                "supremix is a regression method (pairs ordered by target), but this dataset's targets \
                 are class labels"
                    .into(),
            ));
        };
        if *dim != 1 {
            return Err(Error::Incompatible(format!(
                "supremix orders scalar targets; this dataset has {dim} per sample"
            )));
        }
        cfg.validate(&data.train.shape, c.dim)?;
        return Ok(Setup {
            method: method.clone(),
            dim: c.dim,
            judge: Judge::Regression {
                values: values.clone(),
                ridge: c.ridge,
            },
            train: data.train.clone(),
            val: data.val.clone(),
            test: data.test.clone(),
        });
    }
    let Some(task) = method.embedding_task() else {
        return Err(Error::Incompatible(format!(
            "{name} is not an embedding method"
        )));
    };
    let (_, classes) = class_labels(&data.train, "training")?;
    let k = task.split(classes)?;
    cfg.validate(&data.train.shape, task.dim)?;
    if let MethodConfig::Metrix(m) = method
        && m.level == MixLevel::Feature
        && cfg.model.num_mix_points() < 2
    {
        return Err(Error::Incompatible(format!(
            "metrix level = feature mixes after the first block, but {} has no hidden mixing point",
            cfg.model.name()
        )));
    }
    // Counted before the subsets are built, so that an empty side gets this message, not a generic one.
    let count = |d: &TrainData, keep: &dyn Fn(usize) -> bool| -> Result<(usize, usize)> {
        let (labels, classes) = class_labels(d, "data")?;
        let mut seen = vec![false; classes];
        let mut n = 0;
        for &l in labels.iter().filter(|&&l| keep(l)) {
            seen[l] = true;
            n += 1;
        }
        Ok((n, seen.iter().filter(|&&s| s).count()))
    };
    let (n_train, _) = count(&data.train, &|l| l < k)?;
    if n_train < 2 {
        return Err(Error::Incompatible(format!(
            "{name}: the training split has {n_train} samples of the classes 0..{k}"
        )));
    }
    for (what, d) in [("validation", &data.val), ("test", &data.test)] {
        let (n, present) = count(d, &|l| l >= k)?;
        if n <= RECALL_KS[RECALL_KS.len() - 1] || present < 2 {
            return Err(Error::Incompatible(format!(
                "the {what} split has {n} samples in {present} of the held-out classes {k}..{classes}; \
                 Recall@8 needs at least 9, from at least 2 classes (use a larger --limit)"
            )));
        }
    }
    let train = subset(&data.train, |l| l < k)?;
    let val = subset(&data.val, |l| l >= k)?;
    let test = subset(&data.test, |l| l >= k)?;
    let (labels, _) = class_labels(&train, "training")?;
    let mut by_class = vec![Vec::new(); k];
    labels
        .iter()
        .enumerate()
        .for_each(|(i, &l)| by_class[l].push(i));
    Ok(Setup {
        method: method.clone(),
        dim: task.dim,
        judge: Judge::Retrieval {
            k,
            classes,
            labels,
            by_class,
        },
        train,
        val,
        test,
    })
}

/// Trains an embedding as configured (see the module docs); called by [`crate::trainer::train`].
pub(crate) fn train(
    cfg: &TrainConfig,
    data: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    let su = setup(cfg, data)?;
    let shape = su.train.shape;
    let (train_set, method) = (&su.train, &su.method);
    let (labels, by_class, values): (&[usize], &[Vec<usize>], &[f32]) = match &su.judge {
        Judge::Retrieval {
            labels, by_class, ..
        } => (labels, by_class, &[]),
        Judge::Regression { values, .. } => (&[], &[], values),
    };
    let t0 = Instant::now();
    let plain = cfg.device.device()?;
    let dev = plain.clone().autodiff();
    dev.seed(cfg.seed);
    let mut st = start_state(cfg, &shape, su.dim, opts, &dev)?;
    let table = match (method, &su.judge) {
        (MethodConfig::Proxydet(p), Judge::Retrieval { k, .. }) if p.learned_table => {
            let origin = opts.checkpoint_dir.clone().unwrap_or_default();
            let mut saved = std::mem::take(&mut st.aux);
            let fresh = crate::proxydet::ClassTable::new(*k, p.dim, cfg.seed, &dev);
            let t = Owned::begin(fresh, "class-table", cfg, &mut saved, &origin)?;
            if let Some(f) = saved.first() {
                return Err(Error::ckpt(
                    &origin,
                    format!("unknown strategy file {}", f.name),
                ));
            }
            Some(t)
        }
        _ => None,
    };
    let table = std::cell::RefCell::new(table);
    let driven = drive(
        cfg,
        train_set.n,
        &mut st,
        opts,
        progress,
        matches!(su.judge, Judge::Regression { .. }),
        |model, optim, idx, epoch, step, lr| {
            // A pair loss has nothing to compare in a one-sample batch (a size-1 tail): no step.
            if idx.len() < 2 {
                return Ok(None);
            }
            let ctx = StepCtx {
                cfg,
                method,
                data: train_set,
                labels,
                by_class,
                values,
                epoch,
                step,
                dev: &dev,
                table: table.borrow().as_ref().map(|t| t.module.unit_rows()),
            };
            let loss = ctx.loss(model, idx)?;
            optimise_with(model, optim, loss, lr, epoch, step, |rest| {
                if let Some(t) = table.borrow_mut().as_mut() {
                    t.step(rest, lr);
                }
                Ok(())
            })
            .map(Some)
        },
        |model, with_test| su.evaluate(model, with_test, cfg.eval_batch_size, &plain),
        || {
            table
                .borrow()
                .as_ref()
                .map_or(Ok(Vec::new()), |t| t.files())
        },
    )?;
    let Some(driven) = driven else {
        return Ok(Outcome::Stopped {
            epochs_done: st.curve.len(),
        });
    };
    let final_metrics = su.finish(&st, cfg.eval_batch_size, &plain)?;
    Ok(Outcome::Finished(Box::new(driven.result(
        cfg,
        st,
        final_metrics,
        t0,
    ))))
}

impl Setup {
    /// Validation and (`with_test`) test metrics of `model` (eval mode).
    fn evaluate(
        &self,
        model: &Model,
        with_test: bool,
        batch: usize,
        dev: &Device,
    ) -> Result<(EvalMetrics, Option<EvalMetrics>)> {
        match &self.judge {
            Judge::Retrieval { .. } => Ok((
                evaluate(model, &self.val, batch, dev)?.0,
                match with_test {
                    true => Some(evaluate(model, &self.test, batch, dev)?.0),
                    false => None,
                },
            )),
            Judge::Regression { .. } => {
                let (v, t) = self.head_metrics(model, batch, dev)?;
                let eval = |r: calib::RegressionMetrics| EvalMetrics::regression(&r);
                // The head is fitted either way; scoring the test split on it costs next to nothing.
                Ok((eval(v), with_test.then(|| eval(t))))
            }
        }
    }

    /// Validation and test errors of a ridge head fitted on the frozen training embeddings.
    fn head_metrics(
        &self,
        model: &Model,
        batch: usize,
        dev: &Device,
    ) -> Result<(calib::RegressionMetrics, calib::RegressionMetrics)> {
        let Judge::Regression { values, ridge } = &self.judge else {
            return Err(Error::Incompatible(
                "a ridge head needs regression targets".into(),
            ));
        };
        let train = embeddings(model, &self.train, batch, dev)?;
        let head = ridge::fit(&train, self.dim, values, 1, *ridge)?;
        let score = |d: &TrainData| -> Result<calib::RegressionMetrics> {
            let Targets::Regression { values, .. } = &d.targets else {
                return Err(Error::Incompatible("splits disagree on the task".into()));
            };
            let pred = head.predict(&embeddings(model, d, batch, dev)?)?;
            Ok(calib::regression_metrics(&pred, values, calib::MAPE_EPS)?)
        };
        Ok((score(&self.val)?, score(&self.test)?))
    }

    /// The run's final metrics: retrieval of the last model, or the ridge head of the best-validation epoch.
    fn finish(&self, st: &RunState, batch: usize, dev: &Device) -> Result<FinalMetrics> {
        match &self.judge {
            Judge::Retrieval { k, classes, .. } => {
                let model = st.model.valid();
                let (test, emb) = evaluate(&model, &self.test, batch, dev)?;
                let (val, _) = evaluate(&model, &self.val, batch, dev)?;
                Ok(FinalMetrics::Retrieval(RetrievalFinal {
                    train_classes: *k,
                    classes: *classes,
                    ks: RECALL_KS.to_vec(),
                    test_recall: test.recall.unwrap_or_default(),
                    val_recall: val.recall.unwrap_or_default(),
                    test_uniformity: retrieval::uniformity(&emb, self.dim)?,
                    test_queries: self.test.n,
                }))
            }
            Judge::Regression { .. } => {
                let Some((best_epoch, val_rmse, best)) = &st.best else {
                    return Err(Error::Incompatible("no epoch was trained".into()));
                };
                let (_, test) = self.head_metrics(&best.valid(), batch, dev)?;
                Ok(FinalMetrics::Regression(RegFinal {
                    best_epoch: *best_epoch,
                    val_rmse: *val_rmse,
                    test,
                }))
            }
        }
    }
}

/// Unit embeddings of a split (eval mode), row-major n × dim.
fn embeddings(model: &Model, split: &TrainData, batch: usize, dev: &Device) -> Result<Vec<f32>> {
    let mut emb = Vec::new();
    for x in split_batches(split, batch, dev) {
        emb.extend(to_f32(l2_normalise(model.forward(x)?).into_data())?);
    }
    Ok(emb)
}

/// Recall@K of a held-out split; `acc` is Recall@1 (leave-one-out 1-NN accuracy) and `loss` 1 − Recall@1.
/// Returns the metrics and the unit embeddings.
fn evaluate(
    model: &Model,
    split: &TrainData,
    batch: usize,
    dev: &Device,
) -> Result<(EvalMetrics, Vec<f32>)> {
    let (labels, _) = class_labels(split, "evaluation")?;
    let emb = embeddings(model, split, batch, dev)?;
    let dim = emb.len() / split.n.max(1);
    let recall = retrieval::recall_at_k(&emb, dim, &labels, &RECALL_KS)?;
    Ok((
        EvalMetrics {
            loss: 1.0 - recall[0],
            acc: Some(recall[0]),
            ece15: None,
            rmse: None,
            mae: None,
            mape_pct: None,
            recall: Some(recall),
        },
        emb,
    ))
}

fn index_tensor(idx: &[usize], dev: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    Tensor::<1, Int>::from_data(TensorData::new(v, [idx.len()]), dev)
}

fn column(v: &[f32], dev: &Device) -> Tensor<2> {
    Tensor::<2>::from_data(TensorData::new(v.to_vec(), [v.len(), 1]), dev)
}

/// Everything one step needs.
struct StepCtx<'a> {
    cfg: &'a TrainConfig,
    method: &'a MethodConfig,
    data: &'a TrainData,
    labels: &'a [usize],
    by_class: &'a [Vec<usize>],
    /// Scalar training targets (SupReMix).
    values: &'a [f32],
    epoch: usize,
    step: usize,
    dev: &'a Device,
    /// ProxyDet's learned class table (unit rows), where the run learns one.
    table: Option<Tensor<2>>,
}

impl StepCtx<'_> {
    fn rows(&self, idx: &[usize]) -> Vec<f32> {
        self.data.rows(idx)
    }

    fn embed(&self, model: &Model, idx: &[usize]) -> Result<Tensor<2>> {
        let x = batch_tensor(self.rows(idx), &self.data.shape, self.dev);
        Ok(l2_normalise(model.forward(x)?))
    }

    fn loss(&self, model: &Model, idx: &[usize]) -> Result<Tensor<1>> {
        let mut rng = stream(
            self.cfg.seed,
            Purpose::Mix,
            self.epoch as u64,
            self.step as u64,
        );
        match self.method {
            MethodConfig::Metrix(m) => self.metrix(m, model, idx, &mut rng),
            MethodConfig::Mimix(m) => self.mimix(m, model, idx, &mut rng),
            MethodConfig::Proxydet(m) => {
                let yb: Vec<usize> = idx.iter().map(|&i| self.labels[i]).collect();
                let emb = self.embed(model, idx)?;
                let k = self.by_class.len();
                crate::proxydet::loss(m, emb, &yb, k, self.cfg.seed, self.table.clone(), &mut rng)
            }
            MethodConfig::Supremix(m) => {
                let yb: Vec<f32> = idx.iter().map(|&i| self.values[i]).collect();
                let mixes = m.mixtures(&yb, &mut rng)?;
                let x = batch_tensor(self.rows(idx), &self.data.shape, self.dev);
                Ok(crate::supcr::supremix_loss(
                    model.forward(x)?,
                    &yb,
                    &mixes,
                    m.tolerance,
                    m.temperature,
                ))
            }
            other => Err(Error::Incompatible(format!(
                "{} is not an embedding method",
                other.method().name()
            ))),
        }
    }

    /// Metrix: the clean pair loss plus `mix_weight` × the mixed loss over one mix per anchor — a random
    /// positive of the anchor mixed with the anchor's hardest negative in the batch, λ ~ Beta(α, α) per mix, at
    /// the configured level. The reference uses this hardest-negative (`top_k = 1`) rule at the input level only
    /// and mixes the positive with every negative at the feature and embedding levels; one mix per anchor at every
    /// level keeps the feature level's extra forward pass at one batch. Its second branch (anchor mixed with a
    /// negative, for anchors without an in-batch positive) has no pairs when every class has two or more samples
    /// in the batch, as here, and is not implemented.
    fn metrix(
        &self,
        m: &MetrixConfig,
        model: &Model,
        idx: &[usize],
        rng: &mut impl Rng,
    ) -> Result<Tensor<1>> {
        let yb: Vec<usize> = idx.iter().map(|&i| self.labels[i]).collect();
        let emb = self.embed(model, idx)?;
        let ms = MsParams {
            alpha: m.ms_alpha,
            beta: m.ms_beta,
            base: m.ms_base,
            epsilon: m.ms_epsilon,
        };
        let clean = match m.loss {
            MetricLoss::Contrastive => metric_loss::contrastive(emb.clone(), &yb, m.neg_margin),
            MetricLoss::MultiSimilarity => metric_loss::multi_similarity(emb.clone(), &yb, ms),
        };
        if m.mix_weight == 0.0 {
            return Ok(clean);
        }
        let b = yb.len();
        let d = emb.dims()[1];
        let e = to_f32(emb.clone().into_data())?;
        let (mut anchor, mut pos, mut neg) = (Vec::new(), Vec::new(), Vec::new());
        for a in 0..b {
            let positives: Vec<usize> = (0..b).filter(|&j| j != a && yb[j] == yb[a]).collect();
            let row = |j: usize| &e[j * d..(j + 1) * d];
            let dot = |j: usize| -> f32 { row(a).iter().zip(row(j)).map(|(u, v)| u * v).sum() };
            // Unit rows: the nearest negative has the largest dot product (ties: the lower index).
            let hardest =
                (0..b)
                    .filter(|&j| yb[j] != yb[a])
                    .fold(None::<(usize, f32)>, |best, j| {
                        let s = dot(j);
                        match best {
                            Some((_, bs)) if bs >= s => best,
                            _ => Some((j, s)),
                        }
                    });
            let (Some((n, _)), false) = (hardest, positives.is_empty()) else {
                continue;
            };
            anchor.push(a);
            pos.push(positives[rng.random_range(0..positives.len())]);
            neg.push(n);
        }
        if anchor.is_empty() {
            return Ok(clean);
        }
        let shape = self.data.shape;
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        let lam = (0..anchor.len())
            .map(|_| self.method.draw(&ctx, rng).map(|d| d.lam_label))
            .collect::<mixlab_core::Result<Vec<f32>>>()?;
        let mixed = self.mixed_embeddings(m.level, model, &emb, idx, &pos, &neg, &lam)?;
        let mixed_loss = match m.loss {
            MetricLoss::Contrastive => {
                let anchors = emb.select(0, index_tensor(&anchor, self.dev));
                metric_loss::metrix_contrastive_mixed(anchors, mixed, &lam, m.neg_margin)
            }
            MetricLoss::MultiSimilarity => {
                metric_loss::metrix_ms_mixed(emb, mixed, &anchor, &lam, ms)
            }
        };
        Ok(clean + mixed_loss.mul_scalar(m.mix_weight))
    }

    /// Unit embeddings of λ·positive + (1 − λ)·negative, mixed at `level`; `pos` / `neg` index the batch.
    #[allow(clippy::too_many_arguments)]
    fn mixed_embeddings(
        &self,
        level: MixLevel,
        model: &Model,
        emb: &Tensor<2>,
        idx: &[usize],
        pos: &[usize],
        neg: &[usize],
        lam: &[f32],
    ) -> Result<Tensor<2>> {
        let m = pos.len();
        let gi = |v: &[usize]| -> Vec<usize> { v.iter().map(|&j| idx[j]).collect() };
        match level.mix_point() {
            None => {
                let l = column(lam, self.dev);
                let one_minus = l.clone().neg().add_scalar(1.0);
                let p = emb.clone().select(0, index_tensor(pos, self.dev));
                let n = emb.clone().select(0, index_tensor(neg, self.dev));
                Ok(l2_normalise(p * l + n * one_minus))
            }
            Some(point) => {
                // Rows [positives; negatives]; row i < m blends with row m + i at the mixing point, and
                // only the first m outputs are kept.
                let mut rows = gi(pos);
                rows.extend(gi(neg));
                let mut plan = MixPlan::identity(2 * m, self.data.shape);
                for (i, &l) in lam.iter().enumerate() {
                    plan.partner[i] = m + i;
                    plan.weights[i] = SampleWeight::Blend { lam: l };
                    plan.lam_label[i] = l;
                    plan.method[i] = Method::Metrix;
                }
                let x = batch_tensor(self.rows(&rows), &self.data.shape, self.dev);
                let out = model.forward_mixed(x, point, |f| crate::apply::apply_flat(&plan, f))?;
                let d = out.dims()[1];
                Ok(l2_normalise(out.slice([0..m, 0..d])))
            }
        }
    }

    /// MI-Mix: view 2 of each anchor is another training sample of its class. Stage I (the curriculum's
    /// first third) trains the hard-negative contrastive loss unmixed; stage II mixes view 1's hidden state at
    /// a point drawn from `layers` with a random other anchor's (λ folded above ½) and trains i-Mix's loss.
    fn mimix(
        &self,
        m: &MimixConfig,
        model: &Model,
        idx: &[usize],
        rng: &mut impl Rng,
    ) -> Result<Tensor<1>> {
        let b = idx.len();
        let view2: Vec<usize> = idx
            .iter()
            .map(|&i| {
                let same = &self.by_class[self.labels[i]];
                if same.len() < 2 {
                    return i;
                }
                // Another member of the class: draw among the others by skipping i's own slot.
                let mut j = same[rng.random_range(0..same.len() - 1)];
                if j == i {
                    j = same[same.len() - 1];
                }
                j
            })
            .collect();
        let f2 = self.embed(model, &view2)?;
        if !m.mixes_at(self.epoch, self.cfg.epochs) {
            let f1 = self.embed(model, idx)?;
            return Ok(metric_loss::hard_contrastive(f1, f2, m.temperature));
        }
        let point = m.layers[rng.random_range(0..m.layers.len())];
        let mut partner: Vec<usize> = (0..b).collect();
        partner.shuffle(rng);
        let shape = self.data.shape;
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        let mut plan = MixPlan::identity(b, shape);
        for (i, &j) in partner.iter().enumerate() {
            let l = self.method.draw(&ctx, rng)?.lam_label;
            plan.partner[i] = j;
            plan.weights[i] = SampleWeight::Blend { lam: l };
            plan.lam_label[i] = l;
            plan.method[i] = Method::Mimix;
        }
        let x = batch_tensor(self.rows(idx), &shape, self.dev);
        let f1 =
            l2_normalise(model.forward_mixed(x, point, |f| crate::apply::apply_flat(&plan, f))?);
        Ok(metric_loss::imix(
            f1,
            f2,
            &plan.partner,
            &plan.lam_label,
            m.temperature,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervised::tests::{small_cfg, toy_images, toy_splits};
    use crate::test_support::{curve, finished, rerun_and_resume};
    use crate::trainer::{NoProgress, train as train_any};
    use mixlab_core::methods::{MethodConfig, ProxydetConfig};
    use mixlab_core::mixer::MixerConfig;

    fn cfg_with(m: MethodConfig) -> TrainConfig {
        small_cfg()
            .with_mixer(MixerConfig::single(m))
            .with_augment(crate::config::Augment::None)
            .with_epochs(3)
            .with_lr(0.02)
    }

    fn metrix(loss: MetricLoss, level: MixLevel) -> MethodConfig {
        MethodConfig::Metrix(MetrixConfig {
            loss,
            level,
            dim: 8,
            ..Default::default()
        })
    }

    #[test]
    fn every_variant_trains_bit_identically_twice_and_reports_recall() {
        let data = toy_splits();
        for m in [
            metrix(MetricLoss::Contrastive, MixLevel::Feature),
            metrix(MetricLoss::Contrastive, MixLevel::Input),
            metrix(MetricLoss::MultiSimilarity, MixLevel::Embedding),
            MethodConfig::Mimix(MimixConfig {
                dim: 8,
                ..Default::default()
            }),
            MethodConfig::Proxydet(ProxydetConfig {
                dim: 8,
                ..Default::default()
            }),
        ] {
            let cfg = cfg_with(m.clone());
            let a =
                finished(train_any(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
            let b =
                finished(train_any(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
            assert_eq!(a.final_metrics, b.final_metrics, "{m:?}");
            assert_eq!(
                a.curve.iter().map(|r| r.train_loss).collect::<Vec<_>>(),
                b.curve.iter().map(|r| r.train_loss).collect::<Vec<_>>()
            );
            let FinalMetrics::Retrieval(r) = &a.final_metrics else {
                panic!("retrieval")
            };
            assert_eq!((r.train_classes, r.classes), (2, 4));
            assert_eq!(r.ks, RECALL_KS.to_vec());
            // Recall@K can only grow with K.
            assert!(r.test_recall.windows(2).all(|w| w[0] <= w[1]), "{r:?}");
            assert!(r.test_recall.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(
                a.curve[0].val.acc,
                a.curve[0].val.recall.as_ref().map(|v| v[0])
            );
        }
    }

    #[test]
    fn metrix_training_lowers_its_loss() {
        let data = toy_splits();
        let cfg = cfg_with(MethodConfig::Metrix(MetrixConfig {
            dim: 8,
            ..Default::default()
        }))
        .with_epochs(8)
        .with_schedule(crate::optim::Schedule::Constant);
        let r = finished(train_any(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        let first = r.curve[0].train_loss;
        let last = r.curve[r.curve.len() - 1].train_loss;
        assert!(last < first * 0.8, "loss {first} -> {last}");
    }

    #[test]
    fn feature_level_mix_is_the_positive_at_one_and_the_negative_at_zero() {
        let data = toy_images(12, 4);
        let (labels, _) = class_labels(&data, "t").unwrap();
        let cfg = cfg_with(metrix(MetricLoss::Contrastive, MixLevel::Feature));
        let dev = cfg.device.device().unwrap();
        let model = cfg.model.init(&data.shape, 8, 3, &dev).unwrap();
        let method = cfg.representation().unwrap();
        let ctx = StepCtx {
            cfg: &cfg,
            method,
            data: &data,
            labels: &labels,
            by_class: &[],
            values: &[],
            epoch: 0,
            step: 0,
            dev: &dev,
            table: None,
        };
        let idx: Vec<usize> = (0..12).collect();
        let emb = ctx.embed(&model, &idx).unwrap();
        let (pos, neg) = (vec![1, 2, 3], vec![4, 5, 6]);
        for (level, lam, want) in [
            (MixLevel::Feature, 1.0, &pos),
            (MixLevel::Feature, 0.0, &neg),
            (MixLevel::Input, 1.0, &pos),
            (MixLevel::Embedding, 0.0, &neg),
        ] {
            let got = ctx
                .mixed_embeddings(level, &model, &emb, &idx, &pos, &neg, &[lam; 3])
                .unwrap();
            let want = emb.clone().select(0, index_tensor(want, &dev));
            let diff: f32 = (got - want).abs().max().into_scalar();
            assert!(diff < 1e-5, "{level:?} λ={lam}: {diff}");
        }
        // Halfway at the feature level is not halfway in the embedding (the network is not linear).
        let half = ctx
            .mixed_embeddings(MixLevel::Feature, &model, &emb, &idx, &pos, &neg, &[0.5; 3])
            .unwrap();
        let lin = ctx
            .mixed_embeddings(
                MixLevel::Embedding,
                &model,
                &emb,
                &idx,
                &pos,
                &neg,
                &[0.5; 3],
            )
            .unwrap();
        let diff: f32 = (half - lin).abs().max().into_scalar();
        assert!(diff > 1e-4, "{diff}");
    }

    #[test]
    fn a_killed_run_resumes_to_the_same_numbers() {
        let data = toy_splits();
        for m in [
            MethodConfig::Mimix(MimixConfig {
                dim: 8,
                ..Default::default()
            }),
            MethodConfig::Proxydet(ProxydetConfig {
                dim: 8,
                ..Default::default()
            }),
            // The learned table and its optimiser come back from the checkpoint.
            MethodConfig::Proxydet(ProxydetConfig {
                dim: 8,
                learned_table: true,
                ..Default::default()
            }),
        ] {
            rerun_and_resume(&cfg_with(m).with_epochs(4), &data, 2);
        }
    }

    #[test]
    fn misconfigurations_fail_before_training() {
        let data = toy_splits();
        let run = |m: MethodConfig, d: &Splits| {
            train_any(&cfg_with(m), d, &RunOptions::default(), &mut NoProgress)
                .unwrap_err()
                .to_string()
        };
        let e = run(
            MethodConfig::Metrix(MetrixConfig {
                train_classes: Some(3),
                ..Default::default()
            }),
            &data,
        );
        assert!(e.contains("at least 2 classes"), "{e}");
        let e = run(
            MethodConfig::Mimix(MimixConfig {
                layers: vec![7],
                ..Default::default()
            }),
            &data,
        );
        assert!(e.contains("7, past the depth"), "{e}");
        let reg = Splits {
            train: TrainData::regression(data.train.shape, data.train.x.clone(), vec![0.5; 96], 1)
                .unwrap(),
            val: TrainData::regression(data.val.shape, data.val.x.clone(), vec![0.5; 40], 1)
                .unwrap(),
            test: TrainData::regression(data.test.shape, data.test.x.clone(), vec![0.5; 40], 1)
                .unwrap(),
            unlabelled: None,
        };
        let e = run(MethodConfig::Metrix(MetrixConfig::default()), &reg);
        assert!(e.contains("regression targets"), "{e}");
        let e = train_any(
            &cfg_with(MethodConfig::Metrix(MetrixConfig::default())).with_mix_at(Some(vec![1])),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("mix_at"), "{e}");
    }

    #[test]
    fn supremix_trains_a_head_keeps_the_best_epoch_and_resumes() {
        use crate::supervised::tests::{mlp_cfg, toy_regression};
        use mixlab_core::methods::SupremixConfig;
        let data = toy_regression();
        let cfg = mlp_cfg(MethodConfig::Supremix(SupremixConfig {
            dim: 8,
            tolerance: 0.05,
            ..Default::default()
        }))
        .with_epochs(4);
        let a = finished(train_any(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        let b = finished(train_any(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        assert_eq!(a.final_metrics, b.final_metrics);
        let FinalMetrics::Regression(f) = &a.final_metrics else {
            panic!("regression")
        };
        let best = a
            .curve
            .iter()
            .map(|r| r.val.rmse.unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(f.val_rmse, best);
        assert_eq!(a.curve[f.best_epoch].val.rmse, Some(best));
        assert_eq!(
            a.curve[f.best_epoch].test.as_ref().unwrap().rmse,
            Some(f.test.rmse)
        );
        // y = Σ x over 5 inputs in [−1, 1] has std ≈ 1.29; a linear head on a trained embedding does better.
        assert!(f.test.rmse < 1.0, "{f:?}");
        let dir = tempfile::tempdir().unwrap();
        let mut opts = RunOptions {
            checkpoint_dir: Some(dir.path().to_path_buf()),
            resume: true,
            stop_after_epochs: Some(2),
            checkpoint_every: 1,
        };
        train_any(&cfg, &data, &opts, &mut NoProgress).unwrap();
        opts.stop_after_epochs = None;
        let r = finished(train_any(&cfg, &data, &opts, &mut NoProgress).unwrap());
        assert_eq!(r.final_metrics, a.final_metrics);
        assert_eq!(curve(&r), curve(&a));
        // A classification set is refused before training.
        let e = train_any(&cfg, &toy_splits(), &RunOptions::default(), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("supremix is a regression method"), "{e}");
    }

    #[test]
    fn a_one_sample_tail_batch_is_skipped_not_stepped() {
        let data = toy_splits();
        let (labels, _) = class_labels(&data.train, "t").unwrap();
        let n = labels.iter().filter(|&&l| l < 2).count();
        // Batches of n − 1 leave a tail of exactly one sample every epoch.
        let cfg = cfg_with(MethodConfig::Mimix(MimixConfig {
            dim: 8,
            curriculum: false,
            ..Default::default()
        }))
        .with_batch_size(n - 1);
        let r = finished(train_any(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap());
        assert!(
            r.curve
                .iter()
                .all(|e| e.train_loss.is_finite() && e.train_loss > 0.0)
        );
        // Settings the embedding loop does not apply are refused rather than recorded.
        let e = train_any(
            &cfg.clone().with_augment(crate::config::Augment::CropFlip),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("crop-flip"), "{e}");
    }
}
