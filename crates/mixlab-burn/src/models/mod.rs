//! Models: a closed set of configs (`ModelConfig`) and one `Model` enum over the networks, each taking a
//! batch viewed as N×C×S (the layout of mixlab-core's host buffers) and returning logits.
//!
//! Every network can stop at a mixing point and hand the features to a hook (manifold mixup): stage 0
//! is the input, later stages are the boundaries the model documents (MLP hidden blocks, CNN conv blocks,
//! the four ResNet stages, ViT blocks). Parameters are initialised from mixlab's own `Init` stream
//! (PyTorch's default: U(±1/√fan_in) for linear and conv weights and biases, N(0, 0.02) for ViT tokens)
//! instead of Burn's backend RNG, because flex seeds one process-global generator: two models built at
//! once in different threads would otherwise interleave draws.

pub mod cnn;
pub mod cnn1d;
pub mod mlp;
pub mod resnet;
pub mod towers;
pub mod vit;

use crate::error::{Error, Result};
use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use cnn::{Cnn, CnnConfig};
pub use cnn1d::{Cnn1d, Cnn1dConfig};
pub use mlp::{Activation, Mlp, MlpConfig};
pub use resnet::{ResNet, ResNetConfig};
pub use towers::{Tower, TwoTower, TwoTowerConfig};
pub use vit::{Vit, VitConfig};

/// The hook a mixing point applies: features viewed as N×C×S in, mixed features out.
pub type MixHook<'a> = Box<dyn FnOnce(Tensor<3>) -> Result<Tensor<3>> + 'a>;

/// Carries the hook through a forward pass and fires it once at its stage.
pub(crate) struct Hook<'a> {
    at: usize,
    f: Option<MixHook<'a>>,
    /// When set, the head's input (penultimate features, N×D) is kept here (neural-collapse analysis).
    capture: Option<Option<Tensor<2>>>,
}

impl<'a> Hook<'a> {
    pub(crate) fn none() -> Self {
        Self {
            at: usize::MAX,
            f: None,
            capture: None,
        }
    }

    /// Every model passes its head's input through here; kept when capturing.
    pub(crate) fn features(&mut self, h: Tensor<2>) -> Tensor<2> {
        if let Some(slot) = &mut self.capture {
            *slot = Some(h.clone());
        }
        h
    }

    /// Applies the hook when `stage` is its stage; any rank ≥ 2 is viewed as N×C×(rest).
    pub(crate) fn at<const D: usize>(&mut self, stage: usize, x: Tensor<D>) -> Result<Tensor<D>> {
        if stage != self.at {
            return Ok(x);
        }
        let Some(f) = self.f.take() else {
            return Ok(x);
        };
        let dims = x.dims();
        let rest: usize = dims.iter().skip(2).product();
        let flat: Tensor<3> = x.reshape([dims[0], dims[1], rest]);
        let out = f(flat)?;
        if out.dims() != [dims[0], dims[1], rest] {
            return Err(Error::Incompatible(format!(
                "mixing hook changed the feature shape from {:?} to {:?}",
                [dims[0], dims[1], rest],
                out.dims()
            )));
        }
        Ok(out.reshape(dims))
    }
}

/// Which network to build, with its width and depth knobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// Fully connected net on the flattened input.
    Mlp(MlpConfig),
    /// Small CNN for 2-D inputs (1×28×28, 3×32×32, 1×8×8).
    Cnn(CnnConfig),
    /// CIFAR ResNet-18.
    Resnet18(ResNetConfig),
    /// CIFAR pre-activation ResNet-18.
    PreactResnet18(ResNetConfig),
    /// 1-D CNN for waveforms (M5-style).
    Cnn1d(Cnn1dConfig),
    /// Small vision transformer.
    VitTiny(VitConfig),
    /// Two encoders into one embedding space (cross-modal runs: geomix).
    TwoTower(TwoTowerConfig),
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::Cnn(CnnConfig::default())
    }
}

