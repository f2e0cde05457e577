//! The MixedAE task ([`mixlab_core::methods::mixedae`]: the reading, the group assignment and every open
//! choice): MAE-style pre-training of the run's `vit-tiny` encoder with a one-block decoder this task owns
//! (checkpointed as strategy files), judged each epoch by a linear probe.
//!
//! A step takes the batch's samples in consecutive groups of `r` (a tail shorter than a group is left out of
//! that step). Mixed: each group becomes `r` patch-mixed outputs, encoded with segment embeddings and
//! homologous attention; from every output each source is decoded from its own tokens. Plain MAE: each image
//! keeps a random `1/r` of its patches. Both reconstruct the pixels of the positions the decoder did not see
//! (MSE on the raw, already normalised pixels: MAE's `norm_pix_loss` is off).
//!
//! The probe: a ridge classifier (one-hot targets, penalty `probe_ridge`) on the class token of the frozen
//! encoder over clean images (with the run's attention: top-k for MixedAE), fitted on the training split (at
//! most [`PROBE_FIT`] samples) and scored on validation and test; the final metrics add calibration of its
//! scores with a temperature fitted on validation, like a classifier's.

use crate::augment::step_batch;
use crate::config::{RunOptions, TrainConfig};
use crate::data::{Splits, Targets, TrainData};
use crate::engine::{batch_tensor, drive, optimise_with, split_batches, start_state, to_f32};
use crate::error::{Error, Result};
use crate::loss::l2_normalise;
use crate::models::vit::VitBlock;
use crate::models::{Model, ModelConfig, seeded};
use crate::owned::Owned;
use crate::records::{EvalMetrics, FinalMetrics, Outcome, Progress};
use crate::supervised::calibrated;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use mixlab_core::calib;
use mixlab_core::methods::mixedae::{assign, mae_visible};
use mixlab_core::methods::{MethodConfig, MixedaeConfig};
use mixlab_core::ridge;
use mixlab_core::rng::{Purpose, stream};
use std::cell::RefCell;
use std::time::Instant;

/// The most training samples the probe is fitted on.
pub const PROBE_FIT: usize = 5000;
const PARTS: &str = "mae-decoder";

/// The decoder and the embeddings the encoder does not own.
#[derive(Module, Debug)]
pub struct MaeParts {
    segment: Linear,
    mask_token: Linear,
    dec_embed: Linear,
    dec_pos: Linear,
    block: VitBlock,
    norm: LayerNorm,
    pred: Linear,
}

impl MaeParts {
    fn new(
        r: usize,
        d: usize,
        dd: usize,
        patches: usize,
        patch_len: usize,
        seed: u64,
        dev: &Device,
    ) -> Self {
        let p = MaeParts {
            segment: LinearConfig::new(r, d).with_bias(false).init(dev),
            mask_token: LinearConfig::new(1, dd).with_bias(false).init(dev),
            dec_embed: LinearConfig::new(d, dd).init(dev),
            dec_pos: LinearConfig::new(patches, dd).with_bias(false).init(dev),
            block: VitBlock::new(dd, 1, 2, dev),
            norm: LayerNormConfig::new(dd).init(dev),
            pred: LinearConfig::new(dd, patch_len).init(dev),
        };
        // Init stream 9: the model draws from 0, the strategies' modules from 1 to 8.
        seeded(p, seed, 9)
    }

    /// Pixel predictions (N×P×L) from encoder tokens `enc` (N×K×D) placed at positions by `place` (N×P×K,
    /// one-hot rows; zero rows are masked positions) with `seen` (N×P×1, 1 where a token was placed).
    fn decode(&self, enc: Tensor<3>, place: Tensor<3>, seen: Tensor<3>) -> Tensor<3> {
        let [n, p, _] = place.dims();
        let dd = self.dec_pos.weight.dims()[1];
        let tokens = place.matmul(self.dec_embed.forward(enc));
        let mask: Tensor<3> = self
            .mask_token
            .weight
            .val()
            .reshape([1, 1, dd])
            .expand([n, p, dd]);
        let pos: Tensor<3> = self
            .dec_pos
            .weight
            .val()
            .reshape([1, p, dd])
            .expand([n, p, dd]);
        let unseen = seen.clone().neg().add_scalar(1.0);
        let x = tokens + mask * unseen.expand([n, p, dd]) + pos;
        self.pred
            .forward(self.norm.forward(self.block.forward_topk(x, None).0))
    }
}

