//! A momentum (exponential moving average) copy of the model being trained, on the plain device: the
//! teacher of AttentiveMix without a checkpoint, and AutoMix's momentum encoder and mix head.
//!
//! After every optimiser step each float of the copy moves as `θ_k ← m·θ_k + (1 − m)·θ` (OpenMixup's
//! `_momentum_update`). The copy averages BatchNorm's running statistics as well as the parameters
//! (timm's `ModelEmaV2` does the same over the whole state dict), so it can run in eval mode; OpenMixup
//! averages parameters only and runs its copy in train mode. The copy starts equal to the model it
//! follows and is written into the run's checkpoint, so a resumed run continues the same average.

use crate::checkpoint::{load_weights_bytes, weights_to_bytes};
use crate::error::{Error, Result};
use crate::models::Model;
use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use std::path::Path;

/// The momentum copy of a module (the model by default) and its momentum.
pub(crate) struct Ema<M: Module = Model> {
    model: M,
    momentum: f32,
}

/// Every float of a model (parameters and buffers) in visiting order, each with its shape and viewed as
/// one dimension (the visitor is generic over the rank; the tensors stay on the device).
struct Floats(Vec<(Vec<usize>, Tensor<1>)>);

impl ModuleVisitor for Floats {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let dims = t.dims().to_vec();
        let len: usize = dims.iter().product();
        self.0.push((dims, t.reshape([len])));
    }
}

/// Moves each float toward the online model's float at the same position.
struct Follow {
    online: std::vec::IntoIter<(Vec<usize>, Tensor<1>)>,
    momentum: f32,
    missing: bool,
}

impl ModuleMapper for Follow {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some((dims, q)) = self.online.next() else {
            self.missing = true;
            return param;
        };
        if dims.iter().ne(param.lazy_shape().iter()) {
            self.missing = true;
            return param;
        }
        let m = self.momentum;
        param.map(|k| {
            let q: Tensor<D> = q.reshape(k.shape());
            k.mul_scalar(m) + q.mul_scalar(1.0 - m)
        })
    }
}

impl<M: Module> Ema<M> {
    /// A copy of `online` (on the plain device) that follows it with momentum `momentum` in [0, 1).
    pub(crate) fn new(online: &M, momentum: f64) -> Self {
        Self {
            model: online.valid(),
            momentum: momentum as f32,
        }
    }

    /// The copy restored from its checkpoint bytes (the skeleton `online` gives the structure).
    pub(crate) fn restore(online: &M, momentum: f64, bytes: &[u8], origin: &Path) -> Result<Self> {
        Ok(Self {
            model: load_weights_bytes(online.valid(), bytes, origin)?,
            momentum: momentum as f32,
        })
    }

    /// The copy a strategy keeps as its only checkpoint file `name`: fresh when `saved` is empty, else
    /// restored from it; any other file set is refused (`method` names the strategy in the error).
    pub(crate) fn begin_single(
        online: &M,
        momentum: f64,
        saved: Vec<crate::state::AuxFile>,
        name: &str,
        method: &str,
        origin: &Path,
    ) -> Result<Self> {
        let mut saved = saved.into_iter();
        match (saved.next(), saved.next()) {
            (None, _) => Ok(Self::new(online, momentum)),
            (Some(f), None) if f.name == name => Self::restore(online, momentum, &f.bytes, origin),
            (Some(f), _) => Err(Error::ckpt(
                origin,
                format!("{method} keeps one {name} file, found {}", f.name),
            )),
        }
    }

    /// One momentum step toward `online` (its weights after the optimiser step). `valid()` first: it
    /// brings BatchNorm's running statistics up to this step (they are updated lazily) and leaves the
    /// autodiff graph behind.
    pub(crate) fn update(&mut self, online: &M) -> Result<()> {
        let mut floats = Floats(Vec::new());
        online.valid().visit(&mut floats);
        let expected = floats.0.len();
        let mut follow = Follow {
            online: floats.0.into_iter(),
            momentum: self.momentum,
            missing: false,
        };
        self.model = self.model.clone().map(&mut follow);
        if follow.missing || follow.online.next().is_some() {
            return Err(Error::Incompatible(format!(
                "the momentum copy and the model differ in structure (the model has {expected} float \
                 tensors)"
            )));
        }
        Ok(())
    }

    /// The copy (plain device: BatchNorm uses its running statistics).
    pub(crate) fn model(&self) -> &M {
        &self.model
    }

    /// Sets the momentum of the next updates (a scheduled momentum).
    pub(crate) fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum as f32;
    }

    /// The copy's weights as checkpoint bytes (safetensors).
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        weights_to_bytes(&self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ModelConfig, ResNetConfig};
    use mixlab_core::shape::SampleShape;

    fn floats(m: &Model) -> Vec<f32> {
        let mut f = Floats(Vec::new());
        m.visit(&mut f);
        f.0.into_iter()
            .flat_map(|(_, t)| t.into_data().try_into_vec_as::<f32>().unwrap())
            .collect()
    }

    #[test]
    fn the_copy_moves_by_the_momentum_and_round_trips_through_bytes() {
        // A ResNet: its BatchNorm running statistics are averaged and saved with the parameters.
        let dev = Device::default();
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        let cfg = ModelConfig::Resnet18(ResNetConfig { width: 4 });
        let a = cfg.init(&shape, 3, 1, &dev).unwrap();
        // One training-mode forward (autodiff device) moves b's running statistics away from their
        // initial values; `update` must see them.
        let ad = dev.clone().autodiff();
        let x = Tensor::<3>::from_data(
            TensorData::new(
                (0..256).map(|i| (i % 7) as f32).collect::<Vec<_>>(),
                [4, 1, 64],
            ),
            &ad,
        );
        let b = cfg.init(&shape, 3, 2, &ad).unwrap();
        b.forward(x).unwrap();
        let mut ema = Ema::new(&a, 0.75);
        assert_eq!(floats(ema.model()), floats(&a));
        ema.update(&b).unwrap();
        let fresh = floats(&cfg.init(&shape, 3, 2, &dev).unwrap());
        let (fa, fb, fe) = (floats(&a), floats(&b.valid()), floats(ema.model()));
        assert_ne!(fb, fresh, "the forward moved the running statistics");
        assert!(fa.iter().zip(&fb).any(|(x, y)| x != y));
        for ((x, y), e) in fa.iter().zip(&fb).zip(&fe) {
            assert_eq!(*e, x * 0.75 + y * 0.25);
        }
        let bytes = ema.to_bytes().unwrap();
        let back = Ema::restore(&a, 0.75, &bytes, Path::new("ema")).unwrap();
        assert_eq!(floats(back.model()), fe);
        let other = ModelConfig::Resnet18(ResNetConfig { width: 2 })
            .init(&shape, 3, 1, &dev)
            .unwrap();
        assert!(ema.update(&other).is_err());
    }
}
