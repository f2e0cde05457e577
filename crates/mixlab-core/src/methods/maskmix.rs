//! Maskmix: placeholder being implemented in this session (not yet usable: draw returns an error).

use super::{Draw, DrawCtx, MixMethod};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Maskmix hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MaskmixConfig {
    pub alpha: f64,
}

impl MixMethod for MaskmixConfig {
    const NAME: &'static str = "maskmix";
    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        Err(Error::Incompatible("maskmix is not implemented yet".into()))
    }
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        Err(Error::Incompatible("maskmix is not implemented yet".into()))
    }
}