/// The geometry of a run: patch side, patches per image and pixels per patch.
#[derive(Clone, Copy)]
struct Geometry {
    channels: usize,
    h: usize,
    w: usize,
    ps: usize,
    patches: usize,
    patch_len: usize,
}

impl Geometry {
    /// The patches of one image (C×H×W, row-major) as P×L rows, each patch channel-major.
    fn patchify(&self, img: &[f32]) -> Vec<f32> {
        let (gw, ps) = (self.w / self.ps, self.ps);
        let mut out = vec![0f32; self.patches * self.patch_len];
        for p in 0..self.patches {
            let (py, px) = (p / gw, p % gw);
            let mut k = p * self.patch_len;
            for c in 0..self.channels {
                for y in 0..ps {
                    for x in 0..ps {
                        out[k] = img[(c * self.h + py * ps + y) * self.w + px * ps + x];
                        k += 1;
                    }
                }
            }
        }
        out
    }

    /// Copies patch `p` of image `src` into `dst` (both C×H×W).
    fn copy_patch(&self, src: &[f32], dst: &mut [f32], p: usize) {
        let (gw, ps) = (self.w / self.ps, self.ps);
        let (py, px) = (p / gw, p % gw);
        for c in 0..self.channels {
            for y in 0..ps {
                let at = (c * self.h + py * ps + y) * self.w + px * ps;
                dst[at..at + ps].copy_from_slice(&src[at..at + ps]);
            }
        }
    }
}

fn tensor3(v: Vec<f32>, dims: [usize; 3], dev: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v, dims), dev)
}

/// The homologous contrastive term on unit tokens `z` (N×P×D) with sources `seg` (N·P): each token's
/// positives are the other tokens of its source (supervised-contrastive form at `temperature`).
fn homologous_contrastive(z: Tensor<3>, seg: &[usize], temperature: f64) -> Tensor<1> {
    let [n, p, _] = z.dims();
    let dev = z.device();
    let sim = z.clone().matmul(z.swap_dims(1, 2)).div_scalar(temperature);
    let mut eye = vec![false; n * p * p];
    let mut pos = vec![0f32; n * p * p];
    for b in 0..n {
        for i in 0..p {
            eye[(b * p + i) * p + i] = true;
            for j in 0..p {
                if i != j && seg[b * p + i] == seg[b * p + j] {
                    pos[(b * p + i) * p + j] = 1.0;
                }
            }
        }
    }
    let eye = Tensor::<3, Bool>::from_data(TensorData::new(eye, [n, p, p]), &dev);
    let logp = log_softmax(sim.mask_fill(eye, -1e9), 2);
    let pos = tensor3(pos, [n, p, p], &dev);
    let count = pos.clone().sum_dim(2).clamp_min(1.0);
    (pos * logp).sum_dim(2).div(count).mean().neg()
}

fn labels_of(d: &TrainData) -> Result<(&[usize], usize)> {
    match &d.targets {
        Targets::Classes { labels, classes } => Ok((labels, *classes)),
        Targets::Regression { .. } => Err(Error::Incompatible(
            "mixedae is judged by a linear probe on class labels; this dataset is a regression"
                .into(),
        )),
    }
}

/// Class-token features of a split (clean images).
fn features(
    model: &Model,
    split: &TrainData,
    topk: Option<usize>,
    batch: usize,
    dev: &Device,
) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for x in split_batches(split, batch, dev) {
        let t = model.encode_tokens(x, None, None, topk)?;
        let [n, _, d] = t.dims();
        out.extend(to_f32(t.narrow(1, 0, 1).reshape([n, d]).into_data())?);
    }
    Ok(out)
}

/// The probe's scores on validation and test, fitted on the first [`PROBE_FIT`] training samples.
fn probe(
    model: &Model,
    data: &Splits,
    c: &MixedaeConfig,
    topk: Option<usize>,
    batch: usize,
    dev: &Device,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let (labels, classes) = labels_of(&data.train)?;
    let fit_n = data.train.n.min(PROBE_FIT);
    let mut fit = data.train.clone();
    fit.x.truncate(fit_n * fit.shape.sample_len());
    fit.n = fit_n;
    let f = features(model, &fit, topk, batch, dev)?;
    let dim = f.len() / fit_n.max(1);
    let mut y = vec![0f32; fit_n * classes];
    for (i, &l) in labels[..fit_n].iter().enumerate() {
        y[i * classes + l] = 1.0;
    }
    let head = ridge::fit(&f, dim, &y, classes, c.probe_ridge)?;
    Ok((
        head.predict(&features(model, &data.val, topk, batch, dev)?)?,
        head.predict(&features(model, &data.test, topk, batch, dev)?)?,
    ))
}

