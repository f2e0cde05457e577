//! SMMix (mixlab-core's `methods::smmix`): a no-grad eval-mode forward of the model on the clean batch
//! gives each image's patch importance (the last block's image→image attention averaged over heads and
//! queries) and its clean logits; each SMMix sample's least attended window takes its partner's most
//! attended one; the forward on the mixed batch gives the logits and the final-norm image tokens. The
//! loss is the run's class loss against the area-mixed soft targets, plus the official extra losses:
//! - fine-grained: this strategy's own token head (a linear layer D → classes, trained with the model by
//!   an optimiser of the run's kind, kept in the checkpoint) on the mean image token of the sample's own
//!   region and of the pasted region, each against its source's smoothed one-hot, `½·(CE + CE)`;
//! - consistency: `KL(softmax(λ·z_i + (1 − λ)·z_j) ‖ softmax(out))`, z the clean logits.
//!
//! The mixup draws of the method's switch are mixed and scored as plain mixup. Both extra losses are
//! summed over the SMMix samples and divided by the batch, the reference's means when, as with the
//! default `batch` granularity, every sample of the batch takes the same branch. A sample the pairing
//! leaves with itself is kept whole (the mixer's rule) and adds nothing to the sums, so under a random
//! permutation (one such sample per batch on average) they sit about 1/B below the reference's. The
//! extra losses use cross-entropy whatever the run's class loss (the reference's criterion is soft-target
//! CE throughout).

use super::{StepInput, Strategy, batch_labels, majority_hits, to_i64};
use crate::config::TrainConfig;
use crate::data::Splits;
use crate::engine::{batch_tensor, to_f32};
use crate::error::{Error, Result};
use crate::loss::soft_cross_entropy;
use crate::models::{Model, ModelConfig, seeded};
use crate::owned::Owned;
use crate::state::AuxFile;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Gradients;
use burn::tensor::activation::log_softmax;
use mixlab_core::methods::SmmixConfig;
use mixlab_core::methods::smmix::{mix_tokens, window_side};
use mixlab_core::plan::{MixPlan, SampleWeight};
use rand::rngs::ChaCha8Rng;
use std::path::Path;

/// Name of the token head's files in the checkpoint.
const HEAD: &str = "token-head";

pub(crate) struct Smmix {
    cfg: SmmixConfig,
    /// The run's config: the token head's optimiser and seed.
    run: TrainConfig,
    dim: usize,
    classes: usize,
    head: Option<Owned<Linear>>,
    plain: Device,
}

impl Smmix {
    pub(crate) fn new(
        c: &SmmixConfig,
        run: &TrainConfig,
        data: &Splits,
        plain: &Device,
    ) -> Result<Self> {
        let ModelConfig::VitTiny(v) = &run.model else {
            return Err(Error::Incompatible(format!(
                "smmix reads a vision transformer's attention and pools its tokens: use --model vit-tiny, \
                 not {}",
                run.model.name()
            )));
        };
        if v.patch != c.patch {
            return Err(Error::Incompatible(format!(
                "smmix's windows live on the ViT's token grid: its patch ({}) must equal the vit patch ({})",
                c.patch, v.patch
            )));
        }
        Ok(Self {
            cfg: c.clone(),
            run: run.clone(),
            dim: v.dim,
            classes: data.train.outputs(),
            head: None,
            plain: plain.clone(),
        })
    }

    fn head(&self) -> Result<&Linear> {
        self.head.as_ref().map(|h| &h.module).ok_or_else(|| {
            Error::Incompatible("smmix's token head was used before the run began".into())
        })
    }

