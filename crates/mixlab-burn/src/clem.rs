//! The CLEM task ([`mixlab_core::methods::clem`]: the tokenizer, the curriculum and every choice our
//! reading makes): the run's network encodes the features into `dim` outputs, `tanh` of which is the first
//! state of a GRU decoder (a module this task owns beside the model, checkpointed as strategy files) that
//! emits the target's digits.
//!
//! Training feeds the decoder, after step t, `α·E[y_t] + (1 − α)·ê_t` (ê detached); evaluation decodes
//! greedily and maps the digits back to a value. The loop, its streams and its checkpoints are the
//! classifier's ([`crate::engine`]); like every regression run here the final metrics are the
//! best-validation epoch's, whose decoder is kept beside the engine's model snapshot.

use crate::checkpoint::{load_weights_bytes, weights_to_bytes};
use crate::config::{RunOptions, TrainConfig};
use crate::data::{Splits, Targets, TrainData};
use crate::engine::{
    batch_tensor, drive, optimise_with, split_batches, start_state, steps_per_epoch,
};
use crate::error::{Error, Result};
use crate::loss::soft_cross_entropy;
use crate::models::{Model, seeded};
use crate::owned::Owned;
use crate::records::{EvalMetrics, FinalMetrics, Outcome, Progress, RegFinal};
use crate::state::{AuxFile, AuxKind};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax, tanh};
use mixlab_core::calib;
use mixlab_core::methods::{MethodConfig, Predicted, QuantileCode};
use std::cell::RefCell;
use std::time::Instant;

const DECODER: &str = "decoder";
const BEST: &str = "decoder-best";

/// A GRU decoder over digit tokens: `embed` holds one row per digit and a last row for the start token.
#[derive(Module, Debug)]
pub struct Decoder {
    embed: Linear,
    wx: Linear,
    wh: Linear,
    head: Linear,
}

impl Decoder {
    /// A decoder for `vocab` digits of width `dim`, its weights drawn as the models' are (Init stream 8).
    pub fn new(vocab: usize, dim: usize, seed: u64, dev: &Device) -> Self {
        let d = Decoder {
            embed: LinearConfig::new(vocab + 1, dim).with_bias(false).init(dev),
            wx: LinearConfig::new(dim, 3 * dim).init(dev),
            wh: LinearConfig::new(dim, 3 * dim).init(dev),
            head: LinearConfig::new(dim, vocab).init(dev),
        };
        seeded(d, seed, 8)
    }

    fn vocab(&self) -> usize {
        self.head.weight.dims()[1]
    }

    /// One GRU step (PyTorch's gate order and reset rule): input `x`, state `h`.
    fn cell(&self, x: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        let d = h.dims()[1];
        let (gx, gh) = (self.wx.forward(x), self.wh.forward(h.clone()));
        let part = |g: &Tensor<2>, k: usize| g.clone().narrow(1, k * d, d);
        let r = sigmoid(part(&gx, 0) + part(&gh, 0));
        let z = sigmoid(part(&gx, 1) + part(&gh, 1));
        let n = tanh(part(&gx, 2) + r * part(&gh, 2));
        (z.clone().neg() + 1.0) * n + z * h
    }

    /// The embeddings of `tokens` (a token `vocab` is the start token).
    fn tokens(&self, tokens: &[usize], dev: &Device) -> Tensor<2> {
        let v = self.vocab() + 1;
        let mut oh = vec![0f32; tokens.len() * v];
        for (i, &t) in tokens.iter().enumerate() {
            oh[i * v + t] = 1.0;
        }
        self.embed.forward(Tensor::from_data(
            TensorData::new(oh, [tokens.len(), v]),
            dev,
        ))
    }

    /// The digits' embedding rows (without the start token's).
    fn table(&self) -> Tensor<2> {
        self.embed.weight.val().narrow(0, 0, self.vocab())
    }

