//! Knowledge distillation on mixed inputs: a finished run's model (the teacher, on the plain device, no
//! gradients) sees exactly the student's mixed batch; its softened outputs are the targets, optionally
//! blended with the mixed-label loss.

use super::{StepInput, Strategy, batch_labels, majority_hits, to_i64};
use crate::checkpoint;
use crate::config::KdConfig;
use crate::data::Splits;
use crate::engine::{batch_tensor, to_f32};
use crate::error::Result;
use crate::models::Model;
use burn::prelude::*;
use mixlab_core::calib;
use rand::rngs::ChaCha8Rng;

/// The teacher and the distillation settings.
pub(crate) struct Distill {
    teacher: Model,
    kd: KdConfig,
    plain: Device,
}

impl Distill {
    /// Loads the teacher from its checkpoint (it must fit the run's input shape and classes).
    pub(crate) fn new(kd: &KdConfig, data: &Splits, plain: &Device) -> Result<Self> {
        let (teacher, _) =
            checkpoint::load_teacher(&kd.teacher, &data.train.shape, data.train.outputs(), plain)?;
        Ok(Self {
            teacher,
            kd: kd.clone(),
            plain: plain.clone(),
        })
    }
}

impl Strategy for Distill {
    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        _rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let (yb, classes) = batch_labels(input.data, input.idx)?;
        let b = input.idx.len();
        let cfg = input.cfg;
        let shape = input.data.train.shape;
        let soft = input
            .plan
            .soft_targets(&yb, classes, cfg.mixer.label_smoothing)?;
        let t = Tensor::<2>::from_data(TensorData::new(soft, [b, classes]), input.dev);
        // The teacher must see exactly the student's (mixed) inputs: mix once on the host.
        let mixed = mixlab_core::apply::apply_to_vec(&input.plan, &input.xb)?;
        let tx = batch_tensor(mixed.clone(), &shape, &self.plain);
        let tl = to_f32(self.teacher.forward(tx)?.into_data())?;
        let soft_t = calib::softmax(&tl, classes, self.kd.temperature)?;
        let out = model.forward(batch_tensor(mixed, &shape, input.dev))?;
        let tt = Tensor::<2>::from_data(TensorData::new(soft_t, [b, classes]), input.dev);
        let pred: Vec<i64> = to_i64(out.clone().argmax(1).into_data())?;
        let hits = majority_hits(&input.plan, &yb, &pred);
        let distil = crate::loss::distillation(out.clone(), tt, self.kd.temperature);
        let loss = if self.kd.weight >= 1.0 {
            distil
        } else {
            distil.mul_scalar(self.kd.weight)
                + cfg.class_loss.eval(out, t).mul_scalar(1.0 - self.kd.weight)
        };
        Ok((loss, Some(hits)))
    }
}