impl ModelConfig {
    /// The kebab-case name.
    pub fn name(&self) -> &'static str {
        match self {
            ModelConfig::Mlp(_) => "mlp",
            ModelConfig::Cnn(_) => "cnn",
            ModelConfig::Resnet18(_) => "resnet18",
            ModelConfig::PreactResnet18(_) => "preact-resnet18",
            ModelConfig::Cnn1d(_) => "cnn1d",
            ModelConfig::VitTiny(_) => "vit-tiny",
            ModelConfig::TwoTower(_) => "two-tower",
        }
    }

    /// The default config of a model by name (`mlp`, `cnn`, `resnet18`, `preact-resnet18`, `cnn1d`,
    /// `vit-tiny`).
    pub fn by_name(name: &str) -> Result<Self> {
        Ok(match name {
            "mlp" => ModelConfig::Mlp(MlpConfig::default()),
            "cnn" => ModelConfig::Cnn(CnnConfig::default()),
            "resnet18" => ModelConfig::Resnet18(ResNetConfig::default()),
            "preact-resnet18" => ModelConfig::PreactResnet18(ResNetConfig::default()),
            "cnn1d" => ModelConfig::Cnn1d(Cnn1dConfig::default()),
            "vit-tiny" => ModelConfig::VitTiny(VitConfig::default()),
            "two-tower" => ModelConfig::TwoTower(TwoTowerConfig::default()),
            other => {
                return Err(Error::Incompatible(format!(
                    "unknown model {other:?}; known: mlp, cnn, resnet18, preact-resnet18, cnn1d, vit-tiny, two-tower"
                )));
            }
        })
    }

    /// Checks the config against the input shape and output count before anything is built.
    pub fn validate(&self, input: &SampleShape, outputs: usize) -> Result<()> {
        if outputs == 0 {
            return Err(Error::param("number of outputs", ">= 1", outputs));
        }
        match self {
            ModelConfig::Mlp(c) => c.validate(input),
            ModelConfig::Cnn(c) => c.validate(input),
            ModelConfig::Resnet18(c) | ModelConfig::PreactResnet18(c) => c.validate(input),
            ModelConfig::Cnn1d(c) => c.validate(input),
            ModelConfig::VitTiny(c) => c.validate(input),
            ModelConfig::TwoTower(c) => c.validate(input, outputs),
        }
    }

    /// Number of mixing points (valid `mix_at` values are `0..n`).
    pub fn num_mix_points(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => 1 + c.hidden.len(),
            ModelConfig::Cnn(c) => 1 + c.channels.len(),
            ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_) => 5,
            ModelConfig::Cnn1d(c) => 1 + c.channels.len(),
            ModelConfig::VitTiny(c) => 1 + c.depth,
            // Cross-modal runs mix embeddings, not features inside a tower.
            ModelConfig::TwoTower(_) => 1,
        }
    }

    /// Builds the model on `device` with parameters drawn from `stream(seed, Init, 0, 0)`.
    pub fn init(
        &self,
        input: &SampleShape,
        outputs: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Model> {
        self.validate(input, outputs)?;
        let model = match self {
            ModelConfig::Mlp(c) => Model::Mlp(c.init(input, outputs, device)),
            ModelConfig::Cnn(c) => Model::Cnn(c.init(input, outputs, device)),
            ModelConfig::Resnet18(c) => Model::ResNet(c.init(input, outputs, false, device)),
            ModelConfig::PreactResnet18(c) => Model::ResNet(c.init(input, outputs, true, device)),
            ModelConfig::Cnn1d(c) => Model::Cnn1d(c.init(input, outputs, device)),
            ModelConfig::VitTiny(c) => Model::Vit(c.init(input, outputs, device)),
            ModelConfig::TwoTower(c) => Model::TwoTower(c.init(input, outputs, device)?),
        };
        Ok(model.map(&mut SeededInit::new(seed)))
    }
}

/// Any of the networks.
#[derive(Module, Debug)]
pub enum Model {
    /// Built from [`ModelConfig::Mlp`].
    Mlp(Mlp),
    /// Built from [`ModelConfig::Cnn`].
    Cnn(Cnn),
    /// Built from [`ModelConfig::Resnet18`] or [`ModelConfig::PreactResnet18`].
    ResNet(ResNet),
    /// Built from [`ModelConfig::Cnn1d`].
    Cnn1d(Cnn1d),
    /// Built from [`ModelConfig::VitTiny`].
    Vit(Vit),
    /// Built from [`ModelConfig::TwoTower`]; it embeds through [`TwoTower::forward_a`] /
    /// [`TwoTower::forward_b`], and the one-batch forwards of [`Model`] return [`Error::Incompatible`].
    TwoTower(TwoTower),
}