    /// The logits of each step of a decoding from `h0` (B × dim), `digits[i]` holding sample i's target
    /// digits: after step t the next input is `alpha·E[y_t] + (1 − alpha)·ê_t` with ê_t detached (α = 1 is
    /// teacher forcing; α = 0 with hard ê is greedy free generation).
    pub fn forward_mixed(
        &self,
        h0: Tensor<2>,
        digits: &[Vec<usize>],
        alpha: f64,
        predicted: Predicted,
        tau: f64,
    ) -> Vec<Tensor<2>> {
        let dev = h0.device();
        let b = digits.len();
        let steps = digits.first().map_or(0, Vec::len);
        let mut x = self.tokens(&vec![self.vocab(); b], &dev);
        let mut h = h0;
        let mut out = Vec::with_capacity(steps);
        for t in 0..steps {
            h = self.cell(x.clone(), h);
            let z = self.head.forward(h.clone());
            if t + 1 < steps {
                let truth: Vec<usize> = digits.iter().map(|d| d[t]).collect();
                let teacher = self.tokens(&truth, &dev);
                x = match alpha >= 1.0 {
                    true => teacher,
                    false => {
                        let own = match predicted {
                            Predicted::Soft => {
                                softmax(z.clone().div_scalar(tau), 1).matmul(self.table())
                            }
                            Predicted::Hard => self.tokens(&argmax(&z), &dev),
                        };
                        teacher.mul_scalar(alpha) + own.detach().mul_scalar(1.0 - alpha)
                    }
                };
            }
            out.push(z);
        }
        out
    }

    /// Greedy decoding of `steps` digits from `h0`: the digits of each sample and the step logits.
    pub fn greedy(&self, h0: Tensor<2>, steps: usize) -> (Vec<Vec<usize>>, Vec<Tensor<2>>) {
        let dev = h0.device();
        let b = h0.dims()[0];
        let mut x = self.tokens(&vec![self.vocab(); b], &dev);
        let (mut h, mut digits, mut logits) = (h0, vec![Vec::with_capacity(steps); b], Vec::new());
        for _ in 0..steps {
            h = self.cell(x, h);
            let z = self.head.forward(h.clone());
            let best = argmax(&z);
            for (d, &t) in digits.iter_mut().zip(&best) {
                d.push(t);
            }
            x = self.tokens(&best, &dev);
            logits.push(z);
        }
        (digits, logits)
    }
}

/// Row-wise arg-max.
fn argmax(z: &Tensor<2>) -> Vec<usize> {
    z.clone()
        .argmax(1)
        .into_data()
        .iter::<i64>()
        .map(|v| v as usize)
        .collect()
}

fn scalar_targets<'a>(d: &'a TrainData, what: &str) -> Result<&'a [f32]> {
    match &d.targets {
        Targets::Regression { values, dim: 1 } => Ok(values),
        Targets::Regression { dim, .. } => Err(Error::Incompatible(format!(
            "clem generates one value per sample; the {what} split has {dim}"
        ))),
        Targets::Classes { .. } => Err(Error::Incompatible(
            "clem is a regression method (a value as a digit sequence); this dataset has class labels"
                .into(),
        )),
    }
}

/// Greedy predictions of a split, decoded to values.
fn predict_values(
    model: &Model,
    dec: &Decoder,
    code: &QuantileCode,
    steps: usize,
    split: &TrainData,
    batch: usize,
    dev: &Device,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(split.n);
    for x in split_batches(split, batch, dev) {
        let (digits, _) = dec.greedy(tanh(model.forward(x)?), steps);
        out.extend(digits.iter().map(|d| code.decode(d) as f32));
    }
    Ok(out)
}

fn reg_metrics(pred: &[f32], values: &[f32]) -> Result<(calib::RegressionMetrics, EvalMetrics)> {
    let r = calib::regression_metrics(pred, values, calib::MAPE_EPS)?;
    let m = EvalMetrics::regression(&r);
    Ok((r, m))
}

/// The decoder being trained and the best-validation epoch's copy (with its validation RMSE).
struct Decoders {
    live: Owned<Decoder>,
    best: Option<(f64, Decoder)>,
}

