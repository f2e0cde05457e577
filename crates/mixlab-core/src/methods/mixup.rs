//! MixUp (Zhang et al., ICLR'18): `x = λ·x_i + (1 − λ)·x_j`, λ ~ Beta(α, α), labels mixed alike.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::error::Result;
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// MixUp hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixupConfig {
    /// Beta concentration α (default 1.0, timm's `mixup_alpha`, torchvision's `alpha`).
    pub alpha: f64,
}

impl Default for MixupConfig {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

impl MixupConfig {
    /// Sets α.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
}

impl MixMethod for MixupConfig {
    const NAME: &'static str = "mixup";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let lam = sample_beta(self.alpha, self.alpha, rng)? as f32;
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}