    /// The two extra losses (weighted) for the SMMix rows `rows` of a batch of `n`.
    #[allow(clippy::too_many_arguments)]
    fn extra(
        &self,
        out: Tensor<2>,
        tokens: Tensor<3>,
        clean: &[f32],
        source: &[f32],
        rows: &[usize],
        plan: &MixPlan,
        labels: &[usize],
        dev: &Device,
    ) -> Result<Tensor<1>> {
        let (n, c, k) = (plan.len(), self.classes, rows.len());
        let [_, p, d] = tokens.dims();
        let pick = Tensor::<1, Int>::from_data(
            TensorData::new(rows.iter().map(|&i| i as i64).collect(), [k]),
            dev,
        );
        let tokens = tokens.select(0, pick.clone());
        // Row-normalised region masks, k×1×P: the mean token of each region by one batched matmul.
        let mean_of = |own: bool| -> Result<Tensor<2>> {
            let mut m = Vec::with_capacity(k * p);
            for &i in rows {
                let row = &source[i * p..(i + 1) * p];
                let w: Vec<f32> = row.iter().map(|&s| if own { 1.0 - s } else { s }).collect();
                let total: f32 = w.iter().sum();
                if total <= 0.0 {
                    return Err(Error::Incompatible(format!(
                        "smmix sample {i} has an empty {} region",
                        if own { "own" } else { "pasted" }
                    )));
                }
                m.extend(w.iter().map(|v| v / total));
            }
            let m = Tensor::<3>::from_data(TensorData::new(m, [k, 1, p]), dev);
            Ok(self
                .head()?
                .forward(m.matmul(tokens.clone()).reshape([k, d])))
        };
        let (target_out, source_out) = (mean_of(true)?, mean_of(false)?);
        let s = self.run.mixer.label_smoothing;
        let one_hot = |ys: Vec<usize>| -> Result<Tensor<2>> {
            let t = MixPlan::identity(k, plan.shape).soft_targets(&ys, c, s)?;
            Ok(Tensor::from_data(TensorData::new(t, [k, c]), dev))
        };
        let own = one_hot(rows.iter().map(|&i| labels[i]).collect())?;
        let partner = one_hot(rows.iter().map(|&i| labels[plan.partner[i]]).collect())?;
        let mut mix = Vec::with_capacity(k * c);
        for &i in rows {
            let (lam, j) = (plan.lam_label[i], plan.partner[i]);
            mix.extend((0..c).map(|q| lam * clean[i * c + q] + (1.0 - lam) * clean[j * c + q]));
        }
        let mix = Tensor::<2>::from_data(TensorData::new(mix, [k, c]), dev);
        let (fine, con) = extra_losses(
            out.select(0, pick),
            target_out,
            source_out,
            mix,
            own,
            partner,
            n,
        );
        Ok(fine.mul_scalar(self.cfg.fine) + con.mul_scalar(self.cfg.consistency))
    }
}

/// SMMix's extra losses over `k` rows of a batch of `batch`, each summed over the rows and divided by
/// the batch: the fine-grained `½·(CE(target_out, y_own) + CE(source_out, y_partner))` (soft-target CE)
/// and the consistency `KL(softmax(mix) ‖ softmax(out))` (`KLDivLoss(reduction='batchmean')` of
/// `log_softmax(out)` against `softmax(mix)`).
pub(crate) fn extra_losses(
    out: Tensor<2>,
    target_out: Tensor<2>,
    source_out: Tensor<2>,
    mix: Tensor<2>,
    y_own: Tensor<2>,
    y_partner: Tensor<2>,
    batch: usize,
) -> (Tensor<1>, Tensor<1>) {
    let share = out.dims()[0] as f64 / batch.max(1) as f64;
    let fine = (soft_cross_entropy(target_out, y_own) + soft_cross_entropy(source_out, y_partner))
        .mul_scalar(0.5 * share);
    let log_q = log_softmax(mix, 1);
    let kl = (log_q.clone().exp() * (log_q - log_softmax(out, 1)))
        .sum()
        .div_scalar(batch.max(1) as f64);
    (fine, kl)
}