/// Trains CLEM as configured (see the module docs); called by [`crate::trainer::train`].
pub(crate) fn train(
    cfg: &TrainConfig,
    data: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    let Some(MethodConfig::Clem(c)) = cfg.representation() else {
        return Err(Error::Incompatible("not a clem run".into()));
    };
    crate::embed::check_unused_settings(cfg, "clem")?;
    if cfg.mix_at.is_some() || cfg.kd.is_some() {
        return Err(Error::Incompatible(
            "clem mixes decoder embeddings: drop mix_at and knowledge distillation".into(),
        ));
    }
    let tr = &data.train;
    let y = scalar_targets(tr, "training")?;
    let (yv, yt) = (
        scalar_targets(&data.val, "validation")?,
        scalar_targets(&data.test, "test")?,
    );
    let code = QuantileCode::fit(y, c.vocab, c.digits)?;
    let digits: Vec<Vec<usize>> = y.iter().map(|&v| code.encode(f64::from(v))).collect();
    let shape = tr.shape;
    cfg.validate(&shape, c.dim)?;
    let t0 = Instant::now();
    let plain = cfg.device.device()?;
    let dev = plain.clone().autodiff();
    dev.seed(cfg.seed);
    let mut st = start_state(cfg, &shape, c.dim, opts, &dev)?;
    let origin = opts.checkpoint_dir.clone().unwrap_or_default();
    let mut saved = std::mem::take(&mut st.aux);
    let live = Owned::begin(
        Decoder::new(c.vocab, c.dim, cfg.seed, &dev),
        DECODER,
        cfg,
        &mut saved,
        &origin,
    )?;
    let best = match (saved.iter().position(|f| f.name == BEST), &st.best) {
        (Some(at), Some((_, v, _))) => {
            let f = saved.remove(at);
            let skeleton = Decoder::new(c.vocab, c.dim, cfg.seed, &dev);
            Some((*v, load_weights_bytes(skeleton, &f.bytes, &origin)?))
        }
        (None, None) => None,
        _ => {
            return Err(Error::ckpt(
                &origin,
                "the best epoch's decoder and model disagree",
            ));
        }
    };
    if let Some(f) = saved.first() {
        return Err(Error::ckpt(
            &origin,
            format!("unknown strategy file {}", f.name),
        ));
    }
    let decs = RefCell::new(Decoders { live, best });
    let steps = steps_per_epoch(tr.n, cfg.batch_size);
    let total = steps * cfg.epochs;
    let eb = cfg.eval_batch_size;
    let driven = drive(
        cfg,
        tr.n,
        &mut st,
        opts,
        progress,
        true,
        |model, optim, idx, epoch, step, lr| {
            let xb = tr.rows(idx);
            let h0 = tanh(model.forward(batch_tensor(xb, &shape, &dev))?);
            let db: Vec<Vec<usize>> = idx.iter().map(|&i| digits[i].clone()).collect();
            let alpha = c.alpha_at(epoch * steps + step, total);
            let mut d = decs.borrow_mut();
            let logits = d
                .live
                .module
                .forward_mixed(h0, &db, alpha, c.predicted, c.tau);
            let mut loss = None::<Tensor<1>>;
            for (t, z) in logits.into_iter().enumerate() {
                let mut target = vec![0f32; idx.len() * c.vocab];
                for (i, dd) in db.iter().enumerate() {
                    target[i * c.vocab + dd[t]] = 1.0;
                }
                let target = Tensor::from_data(TensorData::new(target, [idx.len(), c.vocab]), &dev);
                let l = soft_cross_entropy(z, target).div_scalar(c.digits as f64);
                loss = Some(match loss {
                    Some(s) => s + l,
                    None => l,
                });
            }
            let loss =
                loss.ok_or_else(|| Error::Incompatible("clem needs at least one digit".into()))?;
            optimise_with(model, optim, loss, lr, epoch, step, |rest| {
                d.live.step(rest, lr);
                Ok(())
            })
            .map(Some)
        },
        |model, with_test| {
            let mut d = decs.borrow_mut();
            let dec = d.live.module.valid();
            let pv = predict_values(model, &dec, &code, c.digits, &data.val, eb, &plain)?;
            let (rv, mv) = reg_metrics(&pv, yv)?;
            // The engine keeps the model of a strictly better validation RMSE; the decoder follows the same rule.
            if d.best.as_ref().is_none_or(|(b, _)| rv.rmse < *b) {
                d.best = Some((rv.rmse, d.live.module.clone()));
            }
            let mt = match with_test {
                true => {
                    let pt = predict_values(model, &dec, &code, c.digits, &data.test, eb, &plain)?;
                    Some(reg_metrics(&pt, yt)?.1)
                }
                false => None,
            };
            Ok((mv, mt))
        },
        || {
            let d = decs.borrow();
            let mut files = d.live.files()?;
            if let Some((_, b)) = &d.best {
                files.push(AuxFile {
                    name: BEST.into(),
                    kind: AuxKind::Weights,
                    bytes: weights_to_bytes(b)?,
                });
            }
            Ok(files)
        },
    )?;
    let Some(driven) = driven else {
        return Ok(Outcome::Stopped {
            epochs_done: st.curve.len(),
        });
    };
    let final_metrics = {
        let d = decs.borrow();
        let (Some((best_epoch, val_rmse, model)), Some((_, dec))) = (&st.best, &d.best) else {
            return Err(Error::Incompatible("no epoch was trained".into()));
        };
        let pt = predict_values(
            &model.valid(),
            &dec.valid(),
            &code,
            c.digits,
            &data.test,
            eb,
            &plain,
        )?;
        FinalMetrics::Regression(RegFinal {
            best_epoch: *best_epoch,
            val_rmse: *val_rmse,
            test: reg_metrics(&pt, yt)?.0,
        })
    };
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
    use crate::engine::to_f32;
    use crate::supervised::tests::{mlp_cfg, toy_regression, toy_splits};
    use crate::test_support::{curve, finished, rerun_and_resume};
    use crate::trainer::{NoProgress, train as train_any};
    use mixlab_core::methods::ClemConfig;

    fn h0(dev: &Device) -> Tensor<2> {
        let v: Vec<f32> = (0..4 * 8)
            .map(|i| ((i * 37 % 17) as f32 / 8.0 - 1.0).tanh())
            .collect();
        Tensor::from_data(TensorData::new(v, [4, 8]), dev)
    }

    fn same(a: &[Tensor<2>], b: &[Tensor<2>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                to_f32(x.clone().into_data()).unwrap() == to_f32(y.clone().into_data()).unwrap()
            })
    }

    #[test]
    fn alpha_one_is_teacher_forcing_and_alpha_zero_hard_is_greedy_decoding() {
        let dev = Device::default();
        let dec = Decoder::new(5, 8, 3, &dev);
        let digits = vec![vec![1, 4, 0], vec![3, 3, 2], vec![0, 0, 4], vec![2, 1, 1]];
        // Teacher forcing by hand: start token, then the true digits.
        let mut x = dec.tokens(&[5; 4], &dev);
        let (mut h, mut forced) = (h0(&dev), Vec::new());
        for t in 0..3 {
            h = dec.cell(x, h);
            forced.push(dec.head.forward(h.clone()));
            let truth: Vec<usize> = digits.iter().map(|d| d[t]).collect();
            x = dec.tokens(&truth, &dev);
        }
        for p in [Predicted::Soft, Predicted::Hard] {
            assert!(same(
                &dec.forward_mixed(h0(&dev), &digits, 1.0, p, 1.0),
                &forced
            ));
        }
        let (_, greedy) = dec.greedy(h0(&dev), 3);
        assert!(same(
            &dec.forward_mixed(h0(&dev), &digits, 0.0, Predicted::Hard, 1.0),
            &greedy
        ));
        // In between, the mix differs from both.
        let half = dec.forward_mixed(h0(&dev), &digits, 0.5, Predicted::Soft, 1.0);
        assert!(!same(&half, &forced) && !same(&half, &greedy));
        // The first step never sees a mix.
        assert!(same(&half[..1], &forced[..1]));
    }

    fn cfg(curriculum: bool) -> TrainConfig {
        mlp_cfg(MethodConfig::Clem(ClemConfig {
            dim: 8,
            digits: 2,
            curriculum,
            ..Default::default()
        }))
        .with_epochs(4)
    }

    #[test]
    fn runs_rerun_bit_identically_resume_and_the_curriculum_matters() {
        let data = toy_regression();
        let whole = rerun_and_resume(&cfg(true), &data, 2);
        let FinalMetrics::Regression(r) = &whole.final_metrics else {
            panic!("regression metrics")
        };
        assert!(r.test.rmse.is_finite() && r.best_epoch < 4);
        let forced = finished(
            train_any(&cfg(false), &data, &RunOptions::default(), &mut NoProgress).unwrap(),
        );
        // The first step is teacher-forced either way (α starts at 1); the epoch means differ.
        assert_ne!(curve(&forced), curve(&whole));
    }

    #[test]
    fn class_labels_and_unused_settings_are_refused() {
        let run = |c: &TrainConfig, d: &Splits| {
            train_any(c, d, &RunOptions::default(), &mut NoProgress)
                .unwrap_err()
                .to_string()
        };
        let e = run(&cfg(true), &toy_splits());
        assert!(e.contains("regression"), "{e}");
        let mut smooth = cfg(true);
        smooth.mixer.label_smoothing = 0.1;
        assert!(run(&smooth, &toy_regression()).contains("label smoothing"));
    }
}
