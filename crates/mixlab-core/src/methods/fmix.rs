//! Fmix: placeholder being implemented in this session (not yet usable: draw returns an error).

use super::{Draw, DrawCtx, MixMethod};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Fmix hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FmixConfig {
    pub alpha: f64,
}

impl MixMethod for FmixConfig {
    const NAME: &'static str = "fmix";
    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        Err(Error::Incompatible("fmix is not implemented yet".into()))
    }
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Err(Error::Incompatible("fmix is not implemented yet".into()))
    }
}
