//! DualMix (Fan et al., arXiv 2303.07864) for online class-incremental learning with experience replay:
//! **EnMix** mixes augmented samples and their labels together, and **AdpMix** mixes old-class (replayed)
//! samples with new-class (stream) samples, with the label ratio adjusted for the imbalance between them
//! ([`crate::continual::adpmix_label_share`]). No code was released and only the abstract could be read
//! here, so every formula is our reading of it, written down in mixlab-burn's `continual` module (what
//! is mixed with what, λ's distribution, how the three losses are summed). `dualmix` with both parts off
//! is not allowed (that is ER: `none`).

use super::{Draw, DrawCtx, MixMethod, check_alpha};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// DualMix's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DualmixConfig {
    /// Train on EnMix's mixed augmented batch (default true).
    pub enmix: bool,
    /// Train on AdpMix's old × new mixes (default true).
    pub adpmix: bool,
    /// Beta concentration α of both parts' λ (default 1, mixup's usual value).
    pub alpha: f64,
}

impl Default for DualmixConfig {
    fn default() -> Self {
        Self {
            enmix: true,
            adpmix: true,
            alpha: 1.0,
        }
    }
}

impl MixMethod for DualmixConfig {
    const NAME: &'static str = "dualmix";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        check_alpha("alpha", self.alpha)?;
        if !(self.enmix || self.adpmix) {
            return Err(Error::Incompatible(
                "dualmix with enmix and adpmix both off is plain experience replay: use method none"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The task's plan keeps the stream batch as it is: the continual step builds its own mixes.
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Ok(Draw {
            weight: SampleWeight::Keep,
            lam_label: 1.0,
        })
    }
}
