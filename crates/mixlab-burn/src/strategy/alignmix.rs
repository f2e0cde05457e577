//! AlignMix (mixlab-core's `methods::alignmix`): per step, either input mixup with the plan or the plan's
//! λ and partners applied to the **last feature map** after aligning it to the partner's by Sinkhorn. The
//! plan is computed on the host from the features' values (detached, as the reference's `.detach()`),
//! and the mix itself runs on the device, so gradients flow into both images' features:
//! `λ·A + (1 − λ)·A'Rᵀ` or `λ·AR + (1 − λ)·A'`. The loss is the run's class loss against the plan's soft
//! targets, as for mixup. A sample the plan keeps (the mixer's `prob` < 1) keeps its own features.

use super::{StepInput, Strategy, batch_labels, forward_planned, majority_hits, to_i64};
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::Model;
use burn::prelude::*;
use mixlab_core::methods::AlignmixConfig;
use mixlab_core::methods::alignmix::AlignDirection;
use mixlab_core::plan::{MixPlan, SampleWeight};
use rand::rngs::ChaCha8Rng;

pub(crate) struct Alignmix {
    pub cfg: AlignmixConfig,
}

/// The aligned mix of features `f` (N×C×S) under the plan, on `f`'s device.
pub(crate) fn align(
    cfg: &AlignmixConfig,
    f: Tensor<3>,
    plan: &MixPlan,
    direction: AlignDirection,
) -> Result<Tensor<3>> {
    let [n, c, s] = f.dims();
    let dev = f.device();
    let host: Vec<f32> = f
        .clone()
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| Error::Data(format!("{e:?}")))?;
    let (assign, _) = cfg.assignments(&host, n, c, s, &plan.partner)?;
    let mut lam = Vec::with_capacity(n);
    let mut keep = Vec::with_capacity(n);
    for w in &plan.weights {
        let (l, k) = match w {
            SampleWeight::Keep => (1.0f32, 1.0f32),
            SampleWeight::Blend { lam } => (*lam, 0.0),
            other => {
                return Err(Error::Incompatible(format!(
                    "alignmix blends feature maps with one λ per sample; the plan has {other:?}"
                )));
            }
        };
        lam.push(l);
        keep.push(k);
    }
    let r = Tensor::<3>::from_data(TensorData::new(assign, [n, s, s]), &dev);
    let lam = Tensor::<3>::from_data(TensorData::new(lam, [n, 1, 1]), &dev);
    let keep = Tensor::<3>::from_data(TensorData::new(keep, [n, 1, 1]), &dev);
    let partner: Vec<i64> = plan.partner.iter().map(|&j| j as i64).collect();
    let b = f.clone().select(
        0,
        Tensor::<1, Int>::from_data(TensorData::new(partner, [n]), &dev),
    );
    let rest = lam.clone().neg().add_scalar(1.0);
    let mixed = match direction {
        AlignDirection::PartnerToSample => f.clone() * lam + b.matmul(r.swap_dims(1, 2)) * rest,
        AlignDirection::SampleToPartner => f.clone().matmul(r) * lam + b * rest,
    };
    Ok(mixed * keep.clone().neg().add_scalar(1.0) + f * keep)
}

impl Strategy for Alignmix {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let (labels, classes) = batch_labels(input.data, input.idx)?;
        let n = labels.len();
        let plan = &input.plan;
        let soft = plan.soft_targets(&labels, classes, cfg.mixer.label_smoothing)?;
        let t = Tensor::<2>::from_data(TensorData::new(soft, [n, classes]), input.dev);
        let x = batch_tensor(input.xb, &input.data.train.shape, input.dev);
        let out = if self.cfg.draw_input_branch(rng) {
            forward_planned(model, x, plan, 0)?
        } else {
            let direction = AlignmixConfig::draw_direction(rng);
            let last = model.num_mix_points() - 1;
            model.forward_mixed(x, last, |f| align(&self.cfg, f, plan, direction))?
        };
        let pred = to_i64(out.clone().argmax(1).into_data())?;
        let hits = majority_hits(plan, &labels, &pred);
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may unwrap")]
    use super::*;
    use mixlab_core::methods::Method;

    #[test]
    fn the_device_mix_is_the_host_mix_and_kept_samples_keep_their_features() {
        let dev = Device::flex();
        let (n, c, s) = (3, 4, 6);
        let host: Vec<f32> = (0..n * c * s)
            .map(|i| ((i * 13) % 7) as f32 * 0.5 - 1.0)
            .collect();
        let plan = MixPlan {
            shape: mixlab_core::shape::SampleShape::d2(c, 2, 3).unwrap(),
            method: vec![Method::Alignmix, Method::None, Method::Alignmix],
            partner: vec![2, 0, 1],
            weights: vec![
                SampleWeight::Blend { lam: 0.3 },
                SampleWeight::Keep,
                SampleWeight::Blend { lam: 0.8 },
            ],
            lam_label: vec![0.3, 1.0, 0.8],
        };
        let cfg = AlignmixConfig::default();
        let (assign, _) = cfg.assignments(&host, n, c, s, &plan.partner).unwrap();
        for dir in [
            AlignDirection::PartnerToSample,
            AlignDirection::SampleToPartner,
        ] {
            let f = Tensor::<3>::from_data(TensorData::new(host.clone(), [n, c, s]), &dev);
            let got: Vec<f32> = align(&cfg, f, &plan, dir)
                .unwrap()
                .into_data()
                .try_into_vec_as::<f32>()
                .unwrap();
            let want = AlignmixConfig::mix_host(
                &host,
                [n, c, s],
                &plan.partner,
                &assign,
                &[0.3, 1.0, 0.8],
                dir,
            );
            for i in [0, 2] {
                for k in i * c * s..(i + 1) * c * s {
                    assert!(
                        (got[k] - want[k]).abs() < 1e-5,
                        "{dir:?} sample {i}: {} vs {}",
                        got[k],
                        want[k]
                    );
                }
            }
            assert_eq!(
                &got[c * s..2 * c * s],
                &host[c * s..2 * c * s],
                "the kept sample"
            );
        }
    }
}