impl Model {
    fn input(&self) -> (usize, usize) {
        match self {
            Model::Mlp(m) => (m.in_channels, m.in_len),
            Model::Cnn(m) => (m.in_channels, m.in_h * m.in_w),
            Model::ResNet(m) => (m.in_channels, m.in_h * m.in_w),
            Model::Cnn1d(m) => (m.in_channels, m.in_len),
            Model::Vit(m) => (m.in_channels, m.in_h * m.in_w),
            Model::TwoTower(m) => m.input(),
        }
    }

    fn check(&self, x: &Tensor<3>) -> Result<()> {
        let [_, c, s] = x.dims();
        let (ec, es) = self.input();
        if (c, s) != (ec, es) {
            return Err(Error::Incompatible(format!(
                "model expects samples of {ec} channels x {es} positions, got {c} x {s}"
            )));
        }
        Ok(())
    }

    /// The BatchNorm layers (whose running statistics a training-mode forward moves).
    pub(crate) fn batch_norms(&self) -> Vec<&burn::nn::BatchNorm> {
        match self {
            Model::ResNet(m) => m.batch_norms(),
            Model::Cnn1d(m) => m.batch_norms(),
            Model::Mlp(_) | Model::Cnn(_) | Model::Vit(_) | Model::TwoTower(_) => Vec::new(),
        }
    }

    /// Number of mixing points (valid `mix_at` values are `0..n`).
    pub fn num_mix_points(&self) -> usize {
        match self {
            Model::Mlp(m) => 1 + m.layers.len(),
            Model::Cnn(m) => 1 + m.blocks.len(),
            Model::ResNet(_) => 5,
            Model::Cnn1d(m) => 1 + m.blocks.len(),
            Model::Vit(m) => 1 + m.blocks.len(),
            Model::TwoTower(_) => 1,
        }
    }

    fn run(&self, x: Tensor<3>, hook: &mut Hook<'_>) -> Result<Tensor<2>> {
        self.check(&x)?;
        let x = hook.at(0, x)?;
        match self {
            Model::Mlp(m) => m.forward_hooked(x, hook),
            Model::Cnn(m) => m.forward_hooked(x, hook),
            Model::ResNet(m) => m.forward_hooked(x, hook),
            Model::Cnn1d(m) => m.forward_hooked(x, hook),
            Model::Vit(m) => m.forward_hooked(x, hook).map(|(l, _)| l),
            Model::TwoTower(_) => Err(Error::Incompatible(
                "a two-tower model embeds two datasets: it is trained by geomix, not run on one batch"
                    .into(),
            )),
        }
    }

    /// Logits (N×outputs) for a batch viewed as N×C×S.
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<2>> {
        self.run(x, &mut Hook::none())
    }

