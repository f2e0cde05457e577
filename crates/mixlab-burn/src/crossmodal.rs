//! Cross-modal contrastive learning between two datasets that share class labels (e.g. FSDD recordings and
//! digit images): a two-tower model ([`crate::models::TwoTower`]) embeds both into one space; each training
//! sample of the run's dataset is paired with a training sample of the paired dataset of the same class
//! (redrawn every step); the loss is CLIP's plus geomix's term with slerped hard negatives, CLIP's plus
//! M3CoL's mixed contrastive term (then SoftCLIP), or CM³'s calibrated alignment-uniformity loss
//! ([`crate::multimodal`]). The run is judged
//! by cross-modal Recall@K on the test splits (a query retrieves the other modality; a hit shares its class),
//! and by Wang & Isola's alignment of same-class pairs and uniformity of each modality.
//!
//! The loop, random streams and checkpoints are the classifier's (see [`crate::engine`]).

use crate::config::{RunOptions, TrainConfig};
use crate::data::{Splits, Targets, TrainData};
use crate::embed::{RECALL_KS, l2_normalise};
use crate::engine::{batch_tensor, drive, optimise, split_batches, start_state, to_f32};
use crate::error::{Error, Result};
use crate::models::{Model, ModelConfig, TwoTower};
use crate::multimodal::{bezier_rows, cm3_loss, mixco_loss, soft_clip_loss};
pub use crate::records::CrossModalFinal;
use crate::records::{EvalMetrics, FinalMetrics, Outcome, Progress};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use mixlab_core::methods::crossmodal::mixco_targets;
use mixlab_core::methods::{DrawCtx, MethodConfig};
use mixlab_core::retrieval;
use mixlab_core::rng::{Purpose, stream};
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use std::time::Instant;

/// Keeps cos θ inside (−1, 1) so that acos and 1/sin θ stay finite.
const COS_CLAMP: f64 = 1.0 - 1e-6;

/// `sin(sθ)/sin θ · a + sin((1 − s)θ)/sin θ · b` row by row, θ = arccos(a·b): the geodesic between unit rows
/// (the reference's `sph_inter`; s = 1 gives a).
pub fn slerp(a: Tensor<2>, b: Tensor<2>, s: f64) -> Tensor<2> {
    let cos = (a.clone() * b.clone())
        .sum_dim(1)
        .clamp(-COS_CLAMP, COS_CLAMP);
    let theta = cos.acos();
    let sin = theta.clone().sin();
    let wa = theta.clone().mul_scalar(s).sin() / sin.clone();
    let wb = theta.mul_scalar(1.0 - s).sin() / sin;
    a * wa + b * wb
}