fn probe_metrics(scores: &[f32], labels: &[usize], classes: usize) -> Result<EvalMetrics> {
    let acc = calib::top_k_accuracy(scores, labels, classes, 1)?;
    Ok(EvalMetrics {
        loss: 1.0 - acc,
        acc: Some(acc),
        ece15: None,
        rmse: None,
        mae: None,
        mape_pct: None,
        recall: None,
    })
}

/// Trains MixedAE or plain MAE as configured; called by [`crate::trainer::train`].
pub(crate) fn train(
    cfg: &TrainConfig,
    data: &Splits,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    let Some(MethodConfig::Mixedae(c)) = cfg.representation() else {
        return Err(Error::Incompatible("not a mixedae run".into()));
    };
    let ModelConfig::VitTiny(v) = &cfg.model else {
        return Err(Error::Incompatible(
            "mixedae pre-trains a vision transformer: use --model vit-tiny".into(),
        ));
    };
    let (_, classes) = labels_of(&data.train)?;
    let (val_labels, _) = labels_of(&data.val)?;
    let (test_labels, _) = labels_of(&data.test)?;
    if cfg.mix_at.is_some() || cfg.kd.is_some() || cfg.mixer.label_smoothing != 0.0 {
        return Err(Error::Incompatible(
            "mixedae does not use mix_at, distillation or label smoothing: drop them".into(),
        ));
    }
    let tr = &data.train;
    let shape = tr.shape;
    cfg.validate(&shape, classes)?;
    let g = Geometry {
        channels: shape.channels,
        h: shape.dims[1],
        w: shape.dims[2],
        ps: v.patch,
        patches: (shape.dims[1] / v.patch) * (shape.dims[2] / v.patch),
        patch_len: shape.channels * v.patch * v.patch,
    };
    if g.patches < c.r {
        return Err(Error::Incompatible(format!(
            "mixedae mixes {} images into each output, but an image has only {} patches",
            c.r, g.patches
        )));
    }
    // Homologous attention over the class token and the patches; plain MAE attends to everything.
    let topk = c
        .mixing
        .then(|| ((c.topk * (g.patches + 1) as f64).ceil() as usize).max(1));
    let t0 = Instant::now();
    let plain = cfg.device.device()?;
    let dev = plain.clone().autodiff();
    dev.seed(cfg.seed);
    let mut st = start_state(cfg, &shape, classes, opts, &dev)?;
    let origin = opts.checkpoint_dir.clone().unwrap_or_default();
    let mut saved = std::mem::take(&mut st.aux);
    let fresh = MaeParts::new(
        c.r,
        v.dim,
        c.decoder_dim,
        g.patches,
        g.patch_len,
        cfg.seed,
        &dev,
    );
    let parts = Owned::begin(fresh, PARTS, cfg, &mut saved, &origin)?;
    if let Some(f) = saved.first() {
        return Err(Error::ckpt(
            &origin,
            format!("unknown strategy file {}", f.name),
        ));
    }
    let parts = RefCell::new(parts);
    let eb = cfg.eval_batch_size;
    let driven = drive(
        cfg,
        tr.n,
        &mut st,
        opts,
        progress,
        false,
        |model, optim, idx, epoch, step, lr| {
            let b = idx.len() / c.r * c.r;
            if b == 0 {
                return Ok(None);
            }
            let len = shape.sample_len();
            let xb = step_batch(cfg, tr, &idx[..b], epoch, step);
            let mut rng = stream(cfg.seed, Purpose::Mix, epoch as u64, step as u64);
            let target: Vec<f32> = xb.chunks(len).flat_map(|img| g.patchify(img)).collect();
            let pp = g.patches;
            let mut pt = parts.borrow_mut();
            let loss = if c.mixing {
                // Output o of a group holds, at each position, the patch of source seg[o·P + p].
                let mut mixed = xb.clone();
                let mut seg = vec![0usize; b * pp];
                for grp in 0..b / c.r {
                    let a = assign(c.r, pp, &mut rng);
                    for o in 0..c.r {
                        let out = grp * c.r + o;
                        for p in 0..pp {
                            let s = a[o * pp + p];
                            seg[out * pp + p] = s;
                            let src = &xb[(grp * c.r + s) * len..(grp * c.r + s + 1) * len];
                            g.copy_patch(src, &mut mixed[out * len..(out + 1) * len], p);
                        }
                    }
                }
                let extra = c.segment.then(|| {
                    let mut oh = vec![0f32; b * pp * c.r];
                    for (k, &s) in seg.iter().enumerate() {
                        oh[k * c.r + s] = 1.0;
                    }
                    pt.module.segment.forward(tensor3(oh, [b, pp, c.r], &dev))
                });
                let enc =
                    model.encode_tokens(batch_tensor(mixed, &shape, &dev), extra, None, topk)?;
                let d = enc.dims()[2];
                let enc = enc.narrow(1, 1, pp);
                // Decode every source from every output: rows (s, out) stacked source-major.
                let (mut place, mut seen, mut tgt, mut miss) = (
                    vec![0f32; c.r * b * pp * pp],
                    vec![0f32; c.r * b * pp],
                    Vec::with_capacity(c.r * b * pp * g.patch_len),
                    vec![0f32; c.r * b * pp],
                );
                for s in 0..c.r {
                    for out in 0..b {
                        let row = s * b + out;
                        let src = (out / c.r) * c.r + s;
                        for p in 0..pp {
                            if seg[out * pp + p] == s {
                                place[(row * pp + p) * pp + p] = 1.0;
                                seen[row * pp + p] = 1.0;
                            } else {
                                miss[row * pp + p] = 1.0;
                            }
                        }
                        tgt.extend_from_slice(
                            &target[src * pp * g.patch_len..(src + 1) * pp * g.patch_len],
                        );
                    }
                }
                let rows = c.r * b;
                let encs = Tensor::cat(vec![enc.clone(); c.r], 0);
                let pred = pt.module.decode(
                    encs,
                    tensor3(place, [rows, pp, pp], &dev),
                    tensor3(seen, [rows, pp, 1], &dev),
                );
                let mse = masked_mse(
                    pred,
                    tensor3(tgt, [rows, pp, g.patch_len], &dev),
                    tensor3(miss, [rows, pp, 1], &dev),
                );
                match c.contrastive_weight > 0.0 {
                    true => {
                        let z = l2_normalise(enc.reshape([b * pp, d])).reshape([b, pp, d]);
                        mse + homologous_contrastive(z, &seg, c.temperature)
                            .mul_scalar(c.contrastive_weight)
                    }
                    false => mse,
                }
            } else {
                let keep = (pp / c.r).max(1);
                let (mut idx_keep, mut place, mut seen, mut miss) = (
                    Vec::with_capacity(b * keep),
                    vec![0f32; b * pp * keep],
                    vec![0f32; b * pp],
                    vec![1f32; b * pp],
                );
                for i in 0..b {
                    for (k, &p) in mae_visible(c.r, pp, &mut rng).iter().enumerate() {
                        idx_keep.push(p as i64);
                        place[(i * pp + p) * keep + k] = 1.0;
                        seen[i * pp + p] = 1.0;
                        miss[i * pp + p] = 0.0;
                    }
                }
                let keep_t =
                    Tensor::<2, Int>::from_data(TensorData::new(idx_keep, [b, keep]), &dev);
                let enc = model.encode_tokens(
                    batch_tensor(xb, &shape, &dev),
                    None,
                    Some(keep_t),
                    None,
                )?;
                let enc = enc.narrow(1, 1, keep);
                let pred = pt.module.decode(
                    enc,
                    tensor3(place, [b, pp, keep], &dev),
                    tensor3(seen, [b, pp, 1], &dev),
                );
                masked_mse(
                    pred,
                    tensor3(target, [b, pp, g.patch_len], &dev),
                    tensor3(miss, [b, pp, 1], &dev),
                )
            };
            optimise_with(model, optim, loss, lr, epoch, step, |rest| {
                pt.step(rest, lr);
                Ok(())
            })
            .map(Some)
        },
        |model, with_test| {
            let (vs, ts) = probe(model, data, c, topk, eb, &plain)?;
            Ok((
                probe_metrics(&vs, val_labels, classes)?,
                match with_test {
                    true => Some(probe_metrics(&ts, test_labels, classes)?),
                    false => None,
                },
            ))
        },
        || parts.borrow().files(),
    )?;
    let Some(driven) = driven else {
        return Ok(Outcome::Stopped {
            epochs_done: st.curve.len(),
        });
    };
    let (vs, ts) = probe(&st.model.valid(), data, c, topk, eb, &plain)?;
    let final_metrics =
        FinalMetrics::Classification(calibrated((&vs, val_labels), (&ts, test_labels), classes)?);
    Ok(Outcome::Finished(Box::new(driven.result(
        cfg,
        st,
        final_metrics,
        t0,
    ))))
}