    /// Logits with `f` applied to the features at mixing point `mix_at` (0 = the input).
    pub fn forward_mixed<'a>(
        &self,
        x: Tensor<3>,
        mix_at: usize,
        f: impl FnOnce(Tensor<3>) -> Result<Tensor<3>> + 'a,
    ) -> Result<Tensor<2>> {
        let points = self.num_mix_points();
        if mix_at >= points {
            return Err(Error::param(
                "mixing point",
                "below the model's number of mixing points",
                format!("{mix_at} (model has {points})"),
            ));
        }
        let mut hook = Hook {
            at: mix_at,
            f: Some(Box::new(f)),
            capture: None,
        };
        self.run(x, &mut hook)
    }

    /// Logits and the features at mixing point `at` (viewed as N×C×S, unchanged), from one forward.
    pub fn forward_capture(&self, x: Tensor<3>, at: usize) -> Result<(Tensor<2>, Tensor<3>)> {
        let mut seen = None;
        let logits = self.forward_mixed(x, at, |f| {
            seen = Some(f.clone());
            Ok(f)
        })?;
        let feats = seen.ok_or_else(|| {
            Error::Incompatible(format!("the model has no features at mixing point {at}"))
        })?;
        Ok((logits, feats))
    }

    /// Logits and the penultimate features (the head's input, N×D) of a batch.
    pub fn forward_features(&self, x: Tensor<3>) -> Result<(Tensor<2>, Tensor<2>)> {
        let mut hook = Hook {
            capture: Some(None),
            ..Hook::none()
        };
        let logits = self.run(x, &mut hook)?;
        let feats = hook.capture.flatten().ok_or_else(|| {
            Error::Incompatible("the model did not expose its penultimate features".into())
        })?;
        Ok((logits, feats))
    }

    /// ResNet only: the last feature map before global pooling (N×C×h×w) and the head's weight
    /// (C×classes) and bias, from which class activation maps are formed (SnapMix).
    pub fn cam_inputs(&self, x: Tensor<3>) -> Result<(Tensor<4>, Tensor<2>, Option<Tensor<1>>)> {
        self.check(&x)?;
        match self {
            Model::ResNet(m) => m.cam_inputs(x),
            _ => Err(Error::Incompatible(
                "class activation maps need global average pooling before a linear head: use resnet18 or \
                 preact-resnet18"
                    .into(),
            )),
        }
    }

    /// The last spatial feature map (N×C×h×w): the CNN's last conv block after pooling, a ResNet's last
    /// stage before global pooling (AttentiveMix's attention).
    pub fn feature_map(&self, x: Tensor<3>) -> Result<Tensor<4>> {
        self.check(&x)?;
        match self {
            Model::Cnn(m) => Ok(m.feature_map(x)),
            Model::ResNet(m) => Ok(m.cam_inputs(x)?.0),
            _ => Err(Error::Incompatible(
                "a last spatial feature map exists for cnn, resnet18 and preact-resnet18 only"
                    .into(),
            )),
        }
    }

    /// ViT only: logits and every block's softmax attention averaged over heads (N×T×T per block, the
    /// class token first).
    pub fn forward_block_attention(&self, x: Tensor<3>) -> Result<(Tensor<2>, Vec<Tensor<3>>)> {
        self.check(&x)?;
        match self {
            Model::Vit(m) => m.forward_block_attention(x),
            _ => Err(Error::Incompatible(
                "block attention exists only for vit-tiny".into(),
            )),
        }
    }

    /// ViT only: logits and the last block's attention among the image tokens averaged over heads and
    /// queries (N×patches; SMMix's importance of each patch).
    pub fn forward_image_importance(&self, x: Tensor<3>) -> Result<(Tensor<2>, Tensor<2>)> {
        self.check(&x)?;
        match self {
            Model::Vit(m) => m.forward_image_importance(x),
            _ => Err(Error::Incompatible(
                "image-token attention exists only for vit-tiny".into(),
            )),
        }
    }

    /// ViT only: logits and the image tokens after the final LayerNorm (N×patches×D).
    pub fn forward_image_tokens(&self, x: Tensor<3>) -> Result<(Tensor<2>, Tensor<3>)> {
        self.check(&x)?;
        match self {
            Model::Vit(m) => m.forward_image_tokens(x),
            _ => Err(Error::Incompatible(
                "image tokens exist only for vit-tiny".into(),
            )),
        }
    }

    /// ViT only: an MAE-style encoder pass (see `Vit::encode`): the final tokens, class token first.
    pub fn encode_tokens(
        &self,
        x: Tensor<3>,
        extra: Option<Tensor<3>>,
        keep: Option<Tensor<2, Int>>,
        topk: Option<usize>,
    ) -> Result<Tensor<3>> {
        self.check(&x)?;
        match self {
            Model::Vit(m) => Ok(m.encode(x, extra, keep, topk)),
            _ => Err(Error::Incompatible(
                "MAE-style pre-training encodes tokens: use --model vit-tiny".into(),
            )),
        }
    }

    /// ViT only: logits and the class-token attention of the last block over the patches (N×patches,
    /// averaged over heads; each row sums to 1 minus the attention the class token pays itself).
    pub fn forward_with_attention(&self, x: Tensor<3>) -> Result<(Tensor<2>, Tensor<2>)> {
        self.check(&x)?;
        match self {
            Model::Vit(m) => m.forward_hooked(x, &mut Hook::none()),
            _ => Err(Error::Incompatible(
                "class-token attention exists only for vit-tiny".into(),
            )),
        }
    }
}

