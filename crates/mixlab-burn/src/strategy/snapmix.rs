//! SnapMix (mixlab-core's `methods::snapmix`): the model in the loop through its class activation maps.
//! A no-grad pass of the training model on the clean batch (train mode, as the reference: BatchNorm
//! uses batch statistics) gives the last feature map and the head; the core forms the percent maps,
//! pastes the partner's box and returns two label weights per sample, which need not sum to 1. The loss
//! is the run's class loss against `λ_a·e_{y_a} + λ_b·e_{y_b}` (label smoothing applied to each one-hot,
//! as timm), i.e. the reference's `mean(λ_a·CE(y_a) + λ_b·CE(y_b))` for soft-target cross-entropy.

use super::{StepInput, Strategy, batch_labels, to_i64};
use crate::engine::{batch_tensor, to_f32};
use crate::error::Result;
use crate::models::Model;
use burn::prelude::*;
use mixlab_core::methods::SnapmixConfig;
use mixlab_core::methods::snapmix::{class_activation_maps, percent_maps};
use mixlab_core::plan::SampleWeight;
use rand::rngs::ChaCha8Rng;

pub(crate) struct Snapmix {
    pub cfg: SnapmixConfig,
}

/// Each image's percent map at its own label (image-sized, `None` where the CAM is flat: 0/0) from
/// `model`'s class activation maps on the batch `x` (SnapMix; TokenMix's label maps).
pub(crate) fn own_class_percent_maps(
    model: &Model,
    x: Tensor<3>,
    labels: &[usize],
    classes: usize,
    image: [usize; 2],
) -> Result<Vec<Option<Vec<f64>>>> {
    let n = labels.len();
    let (fm, weight, bias) = model.cam_inputs(x)?;
    let [_, c, h, w] = fm.dims();
    let bias = match bias {
        Some(b) => to_f32(b.into_data())?,
        None => vec![0.0; classes],
    };
    let cams = class_activation_maps(
        &to_f32(fm.into_data())?,
        [n, c, h, w],
        &to_f32(weight.into_data())?,
        &bias,
        labels,
    )?;
    Ok(percent_maps(&cams, n, h, w, image[0], image[1]))
}

impl Strategy for Snapmix {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let (labels, classes) = batch_labels(input.data, input.idx)?;
        let n = labels.len();
        let plan = &input.plan;
        let (mut xb, mut lam_a, mut lam_b) = (input.xb.clone(), vec![1.0f32; n], vec![0.0f32; n]);
        // The batch's λ is the first mixed sample's (the plan's draw, one per batch by default).
        let mixed_lam = plan
            .weights
            .iter()
            .zip(&plan.lam_label)
            .find(|(w, _)| !matches!(w, SampleWeight::Keep))
            .map(|(_, &l)| f64::from(l));
        if let Some(lam) = mixed_lam {
            let x = batch_tensor(input.xb.clone(), &shape, input.dev);
            let image = [shape.dims[1], shape.dims[2]];
            let maps = own_class_percent_maps(model, x, &labels, classes, image)?;
            let draw = self.cfg.draw_boxes(&shape, lam, rng)?;
            let batch = self
                .cfg
                .mix(&input.xb, &shape, &maps, &plan.partner, &labels, &draw)?;
            let per = shape.sample_len();
            xb = batch.mixed;
            lam_a = batch.lam_a;
            lam_b = batch.lam_b;
            for (i, w) in plan.weights.iter().enumerate() {
                if matches!(w, SampleWeight::Keep) {
                    xb[i * per..(i + 1) * per].copy_from_slice(&input.xb[i * per..(i + 1) * per]);
                    (lam_a[i], lam_b[i]) = (1.0, 0.0);
                }
            }
        }
        let s = cfg.mixer.label_smoothing;
        let (off, on) = (s / classes as f32, 1.0 - s + s / classes as f32);
        let mut soft = vec![0.0f32; n * classes];
        for i in 0..n {
            let row = &mut soft[i * classes..(i + 1) * classes];
            for (k, v) in row.iter_mut().enumerate() {
                let a = if k == labels[i] { on } else { off };
                let b = if k == labels[plan.partner[i]] {
                    on
                } else {
                    off
                };
                *v = lam_a[i] * a + lam_b[i] * b;
            }
        }
        let t = Tensor::<2>::from_data(TensorData::new(soft, [n, classes]), input.dev);
        let out = model.forward(batch_tensor(xb, &shape, input.dev))?;
        let pred = to_i64(out.clone().argmax(1).into_data())?;
        let hits = (0..n)
            .filter(|&i| {
                let y = if lam_a[i] >= lam_b[i] {
                    labels[i]
                } else {
                    labels[plan.partner[i]]
                };
                pred[i] == y as i64
            })
            .count();
        Ok((cfg.class_loss.eval(out, t), Some(hits)))
    }
}
