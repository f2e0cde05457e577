//! MixPro (mixlab-core's `methods::mixpro`): the plan's MaskMix patches are applied, the model's forward
//! on the mixed batch gives the logits and the last block's class-token attention, and with PAL on each
//! mixed sample's own-label weight becomes `λ = sim·lam_attn + (1 − sim)·mask_ratio`, `sim` the cosine
//! between the smoothed area targets and the prediction. The loss is the reference's
//! `mean(λ·CE(out, y) + (1 − λ)·CE(out, y_perm))` with hard labels and λ **not** detached, as the
//! official code; it is cross-entropy whatever `class_loss` says (refused with BCE).

use super::{StepInput, Strategy, batch_labels, majority_hits, to_i64};
use crate::engine::{batch_tensor, to_f32};
use crate::error::{Error, Result};
use crate::loss::soft_cross_entropy;
use crate::models::{Model, ModelConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use mixlab_core::methods::MixproConfig;
use mixlab_core::methods::mixpro::attention_share;
use mixlab_core::plan::SampleWeight;
use rand::rngs::ChaCha8Rng;

pub(crate) struct Mixpro {
    cfg: MixproConfig,
    /// Side of the ViT's square patches: the token grid is the image over it.
    patch: usize,
}

impl Mixpro {
    pub(crate) fn new(cfg: &MixproConfig, model: &ModelConfig) -> Result<Self> {
        match model {
            ModelConfig::VitTiny(v) => Ok(Self {
                cfg: cfg.clone(),
                patch: v.patch,
            }),
            other => Err(Error::Incompatible(format!(
                "mixpro labels by a vision transformer's class-token attention: use --model vit-tiny, not {}",
                other.name()
            ))),
        }
    }
}

/// One-hot rows of `labels` (n × classes) on `dev`.
fn one_hot(labels: &[usize], classes: usize, dev: &Device) -> Tensor<2> {
    let mut v = vec![0f32; labels.len() * classes];
    for (i, &y) in labels.iter().enumerate() {
        v[i * classes + y] = 1.0;
    }
    Tensor::from_data(TensorData::new(v, [labels.len(), classes]), dev)
}

/// PAL's loss on `out` (n × classes): `λ = sim·share + (1 − sim)·ratio` per sample with
/// `sim = cos(area, softmax(out))`, then soft-target cross-entropy against `λ·e_y + (1 − λ)·e_{y_partner}`.
/// Gradient flows through `sim` as well as the log-probabilities.
pub(crate) fn pal_loss(
    out: Tensor<2>,
    area: Tensor<2>,
    share: &[f32],
    ratio: &[f32],
    labels: &[usize],
    partner_labels: &[usize],
) -> Tensor<1> {
    let [n, classes] = out.dims();
    let dev = out.device();
    let p = softmax(out.clone(), 1);
    let dot = (area.clone() * p.clone()).sum_dim(1);
    let norms = p.powi_scalar(2).sum_dim(1).sqrt() * area.powi_scalar(2).sum_dim(1).sqrt();
    let sim = dot / norms;
    let col = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [n, 1]), &dev);
    let (share, ratio) = (col(share), col(ratio));
    let lam = sim * (share - ratio.clone()) + ratio;
    let targets = one_hot(labels, classes, &dev) * lam.clone()
        + one_hot(partner_labels, classes, &dev) * lam.neg().add_scalar(1.0);
    soft_cross_entropy(out, targets)
}