/// Redraws every linear/conv weight and bias (and ViT tokens) from a named ChaCha stream.
struct SeededInit {
    rng: ChaCha8Rng,
    path: Vec<(String, String)>,
    fan_in: usize,
}

/// A draw from N(0, std²) (Box–Muller; u1 in (0, 1] so the log is finite).
pub(crate) fn normal(rng: &mut ChaCha8Rng, std: f64) -> f32 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * std) as f32
}

/// A linear layer with N(0, std²) weights and zero bias (the references' `normal_init` for the extra
/// layers of AdaMixUp and AutoMix), drawn from `rng`.
pub(crate) fn normal_linear(
    d_in: usize,
    d_out: usize,
    std: f64,
    rng: &mut ChaCha8Rng,
    dev: &Device,
) -> burn::nn::Linear {
    let mut l = burn::nn::LinearConfig::new(d_in, d_out).init(dev);
    let w: Vec<f32> = (0..d_in * d_out).map(|_| normal(rng, std)).collect();
    l.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [d_in, d_out]), dev));
    l.bias = Some(Param::from_tensor(Tensor::zeros([d_out], dev)));
    l
}

/// `module` with every linear/conv weight and bias redrawn as the models' are, from the Init stream
/// `index` of `seed` (the model itself draws from index 0; a strategy's own modules from 1 on).
pub(crate) fn seeded<M: Module>(module: M, seed: u64, index: u64) -> M {
    module.map(&mut SeededInit::at(seed, index))
}

impl SeededInit {
    fn new(seed: u64) -> Self {
        Self::at(seed, 0)
    }

    fn at(seed: u64, index: u64) -> Self {
        Self {
            rng: stream(seed, Purpose::Init, index, 0),
            path: Vec::new(),
            fan_in: 1,
        }
    }

    fn normal(&mut self, std: f64) -> f32 {
        normal(&mut self.rng, std)
    }
}

impl ModuleMapper for SeededInit {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some((name, container)) = self.path.last().cloned() else {
            return param;
        };
        let shape = param.lazy_shape();
        let dims: Vec<usize> = shape.iter().copied().collect();
        let count: usize = dims.iter().product();
        let values: Vec<f32> = match (container.as_str(), name.as_str()) {
            ("Struct:Linear", "weight") => {
                // Burn stores linear weights as [in, out].
                self.fan_in = dims[0];
                let b = 1.0 / (self.fan_in as f64).sqrt();
                (0..count)
                    .map(|_| self.rng.random_range(-b..b) as f32)
                    .collect()
            }
            ("Struct:Conv1d" | "Struct:Conv2d" | "Struct:Conv3d", "weight") => {
                self.fan_in = dims.iter().skip(1).product();
                let b = 1.0 / (self.fan_in as f64).sqrt();
                (0..count)
                    .map(|_| self.rng.random_range(-b..b) as f32)
                    .collect()
            }
            ("Struct:Linear" | "Struct:Conv1d" | "Struct:Conv2d" | "Struct:Conv3d", "bias") => {
                let b = 1.0 / (self.fan_in.max(1) as f64).sqrt();
                (0..count)
                    .map(|_| self.rng.random_range(-b..b) as f32)
                    .collect()
            }
            ("Struct:Vit", "cls_token" | "pos_embed") => {
                (0..count).map(|_| self.normal(0.02)).collect()
            }
            _ => return param,
        };
        let device = param.lazy_device();
        let id = param.id;
        let t = Tensor::<D>::from_data(TensorData::new(values, dims), &device);
        param.transform_for_load(t, id)
    }
}