/// Mean squared error over the positions where `miss` (N×P×1) is 1, per pixel.
fn masked_mse(pred: Tensor<3>, target: Tensor<3>, miss: Tensor<3>) -> Tensor<1> {
    let [n, p, l] = pred.dims();
    let w = miss.expand([n, p, l]);
    let count = w.clone().sum().clamp_min(1.0);
    ((pred - target).powf_scalar(2.0) * w).sum().div(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::VitConfig;
    use crate::supervised::tests::{mlp_cfg, small_cfg, toy_regression, toy_splits};
    use crate::test_support::{curve, finished, rerun_and_resume};
    use crate::trainer::{NoProgress, train as train_any};
    use mixlab_core::mixer::MixerConfig;

    fn cfg(mixing: bool) -> TrainConfig {
        small_cfg()
            .with_model(ModelConfig::VitTiny(VitConfig {
                dim: 16,
                depth: 1,
                heads: 2,
                patch: 2,
                mlp_ratio: 2,
            }))
            .with_mixer(MixerConfig::single(MethodConfig::Mixedae(MixedaeConfig {
                mixing,
                decoder_dim: 8,
                ..Default::default()
            })))
            .with_lr(0.005)
            .with_epochs(3)
    }

    #[test]
    fn patches_round_trip_through_patchify_and_copy() {
        let g = Geometry {
            channels: 2,
            h: 4,
            w: 6,
            ps: 2,
            patches: 6,
            patch_len: 8,
        };
        let img: Vec<f32> = (0..48).map(|v| v as f32).collect();
        let p = g.patchify(&img);
        // Patch 4 (row 1, column 1): channel 0 rows 2-3, columns 2-3, then channel 1.
        assert_eq!(
            &p[32..40],
            &[14.0, 15.0, 20.0, 21.0, 38.0, 39.0, 44.0, 45.0]
        );
        let mut blank = vec![0f32; 48];
        for q in 0..6 {
            g.copy_patch(&img, &mut blank, q);
        }
        assert_eq!(blank, img);
    }

    #[test]
    fn reruns_bit_identically_resumes_and_mixing_matters() {
        let data = toy_splits();
        let whole = rerun_and_resume(&cfg(true), &data, 1);
        assert!(whole.curve.iter().all(|e| e.train_loss.is_finite()));
        let mae = finished(
            train_any(&cfg(false), &data, &RunOptions::default(), &mut NoProgress).unwrap(),
        );
        assert_ne!(curve(&mae), curve(&whole));
    }

    #[test]
    fn the_contrastive_term_prefers_tokens_grouped_by_source() {
        let dev = Device::default();
        let seg = [0, 0, 1, 1];
        let grouped = l2_normalise(Tensor::from_data(
            TensorData::new(vec![1.0f32, 0.1, 0.9, 0.0, 0.0, 1.0, 0.1, 0.9], [4, 2]),
            &dev,
        ))
        .reshape([1, 4, 2]);
        let crossed = grouped.clone().select(
            1,
            Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2, 1, 3], [4]), &dev),
        );
        let l = |z: Tensor<3>| to_f32(homologous_contrastive(z, &seg, 0.1).into_data()).unwrap()[0];
        assert!(l(grouped) < l(crossed));
    }

    #[test]
    fn other_models_and_targets_are_refused() {
        let run = |c: &TrainConfig, d: &Splits| {
            train_any(c, d, &RunOptions::default(), &mut NoProgress)
                .unwrap_err()
                .to_string()
        };
        let cnn = small_cfg().with_mixer(MixerConfig::single(MethodConfig::Mixedae(
            MixedaeConfig::default(),
        )));
        assert!(run(&cnn, &toy_splits()).contains("vit-tiny"));
        let mlp = mlp_cfg(MethodConfig::Mixedae(MixedaeConfig::default()));
        assert!(run(&mlp, &toy_regression()).contains("vit-tiny"));
    }
}