fn eye(n: usize, dev: &Device) -> Tensor<2> {
    let mut v = vec![0f32; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    Tensor::<2>::from_data(TensorData::new(v, [n, n]), dev)
}

/// Mean over rows of −log softmax(logits)_ii.
fn diag_ce(logits: Tensor<2>, eye: Tensor<2>) -> Tensor<1> {
    let n = logits.dims()[0] as f64;
    (log_softmax(logits, 1) * eye).sum().neg().div_scalar(n)
}

/// CLIP's symmetric InfoNCE on unit rows: the mean of the row-wise and column-wise cross-entropies of
/// `a·bᵀ/τ` against the diagonal.
pub fn clip_loss(a: Tensor<2>, b: Tensor<2>, temperature: f64) -> Tensor<1> {
    let n = a.dims()[0];
    let i = eye(n, &a.device());
    let logits = a.matmul(b.transpose()).div_scalar(temperature);
    (diag_ce(logits.clone(), i.clone()) + diag_ce(logits.transpose(), i)).div_scalar(2.0)
}

/// m²-mix's term: with `n_j = slerp(a_j, b_j, λ)`, the logits of anchor a_i are a_i·b_i on the diagonal and
/// a_i·n_j off it (likewise for b_i), over τ₂; the sum of the two row-wise cross-entropies against the
/// diagonal (the reference's `clip_loss2`).
pub fn m2mix_loss(a: Tensor<2>, b: Tensor<2>, lam: f64, temperature: f64) -> Tensor<1> {
    let n = a.dims()[0];
    let dev = a.device();
    let i = eye(n, &dev);
    let off = i.clone().neg().add_scalar(1.0);
    let neg = slerp(a.clone(), b.clone(), lam);
    let ab = a.clone().matmul(b.clone().transpose());
    let li = ab.clone() * i.clone() + a.matmul(neg.clone().transpose()) * off.clone();
    let lt = ab.transpose() * i.clone() + b.matmul(neg.transpose()) * off;
    diag_ce(li.div_scalar(temperature), i.clone()) + diag_ce(lt.div_scalar(temperature), i)
}

/// One batch's loss from the two towers' raw embeddings of its pairs (row i of `a` and of `b` share a
/// class); `rng` is the step's Mix stream.
fn pair_loss(
    method: &MethodConfig,
    (ra, rb): (Tensor<2>, Tensor<2>),
    epoch: usize,
    epochs: usize,
    shape: &mixlab_core::shape::SampleShape,
    rng: &mut ChaCha8Rng,
) -> Result<Tensor<1>> {
    let n = ra.dims()[0];
    let dev = ra.device();
    let (ea, eb) = (l2_normalise(ra.clone()), l2_normalise(rb.clone()));
    let ctx = DrawCtx {
        shape,
        partner_data: None,
    };
    Ok(match method {
        MethodConfig::Geomix(g) => {
            let loss = clip_loss(ea.clone(), eb.clone(), g.temperature);
            let w = g.weight_at(epoch);
            if w > 0.0 {
                let lam = f64::from(method.draw(&ctx, rng)?.lam_label);
                loss + m2mix_loss(ea, eb, lam, g.mix_temperature).mul_scalar(w)
            } else {
                loss
            }
        }
        MethodConfig::M3col(c) => {
            let loss = clip_loss(ea, eb, c.temperature);
            let term = if c.mixing_at(epoch, epochs) {
                let mut mixed = |e: Tensor<2>, other: Tensor<2>| -> Result<Tensor<1>> {
                    let (perm, betas) = c.draw_mix(n, rng)?;
                    let t = mixco_targets(&perm, &betas)?;
                    let t = Tensor::<2>::from_data(TensorData::new(t, [n, n]), &dev);
                    Ok(mixco_loss(t.clone().matmul(e), other, t, c.mix_temperature))
                };
                mixed(ra.clone(), rb.clone())? + mixed(rb, ra)?
            } else {
                soft_clip_loss(ra.clone(), rb.clone(), c.soft_temperature)
                    + soft_clip_loss(rb, ra, c.soft_temperature)
            };
            loss + term.mul_scalar(c.contrastive_weight)
        }
        MethodConfig::Cm3(c) => {
            let p = (0..n)
                .map(|_| method.draw(&ctx, rng).map(|d| d.lam_label))
                .collect::<mixlab_core::error::Result<Vec<f32>>>()?;
            let p = Tensor::<2>::from_data(TensorData::new(p, [n, 1]), &dev);
            let fused = bezier_rows(vec![ea.clone(), eb.clone()], p.neg().add_scalar(1.0));
            let fused = if c.sim_gradient {
                fused
            } else {
                fused.detach()
            };
            cm3_loss(ea, eb, fused, c.gamma, (c.min_sim, c.max_sim), c.calibrate)
        }
        other => {
            return Err(Error::Incompatible(format!(
                "{} is not a cross-modal method",
                other.method().name()
            )));
        }
    })
}

fn labels_of(d: &TrainData, what: &str) -> Result<(Vec<usize>, usize)> {
    match &d.targets {
        Targets::Classes { labels, classes } => Ok((labels.clone(), *classes)),
        Targets::Regression { .. } => Err(Error::Incompatible(format!(
            "geomix pairs samples by class, but the {what} has regression targets"
        ))),
    }
}

fn by_class(labels: &[usize], classes: usize) -> Vec<Vec<usize>> {
    let mut v = vec![Vec::new(); classes];
    labels.iter().enumerate().for_each(|(i, &l)| v[l].push(i));
    v
}

fn towers(model: &Model) -> Result<&TwoTower> {
    match model {
        Model::TwoTower(t) => Ok(t),
        _ => Err(Error::Incompatible(
            "geomix needs the two-tower model".into(),
        )),
    }
}

/// Trains geomix (or plain CLIP with `mix_weight = 0`) on the run's dataset `a` paired with dataset `b`.
pub fn train_pair(
    cfg: &TrainConfig,
    a: &Splits,
    b: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    a.validate()?;
    b.validate()?;
    let Some(method) = cfg
        .representation()
        .filter(|m| m.cross_modal_dim().is_some())
    else {
        return Err(Error::Incompatible(
            "a paired dataset is trained with --method geomix, m3col or cm3".into(),
        ));
    };
    let name = method.method().name();
    let dim = method.cross_modal_dim().unwrap_or_default();
    let ModelConfig::TwoTower(tt) = &cfg.model else {
        return Err(Error::Incompatible(format!(
            "{name} embeds two datasets: use --model two-tower, not {}",
            cfg.model.name()
        )));
    };
    if tt.b_shape()? != b.train.shape {
        return Err(Error::Incompatible(format!(
            "two-tower b_input {:?} does not match the paired dataset's samples ({})",
            tt.b_input, b.train.shape
        )));
    }
    if cfg.kd.is_some() {
        return Err(Error::Incompatible(format!(
            "{name} trains embeddings: knowledge distillation needs class outputs"
        )));
    }
    crate::embed::check_unused_settings(cfg, name)?;
    let shape = a.train.shape;
    cfg.validate(&shape, dim)?;
    let (la, classes) = labels_of(&a.train, "run's dataset")?;
    let (lb, classes_b) = labels_of(&b.train, "paired dataset")?;
    if classes != classes_b {
        return Err(Error::Incompatible(format!(
            "{name} pairs by class: the datasets have {classes} and {classes_b} classes"
        )));
    }
    let pool = by_class(&lb, classes);
    if let Some(c) = (0..classes).find(|&c| la.contains(&c) && pool[c].is_empty()) {
        return Err(Error::Incompatible(format!(
            "class {c} has training samples in the run's dataset but none in the paired one"
        )));
    }
    for (what, d) in [
        ("validation", (&a.val, &b.val)),
        ("test", (&a.test, &b.test)),
    ] {
        let (qa, _) = labels_of(d.0, "run's dataset")?;
        let (qb, _) = labels_of(d.1, "paired dataset")?;
        let mut in_b = vec![false; classes];
        qb.iter().for_each(|&l| in_b[l] = true);
        if !qa.iter().any(|&l| in_b[l]) {
            return Err(Error::Incompatible(format!(
                "the {what} splits share no class: nothing to retrieve or align"
            )));
        }
        if d.0.n <= RECALL_KS[RECALL_KS.len() - 1] || d.1.n <= RECALL_KS[RECALL_KS.len() - 1] {
            return Err(Error::Incompatible(format!(
                "the {what} splits have {} and {} samples; Recall@8 needs at least 9 in each",
                d.0.n, d.1.n
            )));
        }
    }

    let t0 = Instant::now();
    let plain = cfg.device.device()?;
    let dev = plain.clone().autodiff();
    dev.seed(cfg.seed);
    let mut st = start_state(cfg, &shape, dim, opts, &dev)?;
    let rows =
        |d: &TrainData, idx: &[usize]| -> Tensor<3> { batch_tensor(d.rows(idx), &d.shape, &dev) };
    let driven = drive(
        cfg,
        a.train.n,
        &mut st,
        opts,
        progress,
        false,
        |model, optim, idx, epoch, step, lr| {
            // A one-pair batch has no negative to contrast with (a size-1 tail): no step.
            if idx.len() < 2 {
                return Ok(None);
            }
            let mut pair_rng = stream(cfg.seed, Purpose::Augment, epoch as u64, step as u64);
            let partners: Vec<usize> = idx
                .iter()
                .map(|&i| {
                    let p = &pool[la[i]];
                    p[pair_rng.random_range(0..p.len())]
                })
                .collect();
            let t = towers(model)?;
            let ra = t.forward_a(rows(&a.train, idx))?;
            let rb = t.forward_b(rows(&b.train, &partners))?;
            let mut mix_rng = stream(cfg.seed, Purpose::Mix, epoch as u64, step as u64);
            let loss = pair_loss(method, (ra, rb), epoch, cfg.epochs, &shape, &mut mix_rng)?;
            optimise(model, optim, loss, lr, epoch, step).map(Some)
        },
        |model, with_test| {
            let val =
                Evaluation::new(model, (&a.val, &b.val), cfg.eval_batch_size, &plain)?.metrics();
            let test = match with_test {
                true => Some(
                    Evaluation::new(model, (&a.test, &b.test), cfg.eval_batch_size, &plain)?
                        .metrics(),
                ),
                false => None,
            };
            Ok((val, test))
        },
        || Ok(Vec::new()),
    )?;
    let Some(driven) = driven else {
        return Ok(Outcome::Stopped {
            epochs_done: st.curve.len(),
        });
    };
    let eval = st.model.valid();
    let e = Evaluation::new(&eval, (&a.test, &b.test), cfg.eval_batch_size, &plain)?;
    let final_metrics = FinalMetrics::CrossModal(e.summary(dim)?);
    Ok(Outcome::Finished(Box::new(driven.result(
        cfg,
        st,
        final_metrics,
        t0,
    ))))
}

/// Both modalities' unit embeddings of one pair of splits, with their recalls.
struct Evaluation {
    ea: Vec<f32>,
    eb: Vec<f32>,
    la: Vec<usize>,
    lb: Vec<usize>,
    a_to_b: Vec<f64>,
    b_to_a: Vec<f64>,
    dim: usize,
}

impl Evaluation {
    fn new(model: &Model, d: (&TrainData, &TrainData), batch: usize, dev: &Device) -> Result<Self> {
        let t = towers(model)?;
        let embed = |split: &TrainData, b: bool| -> Result<Vec<f32>> {
            let mut out = Vec::new();
            for x in split_batches(split, batch, dev) {
                let e = if b { t.forward_b(x)? } else { t.forward_a(x)? };
                out.extend(to_f32(l2_normalise(e).into_data())?);
            }
            Ok(out)
        };
        let (ea, eb) = (embed(d.0, false)?, embed(d.1, true)?);
        let (la, _) = labels_of(d.0, "run's dataset")?;
        let (lb, _) = labels_of(d.1, "paired dataset")?;
        let dim = ea.len() / d.0.n.max(1);
        let a_to_b = retrieval::cross_recall_at_k(&ea, &la, &eb, &lb, dim, &RECALL_KS)?;
        let b_to_a = retrieval::cross_recall_at_k(&eb, &lb, &ea, &la, dim, &RECALL_KS)?;
        Ok(Self {
            ea,
            eb,
            la,
            lb,
            a_to_b,
            b_to_a,
            dim,
        })
    }

    /// `acc` is a → b Recall@1, `loss` 1 − that, `recall` a → b Recall@K.
    fn metrics(&self) -> EvalMetrics {
        EvalMetrics {
            loss: 1.0 - self.a_to_b[0],
            acc: Some(self.a_to_b[0]),
            ece15: None,
            rmse: None,
            mae: None,
            mape_pct: None,
            recall: Some(self.a_to_b.clone()),
        }
    }

    /// Final metrics; alignment pairs the k-th test sample of each class in `a` with the (k mod count)-th of
    /// that class in `b` (classes absent from `b` are skipped).
    fn summary(&self, dim: usize) -> Result<CrossModalFinal> {
        let classes = self.la.iter().chain(&self.lb).max().map_or(0, |m| m + 1);
        let pool = by_class(&self.lb, classes);
        let mut seen = vec![0usize; classes];
        let (mut xa, mut xb) = (Vec::new(), Vec::new());
        for (i, &c) in self.la.iter().enumerate() {
            if pool[c].is_empty() {
                continue;
            }
            let j = pool[c][seen[c] % pool[c].len()];
            seen[c] += 1;
            xa.extend_from_slice(&self.ea[i * self.dim..(i + 1) * self.dim]);
            xb.extend_from_slice(&self.eb[j * self.dim..(j + 1) * self.dim]);
        }
        Ok(CrossModalFinal {
            ks: RECALL_KS.to_vec(),
            a_to_b: self.a_to_b.clone(),
            b_to_a: self.b_to_a.clone(),
            alignment: retrieval::alignment(&xa, &xb, dim)?,
            uniformity_a: retrieval::uniformity(&self.ea, dim)?,
            uniformity_b: retrieval::uniformity(&self.eb, dim)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::finished;
    use crate::trainer::TrainResult;
    use mixlab_core::methods::GeomixConfig;
    use serde::Deserialize as De;

    #[derive(De)]
    struct Case {
        a: Vec<Vec<f32>>,
        b: Vec<Vec<f32>>,
        lam: f64,
        tau: f64,
        tau2: f64,
        clip: f64,
        m2mix: f64,
        slerp: Vec<Vec<f64>>,
        align: f64,
        unif_a: f64,
    }

    #[derive(De)]
    struct Fixture {
        cases: Vec<Case>,
    }

    fn t(rows: &[Vec<f32>], dev: &Device) -> Tensor<2> {
        let d = rows[0].len();
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::<2>::from_data(TensorData::new(flat, [rows.len(), d]), dev)
    }

    #[test]
    fn losses_match_the_reference_code() {
        let f: Fixture =
            serde_json::from_str(include_str!("../tests/fixtures/geomix.json")).unwrap();
        let dev = Device::flex();
        assert!(f.cases.len() >= 6);
        let close = |got: f64, want: f64, what: &str, k: usize| {
            assert!(
                (got - want).abs() <= 2e-4 * want.abs().max(1.0),
                "case {k} {what}: {got} vs {want}"
            );
        };
        for (k, c) in f.cases.iter().enumerate() {
            let (a, b) = (t(&c.a, &dev), t(&c.b, &dev));
            let clip: f32 = clip_loss(a.clone(), b.clone(), c.tau).into_scalar();
            close(f64::from(clip), c.clip, "clip", k);
            let m2: f32 = m2mix_loss(a.clone(), b.clone(), c.lam, c.tau2).into_scalar();
            close(f64::from(m2), c.m2mix, "m2mix", k);
            let s: Vec<f32> = to_f32(slerp(a, b, c.lam).into_data()).unwrap();
            for (g, w) in s.iter().zip(c.slerp.iter().flatten()) {
                assert!(
                    (f64::from(*g) - w).abs() < 1e-4,
                    "case {k} slerp {g} vs {w}"
                );
            }
            let d = c.a[0].len();
            let fa: Vec<f32> = c.a.iter().flatten().copied().collect();
            let fb: Vec<f32> = c.b.iter().flatten().copied().collect();
            close(
                retrieval::alignment(&fa, &fb, d).unwrap(),
                c.align,
                "align",
                k,
            );
            close(retrieval::uniformity(&fa, d).unwrap(), c.unif_a, "unif", k);
        }
    }

    #[test]
    fn slerp_stays_on_the_sphere_and_hits_its_ends() {
        let dev = Device::flex();
        let a = l2_normalise(t(&[vec![1.0, 0.2, -0.3], vec![0.1, 1.0, 0.0]], &dev));
        let b = l2_normalise(t(&[vec![-0.2, 1.0, 0.5], vec![0.3, 0.2, 1.0]], &dev));
        for s in [0.0, 0.25, 0.5, 1.0] {
            let m = slerp(a.clone(), b.clone(), s);
            let norms: Vec<f32> =
                to_f32(m.clone().powf_scalar(2.0).sum_dim(1).into_data()).unwrap();
            assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-4), "{norms:?}");
            let end = if s == 1.0 {
                Some(&a)
            } else if s == 0.0 {
                Some(&b)
            } else {
                None
            };
            if let Some(e) = end {
                let d: f32 = (m - e.clone()).abs().max().into_scalar();
                assert!(d < 1e-4, "s={s}: {d}");
            }
        }
    }

    /// A second "modality" for the quadrant images: 6 features, the class one-hot in the first 4, plus noise.
    fn toy_vectors(n: usize, seed: u64) -> TrainData {
        let shape = mixlab_core::shape::SampleShape::d1(6, 1).unwrap();
        let mut rng = stream(seed, Purpose::Split, 0, 0);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let c = rng.random_range(0..4usize);
            for f in 0..6 {
                x.push(if f == c { 1.0 } else { 0.0 } + rng.random_range(-0.3f32..0.3));
            }
            y.push(c);
        }
        TrainData::classification(shape, x, y, 4).unwrap()
    }

    /// The paired side of the toy runs: 6-value vectors of the toy images' four classes.
    fn toy_b() -> Splits {
        Splits {
            train: toy_vectors(80, 11),
            val: toy_vectors(40, 12),
            test: toy_vectors(40, 13),
            unlabelled: None,
        }
    }

    /// The run stopped after 5 epochs (a checkpoint each) and resumed to its end.
    fn killed_after_five_and_resumed(cfg: &TrainConfig, a: &Splits, b: &Splits) -> TrainResult {
        use crate::trainer::NoProgress;
        let dir = tempfile::tempdir().unwrap();
        let mut opts = RunOptions {
            checkpoint_dir: Some(dir.path().to_path_buf()),
            resume: true,
            stop_after_epochs: Some(5),
            checkpoint_every: 1,
        };
        train_pair(cfg, a, b, &opts, &mut NoProgress).unwrap();
        opts.stop_after_epochs = None;
        finished(train_pair(cfg, a, b, &opts, &mut NoProgress).unwrap())
    }

    fn pair_cfg(g: GeomixConfig) -> TrainConfig {
        pair_cfg_with(MethodConfig::Geomix(g))
    }

    fn pair_cfg_with(method: MethodConfig) -> TrainConfig {
        use crate::models::{CnnConfig, MlpConfig, TwoTowerConfig};
        crate::supervised::tests::small_cfg()
            .with_model(ModelConfig::TwoTower(TwoTowerConfig {
                a: Box::new(ModelConfig::Cnn(CnnConfig {
                    channels: vec![4, 8],
                    hidden: 16,
                })),
                b: Box::new(ModelConfig::Mlp(MlpConfig::default().with_hidden(vec![16]))),
                b_input: vec![6, 1],
            }))
            .with_mixer(mixlab_core::mixer::MixerConfig::single(method))
            .with_augment(crate::config::Augment::None)
            .with_lr(0.01)
            .with_optimizer(crate::optim::OptimizerConfig::adamw())
            .with_schedule(crate::optim::Schedule::Constant)
            .with_epochs(12)
    }

    #[test]
    fn m3col_and_cm3_train_rerun_resume_and_learn_to_retrieve() {
        use crate::trainer::NoProgress;
        use mixlab_core::methods::{Cm3Config, M3colConfig};
        let a = crate::supervised::tests::toy_splits();
        let b = toy_b();
        let methods = [
            // The switch to SoftCLIP falls inside the run (epoch 4 of 12).
            MethodConfig::M3col(M3colConfig {
                dim: 8,
                ..Default::default()
            }),
            MethodConfig::Cm3(Cm3Config {
                dim: 8,
                ..Default::default()
            }),
        ];
        let mut first_losses = vec![];
        for m in methods {
            let cfg = pair_cfg_with(m.clone());
            let r1 = finished(
                train_pair(&cfg, &a, &b, &RunOptions::default(), &mut NoProgress).unwrap(),
            );
            let FinalMetrics::CrossModal(f) = &r1.final_metrics else {
                panic!("cross-modal")
            };
            assert!(f.a_to_b[0] > 0.5 && f.b_to_a[0] > 0.5, "{m:?}: {f:?}");
            let r2 = killed_after_five_and_resumed(&cfg, &a, &b);
            assert_eq!(r2.final_metrics, r1.final_metrics, "{m:?}");
            assert_eq!(
                crate::test_support::curve(&r2),
                crate::test_support::curve(&r1)
            );
            first_losses.push(r1.curve[0].train_loss);
        }
        // CM³ without calibration is the plain alignment-uniformity loss: another loss.
        let plain = finished(
            train_pair(
                &pair_cfg_with(MethodConfig::Cm3(Cm3Config {
                    dim: 8,
                    calibrate: false,
                    ..Default::default()
                })),
                &a,
                &b,
                &RunOptions::default(),
                &mut NoProgress,
            )
            .unwrap(),
        );
        assert_ne!(plain.curve[0].train_loss, first_losses[1]);
    }

    #[test]
    fn pairs_train_deterministically_resume_and_learn_to_retrieve() {
        use crate::trainer::NoProgress;
        let a = crate::supervised::tests::toy_splits();
        let b = toy_b();
        let g = GeomixConfig {
            dim: 8,
            mix_weight: 0.5,
            ..Default::default()
        };
        let cfg = pair_cfg(g.clone());
        let r1 =
            finished(train_pair(&cfg, &a, &b, &RunOptions::default(), &mut NoProgress).unwrap());
        let r2 =
            finished(train_pair(&cfg, &a, &b, &RunOptions::default(), &mut NoProgress).unwrap());
        assert_eq!(r1.final_metrics, r2.final_metrics);
        let FinalMetrics::CrossModal(f) = &r1.final_metrics else {
            panic!("cross-modal")
        };
        // Four classes: chance Recall@1 is about 1/4; the quadrant task is easy for both towers.
        assert!(f.a_to_b[0] > 0.5 && f.b_to_a[0] > 0.5, "{f:?}");
        assert!(f.alignment.is_finite() && f.uniformity_a.is_finite());
        let r3 = killed_after_five_and_resumed(&cfg, &a, &b);
        assert_eq!(r3.final_metrics, r1.final_metrics);
        assert_eq!(
            crate::test_support::curve(&r3),
            crate::test_support::curve(&r1)
        );
        // Plain CLIP differs (the mixed term is really in the loss).
        let clip = finished(
            train_pair(
                &pair_cfg(GeomixConfig {
                    mix_weight: 0.0,
                    ..g
                }),
                &a,
                &b,
                &RunOptions::default(),
                &mut NoProgress,
            )
            .unwrap(),
        );
        assert_ne!(clip.curve[0].train_loss, r1.curve[0].train_loss);
        // Misconfigurations fail before training.
        let e = crate::trainer::train(&cfg, &a, &RunOptions::default(), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("paired dataset"), "{e}");
        let mut wrong = cfg.clone();
        if let ModelConfig::TwoTower(t) = &mut wrong.model {
            t.b_input = vec![1, 8, 8];
        }
        let e = train_pair(&wrong, &a, &b, &RunOptions::default(), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("b_input"), "{e}");
        let as5 = |d: &TrainData| {
            let Targets::Classes { labels, .. } = &d.targets else {
                panic!("classes")
            };
            TrainData::classification(d.shape, d.x.clone(), labels.clone(), 5).unwrap()
        };
        let five = Splits {
            train: as5(&b.train),
            val: as5(&b.val),
            test: as5(&b.test),
            unlabelled: None,
        };
        let e = train_pair(&cfg, &a, &five, &RunOptions::default(), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("4 and 5 classes"), "{e}");
    }
}
