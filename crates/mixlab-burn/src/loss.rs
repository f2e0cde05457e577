//! Losses on mixed targets: soft-target cross-entropy, BCE-with-logits on soft targets (timm's
//! `BinaryCrossEntropy`, mean over every element), and MSE / L1 for mixed regression targets.

use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu};
use serde::{Deserialize, Serialize};

/// Which loss a classification run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ClassLoss {
    /// `−Σ_c t_c log softmax(z)_c`, mean over the batch.
    #[default]
    SoftCe,
    /// Binary cross-entropy with logits against the soft targets, mean over N×K (timm).
    Bce,
}

/// Which loss a regression run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RegLoss {
    /// Mean squared error.
    #[default]
    Mse,
    /// Mean absolute error.
    L1,
}

/// Soft-target cross-entropy, mean over the batch.
pub fn soft_cross_entropy(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let n = logits.dims()[0] as f64;
    (targets * log_softmax(logits, 1)).sum().neg().div_scalar(n)
}

/// BCE with logits, `max(z, 0) − z·t + log(1 + e^{−|z|})` (the stable form), mean over all elements.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let softplus_neg_abs = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (relu(logits.clone()) - logits * targets + softplus_neg_abs).mean()
}

/// Mean squared error over all elements.
pub fn mse(pred: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    let d = pred - target;
    (d.clone() * d).mean()
}

/// Mean absolute error over all elements.
pub fn l1(pred: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    (pred - target).abs().mean()
}

impl ClassLoss {
    /// Evaluates the loss.
    pub fn eval(self, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        match self {
            ClassLoss::SoftCe => soft_cross_entropy(logits, targets),
            ClassLoss::Bce => bce_with_logits(logits, targets),
        }
    }
}

impl RegLoss {
    /// Evaluates the loss.
    pub fn eval(self, pred: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
        match self {
            RegLoss::Mse => mse(pred, target),
            RegLoss::L1 => l1(pred, target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: Vec<f32>, shape: [usize; 2]) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v, shape), &Device::flex())
    }

    #[test]
    fn losses_match_hand_numbers() {
        // logits [0, ln 3] → softmax [.25, .75]; target [.5, .5]: CE = −(.5 ln .25 + .5 ln .75) = 0.836988
        let ce: f32 =
            soft_cross_entropy(t(vec![0.0, 3f32.ln()], [1, 2]), t(vec![0.5, 0.5], [1, 2]))
                .into_scalar();
        assert!((ce - 0.836_988).abs() < 1e-5, "{ce}");
        // BCE: z = 0 → ln 2 for any t; z = 2, t = 1 → ln(1 + e^-2) = 0.126928. Mean = 0.410038
        let b: f32 =
            bce_with_logits(t(vec![0.0, 2.0], [1, 2]), t(vec![0.3, 1.0], [1, 2])).into_scalar();
        assert!((b - 0.410_038).abs() < 1e-5, "{b}");
        let m: f32 = mse(t(vec![1.0, 3.0], [2, 1]), t(vec![0.0, 1.0], [2, 1])).into_scalar();
        assert!((m - 2.5).abs() < 1e-6);
        let a: f32 = l1(t(vec![1.0, 3.0], [2, 1]), t(vec![0.0, 1.0], [2, 1])).into_scalar();
        assert!((a - 1.5).abs() < 1e-6);
    }
}