impl Strategy for Smmix {
    fn begin(&mut self, _model: &Model, saved: Vec<AuxFile>, origin: &Path) -> Result<()> {
        let dev = self.plain.clone().autodiff();
        let fresh = seeded(
            LinearConfig::new(self.dim, self.classes).init(&dev),
            self.run.seed,
            1,
        );
        let mut saved = saved;
        let head = Owned::begin(fresh, HEAD, &self.run, &mut saved, origin)?;
        if let Some(f) = saved.first() {
            return Err(Error::ckpt(
                origin,
                format!("it holds a strategy file ({}) smmix does not keep", f.name),
            ));
        }
        self.head = Some(head);
        Ok(())
    }

    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let (labels, classes) = batch_labels(input.data, input.idx)?;
        let plan = input.plan;
        let n = plan.len();
        // SMMix draws are placeholder pastes (their window side); the mixup draws mix as planned.
        let sides: Vec<Option<usize>> = plan
            .weights
            .iter()
            .map(|w| match w {
                SampleWeight::Paste { region } => Some(window_side(region, self.cfg.patch)),
                _ => None,
            })
            .collect();
        let rows: Vec<usize> = (0..n).filter(|&i| sides[i].is_some()).collect();
        let mut blend = plan.clone();
        for &i in &rows {
            blend.weights[i] = SampleWeight::Keep;
        }
        let mut x = mixlab_core::apply::apply_to_vec(&blend, &input.xb)?;
        let motivation = match rows.is_empty() {
            true => None,
            false => {
                // The motivation pass: eval mode, no gradients, the clean batch.
                let clean = batch_tensor(input.xb.clone(), &shape, &self.plain);
                let (z, importance) = model.valid().forward_image_importance(clean)?;
                let source = mix_tokens(
                    &mut x,
                    &input.xb,
                    &shape,
                    self.cfg.patch,
                    &to_f32(importance.into_data())?,
                    &plan.partner,
                    &sides,
                )?;
                Some((to_f32(z.into_data())?, source))
            }
        };
        let (out, tokens) = model.forward_image_tokens(batch_tensor(x, &shape, input.dev))?;
        let soft = plan.soft_targets(&labels, classes, cfg.mixer.label_smoothing)?;
        let t = Tensor::<2>::from_data(TensorData::new(soft, [n, classes]), input.dev);
        let pred = to_i64(out.clone().argmax(1).into_data())?;
        let hits = majority_hits(&plan, &labels, &pred);
        let mut loss = cfg.class_loss.eval(out.clone(), t);
        let weighted = self.cfg.fine > 0.0 || self.cfg.consistency > 0.0;
        if let (Some((clean, source)), true) = (motivation, weighted) {
            loss = loss
                + self.extra(
                    out, tokens, &clean, &source, &rows, &plan, &labels, input.dev,
                )?;
        }
        Ok((loss, Some(hits)))
    }

    fn own_step(&mut self, grads: &mut Gradients, lr: f64) -> Result<()> {
        if let Some(h) = &mut self.head {
            h.step(grads, lr);
        }
        Ok(())
    }

    fn state(&self) -> Result<Vec<AuxFile>> {
        match &self.head {
            Some(h) => h.files(),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{read_manifest, weights_to_bytes};
    use crate::config::RunOptions;
    use crate::models::VitConfig;
    use crate::optim::OptimizerConfig;
    use crate::records::{NoProgress, Outcome};
    use crate::strategy::test_util::*;
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::train;
    use mixlab_core::mixer::MixerConfig;
    use serde_json::Value;

    fn close(got: &[f32], want: &[f32], what: &str) {
        let scale = want.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        assert_eq!(got.len(), want.len(), "{what}");
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() < 2e-6 * scale, "{what}: {a} vs {b}");
        }
    }

    #[test]
    fn the_extra_losses_and_their_gradients_match_the_reference() {
        // tools/golden/smmix.py runs the SMMix branch's loss lines of the official engine.py.
        let fx: Value = serde_json::from_str(include_str!(
            "../../../mixlab-core/tests/fixtures/smmix_golden.json"
        ))
        .unwrap();
        let dev = Device::default().autodiff();
        for c in fx["losses"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let (n, k) = (
                c["n"].as_u64().unwrap() as usize,
                c["classes"].as_u64().unwrap() as usize,
            );
            let lam = c["lam"].as_f64().unwrap() as f32;
            let labels: Vec<usize> = c["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            // The reference pairs by flipping the batch.
            let partner: Vec<usize> = (0..n).rev().collect();
            let shape = mixlab_core::shape::SampleShape::d2(1, 2, 2).unwrap();
            let t = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [n, k]), &dev);
            let onehot = |ys: Vec<usize>| {
                t(MixPlan::identity(n, shape)
                    .soft_targets(&ys, k, 0.1)
                    .unwrap())
            };
            let clean = f32s(&c["clean"]);
            let mix: Vec<f32> = (0..n)
                .flat_map(|i| {
                    let (clean, j) = (&clean, partner[i]);
                    (0..k).map(move |q| lam * clean[i * k + q] + (1.0 - lam) * clean[j * k + q])
                })
                .collect();
            let mut plan = MixPlan::identity(n, shape);
            plan.partner.clone_from(&partner);
            plan.lam_label = vec![lam; n];
            let mixed = t(plan.soft_targets(&labels, k, 0.1).unwrap());
            let out = t(f32s(&c["outputs"])).require_grad();
            let target_out = t(f32s(&c["target_result"])).require_grad();
            let (fine, con) = extra_losses(
                out.clone(),
                target_out.clone(),
                t(f32s(&c["source_result"])),
                t(mix),
                onehot(labels.clone()),
                onehot(partner.iter().map(|&j| labels[j]).collect()),
                n,
            );
            let cls = soft_cross_entropy(out.clone(), mixed);
            let total = cls.clone() + fine.clone() + con.clone();
            let grads = total.backward();
            for (what, got, key) in [
                ("loss_cls", cls, "loss_cls"),
                ("loss_fine", fine, "loss_fine"),
                ("loss_con", con, "loss_con"),
                ("loss", total, "loss"),
            ] {
                let got: f32 = got.into_scalar();
                close(
                    &[got],
                    &[c[key].as_f64().unwrap() as f32],
                    &format!("{name} {what}"),
                );
            }
            let g = |x: &Tensor<2>| -> Vec<f32> {
                x.grad(&grads)
                    .unwrap()
                    .into_data()
                    .try_into_vec_as()
                    .unwrap()
            };
            close(
                &g(&out),
                &f32s(&c["grad_outputs"]),
                &format!("{name} d/d out"),
            );
            close(
                &g(&target_out),
                &f32s(&c["grad_target"]),
                &format!("{name} d/d target region"),
            );
        }
    }

    #[test]
    fn the_importance_tap_is_the_last_blocks_image_attention_mean() {
        let dev = Device::default();
        let shape = mixlab_core::shape::SampleShape::d2(1, 8, 8).unwrap();
        let model = vit().init(&shape, 4, 3, &dev).unwrap();
        let x = Tensor::<3>::from_data(
            TensorData::new(
                (0..3 * 64)
                    .map(|i| ((i * 37) % 11) as f32 / 5.0)
                    .collect::<Vec<_>>(),
                [3, 1, 64],
            ),
            &dev,
        );
        let (l1, imp) = model.forward_image_importance(x.clone()).unwrap();
        let (l2, blocks) = model.forward_block_attention(x.clone()).unwrap();
        let (l3, tokens) = model.forward_image_tokens(x).unwrap();
        let v = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_into_vec_as().unwrap() };
        let (l1, l2, l3) = (v(l1), v(l2), v(l3));
        assert_eq!(l1, l2);
        assert_eq!(l1, l3);
        assert_eq!(tokens.dims(), [3, 16, 16]);
        // Head mean of the last block (T = 17), then the mean over the 16 image queries of the image keys.
        let last: Vec<f32> = blocks
            .last()
            .unwrap()
            .clone()
            .into_data()
            .try_into_vec_as()
            .unwrap();
        let imp = v(imp);
        for s in 0..3 {
            for key in 0..16 {
                let want: f32 = (1..17)
                    .map(|q| last[(s * 17 + q) * 17 + 1 + key])
                    .sum::<f32>()
                    / 16.0;
                assert!((imp[s * 16 + key] - want).abs() < 1e-6);
            }
        }
    }

    fn vit() -> ModelConfig {
        ModelConfig::VitTiny(VitConfig {
            dim: 16,
            depth: 1,
            heads: 2,
            patch: 2,
            mlp_ratio: 2,
        })
    }

    fn cfg(c: SmmixConfig) -> TrainConfig {
        small_cfg()
            .with_model(vit())
            .with_optimizer(OptimizerConfig::adamw())
            .with_lr(1e-3)
            .with_epochs(3)
            .with_mixer(MixerConfig::single(MethodConfig::Smmix(c)))
    }

    fn smmix() -> SmmixConfig {
        SmmixConfig {
            patch: 2,
            ..Default::default()
        }
    }

    use mixlab_core::methods::MethodConfig;

    #[test]
    fn smmix_trains_its_token_head_and_resumes_it_bit_for_bit() {
        let data = toy_splits();
        let run = cfg(smmix());
        let tmp = tempfile::tempdir().unwrap();
        let fresh_head = seeded(
            LinearConfig::new(16, data.train.outputs()).init(&Device::default().autodiff()),
            run.seed,
            1,
        );
        let (full, resumed) = crate::checkpoint::tests::uninterrupted_and_resumed(
            &run,
            &data,
            2,
            tmp.path(),
            |dir| {
                let m = read_manifest(dir).unwrap().unwrap();
                assert_eq!(
                    m.aux,
                    [
                        "aux-token-head-e0002.safetensors",
                        "aux-token-head-optim-e0002.bpk"
                    ]
                );
                // The head was trained: its weights left their initial draw.
                let saved = std::fs::read(dir.join(&m.aux[0])).unwrap();
                assert_ne!(saved, weights_to_bytes(&fresh_head).unwrap());
            },
        );
        assert_eq!(resumed.final_metrics, full.final_metrics);
        assert_eq!(losses(&resumed), losses(&full));
        let again = train(&run, &data, &RunOptions::default(), &mut NoProgress).unwrap();
        let Outcome::Finished(again) = again else {
            panic!("stopped")
        };
        assert_eq!(again.final_metrics, full.final_metrics);
        // Without the extra losses (OpenMixup's port) the same draws train to other numbers.
        let plain = train(
            &cfg(SmmixConfig {
                fine: 0.0,
                consistency: 0.0,
                ..smmix()
            }),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap();
        let Outcome::Finished(plain) = plain else {
            panic!("stopped")
        };
        assert_ne!(losses(&plain), losses(&full));
    }

    #[test]
    fn smmix_refuses_models_and_grids_it_cannot_read() {
        let data = toy_splits();
        let opts = RunOptions::default();
        let e = |c: TrainConfig| {
            train(&c, &data, &opts, &mut NoProgress)
                .unwrap_err()
                .to_string()
        };
        let msg = e(cfg(smmix()).with_model(small_cfg().model));
        assert!(msg.contains("use --model vit-tiny"), "{msg}");
        let msg = e(cfg(SmmixConfig {
            patch: 1,
            ..Default::default()
        }));
        assert!(msg.contains("must equal the vit patch"), "{msg}");
    }
}