/// Conv output length for kernel k, stride s, padding p (None when the input is too short).
pub(crate) fn conv_out(len: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    (len + 2 * p).checked_sub(k).map(|v| v / s + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes_for(cfg: &ModelConfig) -> Vec<SampleShape> {
        match cfg {
            ModelConfig::Mlp(_) => vec![
                SampleShape::d1(5, 1).unwrap(),
                SampleShape::d2(1, 8, 8).unwrap(),
            ],
            ModelConfig::Cnn(_) => vec![
                SampleShape::d2(1, 28, 28).unwrap(),
                SampleShape::d2(3, 32, 32).unwrap(),
                SampleShape::d2(1, 8, 8).unwrap(),
            ],
            ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_) => {
                vec![SampleShape::d2(3, 32, 32).unwrap()]
            }
            ModelConfig::Cnn1d(_) => vec![SampleShape::d1(1, 8000).unwrap()],
            ModelConfig::VitTiny(_) => vec![SampleShape::d2(3, 32, 32).unwrap()],
            ModelConfig::TwoTower(_) => vec![SampleShape::d1(1, 8000).unwrap()],
        }
    }

    #[test]
    fn every_model_gives_logits_of_the_right_shape_at_every_mixing_point() {
        let dev = Device::flex();
        let small = ResNetConfig { width: 4 };
        for cfg in [
            ModelConfig::Mlp(MlpConfig::default()),
            ModelConfig::Cnn(CnnConfig::default()),
            ModelConfig::Resnet18(small.clone()),
            ModelConfig::PreactResnet18(small),
            ModelConfig::Cnn1d(Cnn1dConfig::default()),
            ModelConfig::VitTiny(VitConfig {
                dim: 32,
                depth: 2,
                heads: 2,
                patch: 8,
                mlp_ratio: 2,
            }),
        ] {
            for shape in shapes_for(&cfg) {
                let model = cfg.init(&shape, 7, 0, &dev).unwrap();
                assert_eq!(model.num_mix_points(), cfg.num_mix_points());
                let x = Tensor::<3>::ones([2, shape.channels, shape.spatial_len()], &dev);
                assert_eq!(
                    model.forward(x.clone()).unwrap().dims(),
                    [2, 7],
                    "{cfg:?} {shape}"
                );
                for k in 0..model.num_mix_points() {
                    let mut fired = false;
                    let out = model
                        .forward_mixed(x.clone(), k, |f| {
                            fired = true;
                            Ok(f * 0.5)
                        })
                        .unwrap();
                    assert_eq!(out.dims(), [2, 7]);
                    assert!(fired, "{} stage {k} never fired", cfg.name());
                }
                assert!(model.forward_mixed(x, model.num_mix_points(), Ok).is_err());
            }
        }
    }

    #[test]
    fn vit_returns_class_attention_over_patches() {
        let dev = Device::flex();
        let shape = SampleShape::d2(3, 16, 16).unwrap();
        let cfg = ModelConfig::VitTiny(VitConfig {
            dim: 16,
            depth: 1,
            heads: 2,
            patch: 4,
            mlp_ratio: 2,
        });
        let model = cfg.init(&shape, 3, 1, &dev).unwrap();
        let x = Tensor::<3>::ones([2, 3, 256], &dev);
        let (logits, attn) = model.forward_with_attention(x).unwrap();
        assert_eq!((logits.dims(), attn.dims()), ([2, 3], [2, 16]));
        let s: Vec<f32> = attn.sum_dim(1).into_data().try_into_vec_as().unwrap();
        assert!(s.iter().all(|&v| v > 0.0 && v < 1.0 + 1e-5), "{s:?}");
    }

    #[test]
    fn init_is_deterministic_per_seed_and_bad_configs_are_errors() {
        let dev = Device::flex();
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        let cfg = ModelConfig::Cnn(CnnConfig::default());
        let x = Tensor::<3>::ones([1, 1, 64], &dev);
        let run = |seed| -> Vec<f32> {
            cfg.init(&shape, 4, seed, &dev)
                .unwrap()
                .forward(x.clone())
                .unwrap()
                .into_data()
                .try_into_vec_as()
                .unwrap()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        assert!(cfg.init(&shape, 0, 0, &dev).is_err());
        assert!(
            ModelConfig::VitTiny(VitConfig::default())
                .init(&SampleShape::d2(3, 30, 30).unwrap(), 10, 0, &dev)
                .is_err()
        );
        assert!(
            ModelConfig::Cnn(CnnConfig::default())
                .init(&SampleShape::d1(1, 100).unwrap(), 10, 0, &dev)
                .is_err()
        );
        assert!(ModelConfig::by_name("resnet50").is_err());
        let wrong = Tensor::<3>::ones([1, 3, 64], &dev);
        assert!(
            cfg.init(&shape, 4, 0, &dev)
                .unwrap()
                .forward(wrong)
                .is_err()
        );
    }
}
