//! Input-gradient saliency, `s = sqrt(mean_c (∂L/∂x)²)` with L the batch-mean cross-entropy against the
//! hard labels (PuzzleMix's `main.py: train`, GuidedMix's AP variant): one extra forward and backward of
//! the model on the clean batch. The gradients it leaves on the weights are dropped.
//!
//! The references run this pass in eval mode. Burn 0.22 chooses BatchNorm's mode from the device (an
//! autodiff device always normalises by batch statistics and updates the running ones), so the pass sees
//! batch statistics (the deviation) but leaves the running statistics exactly as they were: they are
//! read, synchronised, before the pass and written back after it, so a run's BatchNorm state is the one
//! the training forwards alone produce.

use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::Model;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use mixlab_core::shape::SampleShape;

/// Saliency maps of a host batch (N×C×spatial) on the autodiff device `dev`: N×spatial values.
pub(crate) fn input_saliency(
    model: &Model,
    xb: &[f32],
    shape: &SampleShape,
    labels: &[usize],
    classes: usize,
    dev: &Device,
) -> Result<Vec<f32>> {
    let n = labels.len();
    let bns = model.batch_norms();
    let kept: Vec<_> = bns
        .iter()
        .map(|bn| (bn.running_mean.value_sync(), bn.running_var.value_sync()))
        .collect();
    let x = batch_tensor(xb.to_vec(), shape, dev).require_grad();
    let logits = model.forward(x.clone())?;
    let mut onehot = vec![0f32; n * classes];
    for (i, &y) in labels.iter().enumerate() {
        onehot[i * classes + y] = 1.0;
    }
    let t = Tensor::<2>::from_data(TensorData::new(onehot, [n, classes]), dev);
    let loss = (t * log_softmax(logits, 1))
        .sum()
        .neg()
        .div_scalar(n as f64);
    let grads = loss.backward();
    let g = x.grad(&grads).ok_or_else(|| {
        Error::Incompatible("the saliency pass produced no input gradient".into())
    })?;
    // The pass's own update is pending on this thread; the next update merges it, then ours replaces it.
    for (bn, (mean, var)) in bns.iter().zip(kept) {
        bn.running_mean.update(mean);
        bn.running_var.update(var);
    }
    let s = g.powf_scalar(2.0).mean_dim(1).sqrt();
    s.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Data(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Cnn1dConfig, ModelConfig};

    fn stats(model: &Model) -> Vec<Vec<f32>> {
        model
            .batch_norms()
            .iter()
            .flat_map(|bn| [bn.running_mean.value_sync(), bn.running_var.value_sync()])
            .map(|t| t.into_data().try_to_vec::<f32>().unwrap())
            .collect()
    }

    #[test]
    fn the_pass_leaves_batchnorm_statistics_as_they_were_and_gives_input_gradients() {
        let dev = Device::flex().autodiff();
        let shape = SampleShape::d1(1, 16).unwrap();
        let model = ModelConfig::Cnn1d(Cnn1dConfig {
            channels: vec![4, 4],
            first_kernel: 3,
            first_stride: 1,
        })
        .init(&shape, 3, 1, &dev)
        .unwrap();
        let x: Vec<f32> = (0..8 * 16)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0)
            .collect();
        let labels = [0, 1, 2, 0, 1, 2, 0, 1];
        // A training forward leaves its update pending, as a step does.
        let _ = model
            .forward(batch_tensor(x.clone(), &shape, &dev))
            .unwrap();
        let before = stats(&model);
        let s = input_saliency(&model, &x, &shape, &labels, 3, &dev).unwrap();
        assert_eq!(s.len(), 8 * 16);
        assert!(s.iter().all(|v| v.is_finite() && *v >= 0.0) && s.iter().any(|&v| v > 0.0));
        assert_eq!(stats(&model), before);
        // Without the restore the same forward would have moved them.
        let _ = model.forward(batch_tensor(x, &shape, &dev)).unwrap();
        assert_ne!(stats(&model), before);
    }
}
