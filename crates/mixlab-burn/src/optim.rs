//! Optimisers (SGD with momentum/Nesterov/weight decay as PyTorch does it, AdamW) and the learning-rate
//! schedule, a pure function of the global step so a resumed run sees exactly the same rates.

use crate::error::{Error, Result};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// The optimiser and its own hyper-parameters (the learning rate and weight decay live in the run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OptimizerConfig {
    /// SGD; momentum 0 disables it. Dampening is 0 as in PyTorch (Burn's default is 0.1); weight decay
    /// is L2 added to the gradient before momentum, as `torch.optim.SGD` does.
    Sgd {
        /// Momentum factor in [0, 1) (0.9 in the default config).
        momentum: f64,
        /// Nesterov momentum (needs momentum > 0; off in the default config).
        nesterov: bool,
    },
    /// AdamW with decoupled weight decay; eps defaults to PyTorch's 1e-8 (Burn's is 1e-5).
    AdamW {
        /// Decay rate of the first-moment estimate, in [0, 1) (0.9 in [`OptimizerConfig::adamw`]).
        beta1: f32,
        /// Decay rate of the second-moment estimate, in [0, 1) (0.999 in [`OptimizerConfig::adamw`]).
        beta2: f32,
        /// Term added to the denominator for stability (> 0; 1e-8 in [`OptimizerConfig::adamw`]).
        eps: f32,
    },
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::Sgd {
            momentum: 0.9,
            nesterov: false,
        }
    }
}

impl OptimizerConfig {
    /// AdamW with PyTorch's defaults (0.9, 0.999, 1e-8).
    pub fn adamw() -> Self {
        OptimizerConfig::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// Checks the hyper-parameters.
    pub fn validate(&self) -> Result<()> {
        match *self {
            OptimizerConfig::Sgd { momentum, nesterov } => {
                if !(momentum.is_finite() && (0.0..1.0).contains(&momentum)) {
                    return Err(Error::param("sgd momentum", "in [0, 1)", momentum));
                }
                if nesterov && momentum == 0.0 {
                    return Err(Error::Incompatible(
                        "nesterov needs a momentum > 0 (as in PyTorch)".into(),
                    ));
                }
            }
            OptimizerConfig::AdamW { beta1, beta2, eps } => {
                for (name, b) in [("adamw beta1", beta1), ("adamw beta2", beta2)] {
                    if !(b.is_finite() && (0.0..1.0).contains(&b)) {
                        return Err(Error::param(name, "in [0, 1)", b));
                    }
                }
                if !(eps.is_finite() && eps > 0.0) {
                    return Err(Error::param("adamw eps", "> 0", eps));
                }
            }
        }
        Ok(())
    }

    /// Builds the Burn optimiser with the given weight decay.
    pub fn build(&self, weight_decay: f64) -> ModuleOptimizer {
        let wd = (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay as f32));
        match *self {
            OptimizerConfig::Sgd { momentum, nesterov } => {
                let m = (momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(0.0)
                        .with_nesterov(nesterov)
                });
                SgdConfig::new()
                    .with_momentum(m)
                    .with_weight_decay(wd)
                    .init()
            }
            OptimizerConfig::AdamW { beta1, beta2, eps } => AdamWConfig::new()
                .with_beta_1(beta1)
                .with_beta_2(beta2)
                .with_epsilon(eps)
                .with_weight_decay(weight_decay as f32)
                .init(),
        }
    }
}

/// When the learning rate moves: after every optimiser step, or once per epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SchedulePer {
    /// Every step (timm's `t_in_epochs=False`; mixlab's default).
    #[default]
    Step,
    /// Once per epoch, constant within it (mmcv / OpenMixup `by_epoch=True`, PyTorch's
    /// `CosineAnnealingLR` stepped per epoch as in the common CIFAR code); warm-up also counts epochs.
    Epoch,
}

/// Shape of the learning-rate curve after warm-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Schedule {
    /// The base rate throughout.
    Constant,
    /// Cosine from the base rate to 0 over the steps after warm-up (per step, like timm's `t_in_epochs=False`).
    #[default]
    Cosine,
    /// Multiply by `gamma` at each milestone epoch (PyTorch `MultiStepLR`).
    Step {
        /// Epochs (0-based) at whose start the rate is multiplied by `gamma` again; counted in epochs also
        /// when the schedule advances per step.
        milestones: Vec<usize>,
        /// The factor per milestone passed (finite, > 0).
        gamma: f64,
    },
}

impl Schedule {
    /// Checks the schedule.
    pub fn validate(&self) -> Result<()> {
        if let Schedule::Step { gamma, .. } = self
            && !(gamma.is_finite() && *gamma > 0.0)
        {
            return Err(Error::param("step schedule gamma", "> 0", gamma));
        }
        Ok(())
    }

    /// Learning rate at global step `step` (0-based) of `total` steps, with `warmup` linear warm-up
    /// steps (rate `base·(step+1)/warmup`) and `per_epoch` steps per epoch (for milestones).
    pub fn lr_at(
        &self,
        base: f64,
        step: usize,
        total: usize,
        warmup: usize,
        per_epoch: usize,
    ) -> f64 {
        if step < warmup {
            return base * (step + 1) as f64 / warmup as f64;
        }
        match self {
            Schedule::Constant => base,
            Schedule::Cosine => {
                let span = total.saturating_sub(warmup).max(1) as f64;
                let t = ((step - warmup) as f64 / span).min(1.0);
                base * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
            Schedule::Step { milestones, gamma } => {
                let epoch = step / per_epoch.max(1);
                let passed = milestones.iter().filter(|&&m| epoch >= m).count();
                base * gamma.powi(passed as i32)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_by_hand() {
        let cos = Schedule::Cosine;
        // 2 warm-up steps: 0.05, 0.1; then cosine over 8 steps: step 2 → 0.1, step 6 → 0.05, step 10 → 0.
        assert!((cos.lr_at(0.1, 0, 10, 2, 5) - 0.05).abs() < 1e-12);
        assert!((cos.lr_at(0.1, 1, 10, 2, 5) - 0.1).abs() < 1e-12);
        assert!((cos.lr_at(0.1, 2, 10, 2, 5) - 0.1).abs() < 1e-12);
        assert!((cos.lr_at(0.1, 6, 10, 2, 5) - 0.05).abs() < 1e-12);
        assert!(cos.lr_at(0.1, 10, 10, 2, 5).abs() < 1e-12);
        let st = Schedule::Step {
            milestones: vec![2, 4],
            gamma: 0.1,
        };
        // 5 steps per epoch: epoch 1 → base, epoch 2 → 0.1·base, epoch 4 → 0.01·base.
        assert!((st.lr_at(1.0, 9, 100, 0, 5) - 1.0).abs() < 1e-12);
        assert!((st.lr_at(1.0, 10, 100, 0, 5) - 0.1).abs() < 1e-12);
        assert!((st.lr_at(1.0, 20, 100, 0, 5) - 0.01).abs() < 1e-12);
        assert_eq!(Schedule::Constant.lr_at(0.3, 50, 100, 0, 5), 0.3);
        assert!(
            Schedule::Step {
                milestones: vec![],
                gamma: 0.0
            }
            .validate()
            .is_err()
        );
        assert!(
            OptimizerConfig::Sgd {
                momentum: 0.0,
                nesterov: true
            }
            .validate()
            .is_err()
        );
        assert!(OptimizerConfig::adamw().validate().is_ok());
    }
}