impl Strategy for Mixpro {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let (labels, classes) = batch_labels(input.data, input.idx)?;
        let n = labels.len();
        let plan = &input.plan;
        let mixed = mixlab_core::apply::apply_to_vec(plan, &input.xb)?;
        let (out, attn) = model.forward_with_attention(batch_tensor(mixed, &shape, input.dev))?;
        let area = plan.soft_targets(&labels, classes, cfg.mixer.label_smoothing)?;
        let area = Tensor::<2>::from_data(TensorData::new(area, [n, classes]), input.dev);
        let pred = to_i64(out.clone().argmax(1).into_data())?;
        let hits = majority_hits(plan, &labels, &pred);
        let mixed_any = plan
            .weights
            .iter()
            .any(|w| !matches!(w, SampleWeight::Keep));
        if !self.cfg.pal || !mixed_any {
            return Ok((cfg.class_loss.eval(out, area), Some(hits)));
        }
        let [h, w] = [shape.dims[1], shape.dims[2]];
        let share = attention_share(
            &to_f32(attn.into_data())?,
            [h / self.patch, w / self.patch],
            [h, w],
            &plan.weights,
        )?;
        let partner_labels: Vec<usize> = plan.partner.iter().map(|&j| labels[j]).collect();
        let loss = pal_loss(out, area, &share, &plan.lam_label, &labels, &partner_labels);
        Ok((loss, Some(hits)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunOptions;
    use crate::models::VitConfig;
    use crate::records::{NoProgress, Outcome};
    use crate::strategy::test_util::*;
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::{TrainResult, train};
    use mixlab_core::methods::{MaskmixConfig, MethodConfig};
    use mixlab_core::mixer::MixerConfig;
    use serde_json::Value;

    #[test]
    fn pal_loss_and_its_gradient_match_the_reference() {
        // tools/golden/mixpro.py: the official PAL lines on recorded masks, logits and attention; the
        // gradient reaches the logits through λ too (the reference does not detach softmax in `sim`).
        let fx: Value = serde_json::from_str(include_str!(
            "../../../mixlab-core/tests/fixtures/mixpro_golden.json"
        ))
        .unwrap();
        let dev = Device::default().autodiff();
        for c in fx["cases"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let (n, k) = (
                c["n"].as_u64().unwrap() as usize,
                c["classes"].as_u64().unwrap() as usize,
            );
            let labels = usizes(&c["labels"]);
            let partner: Vec<usize> = usizes(&c["perm"]).iter().map(|&j| labels[j]).collect();
            let out = Tensor::<2>::from_data(TensorData::new(f32s(&c["outputs"]), [n, k]), &dev)
                .require_grad();
            let area =
                Tensor::<2>::from_data(TensorData::new(f32s(&c["mix_targets"]), [n, k]), &dev);
            let loss = pal_loss(
                out.clone(),
                area,
                &f32s(&c["lam_attn"]),
                &f32s(&c["mask_ratio"]),
                &labels,
                &partner,
            );
            let grads = loss.backward();
            let got: f32 = loss.into_scalar();
            let want = c["loss"].as_f64().unwrap() as f32;
            assert!(
                (got - want).abs() < 1e-5 * want.abs().max(1.0),
                "{name}: loss {got} vs {want}"
            );
            let g: Vec<f32> = out
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_into_vec_as()
                .unwrap();
            let want_g = f32s(&c["grad"]);
            let scale = want_g.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (a, b) in g.iter().zip(&want_g) {
                assert!((a - b).abs() < 1e-5 * scale, "{name}: gradient {a} vs {b}");
            }
        }
    }

    fn run(method: MethodConfig) -> crate::error::Result<TrainResult> {
        let cfg = small_cfg()
            .with_model(ModelConfig::VitTiny(VitConfig {
                dim: 16,
                depth: 1,
                heads: 2,
                patch: 2,
                mlp_ratio: 2,
            }))
            .with_epochs(2)
            .with_mixer(MixerConfig::single(method));
        match train(&cfg, &toy_splits(), &RunOptions::default(), &mut NoProgress)? {
            Outcome::Finished(r) => Ok(*r),
            Outcome::Stopped { .. } => panic!("stopped"),
        }
    }

    #[test]
    fn pal_trains_deterministically_and_off_it_is_maskmix() {
        let pal = || run(MethodConfig::Mixpro(MixproConfig::default())).unwrap();
        let (a, b) = (pal(), pal());
        assert_eq!(a.final_metrics, b.final_metrics);
        let losses = |r: &TrainResult| -> Vec<u64> {
            r.curve.iter().map(|e| e.train_loss.to_bits()).collect()
        };
        let off = run(MethodConfig::Mixpro(MixproConfig {
            pal: false,
            ..Default::default()
        }))
        .unwrap();
        let maskmix = run(MethodConfig::Maskmix(MaskmixConfig::default())).unwrap();
        assert_eq!(losses(&off), losses(&maskmix), "PAL off is MaskMix");
        assert_ne!(losses(&a), losses(&off), "PAL changes the labels");
    }
}
