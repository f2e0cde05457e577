//! What the learned mixers with a momentum encoder (AutoMix, SAMix, AdAutoMix) share: the map they read (a
//! mixing point of the model, its grid and the integer factor up to the image), the mixer module and the
//! online network's mix head they train beside the model, the momentum encoder (copies of the model and
//! of the mix head) that follows the model with a scheduled momentum, and their six checkpoint files.

use crate::config::TrainConfig;
use crate::ema::Ema;
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::{Model, ModelConfig};
use crate::owned::Owned;
use crate::state::{AuxFile, AuxKind};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::Gradients;
use mixlab_core::shape::SampleShape;
use std::path::Path;

const K_MODEL: &str = "momentum-model";
const K_HEAD: &str = "momentum-head";

/// The mixing point whose map the mixer reads: `mask_layer`, else ResNet after stage 3 (OpenMixup's
/// `mask_layer=2`) or a CNN after its second-to-last conv block.
pub(super) fn mask_point(mask_layer: Option<usize>, model: &ModelConfig) -> Result<usize> {
    let default = match model {
        ModelConfig::Resnet18(_) | ModelConfig::PreactResnet18(_) => 3,
        ModelConfig::Cnn(c) => c.channels.len().saturating_sub(1).max(1),
        other => {
            return Err(Error::Incompatible(format!(
                "the learned mixers read a 2-D feature map: use --model cnn, resnet18 or \
                 preact-resnet18, not {}",
                other.name()
            )));
        }
    };
    let at = mask_layer.unwrap_or(default);
    let points = model.num_mix_points();
    if at == 0 || at >= points {
        return Err(Error::param(
            "mask_layer",
            "a feature map's mixing point (1 or more, below the model's count)",
            format!("{at} (the model has {points})"),
        ));
    }
    Ok(at)
}

/// The map at a mixing point: its channels, the width of the penultimate features, its grid and the
/// integer factor from the grid up to the image.
pub(super) struct MapShape {
    pub channels: usize,
    pub features: usize,
    pub grid: [usize; 2],
    pub scale: usize,
}

impl MapShape {
    /// Read from an eval-mode forward of one blank sample on the plain device (no BatchNorm statistic
    /// moves).
    pub(super) fn probe(
        model: &Model,
        shape: &SampleShape,
        point: usize,
        plain: &Device,
    ) -> Result<Self> {
        let blank = || batch_tensor(vec![0.0; shape.sample_len()], shape, plain);
        let probe = model.valid();
        let [_, channels, s] = probe.forward_capture(blank(), point)?.1.dims();
        let features = probe.forward_features(blank())?.1.dims()[1];
        let [ih, iw] = [shape.dims[1], shape.dims[2]];
        let scale = ((ih * iw) as f64 / s.max(1) as f64).sqrt().round() as usize;
        if scale == 0
            || !ih.is_multiple_of(scale)
            || !iw.is_multiple_of(scale)
            || (ih / scale) * (iw / scale) != s
        {
            return Err(Error::Incompatible(format!(
                "the mixer upsamples the map at mixing point {point} ({s} positions) to the {ih}x{iw} \
                 image by an integer factor, which does not exist here"
            )));
        }
        Ok(Self {
            channels,
            features,
            grid: [ih / scale, iw / scale],
            scale,
        })
    }
}

/// The trained mixer and mix head, and the momentum encoder.
pub(super) struct Learned<B: Module> {
    pub mixer: Owned<B>,
    pub head: Owned<Linear>,
    k_model: Ema<Model>,
    k_head: Ema<Linear>,
}

impl<B: Module> Learned<B> {
    /// Fresh modules (`mixer`, `head`: initial weights drawn) and an encoder that starts as a copy of
    /// `model`, or all of them from the strategy files in `saved` (read from `origin`); any other file is
    /// refused. `who` names the method in that error.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn begin(
        mixer: B,
        mixer_name: &'static str,
        head: Linear,
        run: &TrainConfig,
        momentum: f64,
        model: &Model,
        saved: Vec<AuxFile>,
        origin: &Path,
        who: &str,
    ) -> Result<Self> {
        let mut saved = saved;
        let mixer = Owned::begin(mixer, mixer_name, run, &mut saved, origin)?;
        let head = Owned::begin(head, "mix-head", run, &mut saved, origin)?;
        let mut take = |name: &str| {
            saved
                .iter()
                .position(|f| f.name == name)
                .map(|at| saved.remove(at))
        };
        let k_model = match take(K_MODEL) {
            Some(f) => Ema::restore(model, momentum, &f.bytes, origin)?,
            None => Ema::new(model, momentum),
        };
        let k_head = match take(K_HEAD) {
            Some(f) => Ema::restore(&head.module, momentum, &f.bytes, origin)?,
            None => Ema::new(&head.module, momentum),
        };
        if let Some(f) = saved.first() {
            return Err(Error::ckpt(
                origin,
                format!("it holds a strategy file ({}) {who} does not keep", f.name),
            ));
        }
        Ok(Self {
            mixer,
            head,
            k_model,
            k_head,
        })
    }

    /// The momentum encoder and its mix head on the autodiff device, in training mode, without gradients
    /// of their own: a loss through them reaches only their inputs.
    pub(super) fn encoder(&self) -> (Model, Linear) {
        (
            self.k_model.model().clone().train().no_grad(),
            self.k_head.model().clone().train().no_grad(),
        )
    }

    /// One optimiser step of the mixer and the mix head.
    pub(super) fn own_step(&mut self, grads: &mut Gradients, lr: f64) {
        self.mixer.step(grads, lr);
        self.head.step(grads, lr);
    }

    /// The encoder follows the model (and its mix head) with momentum `m`.
    pub(super) fn follow(&mut self, model: &Model, m: f64) -> Result<()> {
        self.k_model.set_momentum(m);
        self.k_head.set_momentum(m);
        self.k_model.update(model)?;
        self.k_head.update(&self.head.module)
    }

    /// The six checkpoint files: mixer and mix head with their optimiser states, the two copies.
    pub(super) fn files(&self) -> Result<Vec<AuxFile>> {
        let mut files = self.mixer.files()?;
        files.extend(self.head.files()?);
        for (name, bytes) in [
            (K_MODEL, self.k_model.to_bytes()?),
            (K_HEAD, self.k_head.to_bytes()?),
        ] {
            files.push(AuxFile {
                name: name.into(),
                kind: AuxKind::Weights,
                bytes,
            });
        }
        Ok(files)
    }
}

/// A learned mixer's state once the run has begun: its modules and the map it reads.
pub(super) type Slot<B> = Option<(Learned<B>, MapShape)>;

/// `Strategy::own_step` of a learned mixer.
pub(super) fn own_step<B: Module>(
    slot: &mut Slot<B>,
    grads: &mut Gradients,
    lr: f64,
) -> Result<()> {
    if let Some((p, _)) = slot {
        p.own_step(grads, lr);
    }
    Ok(())
}

/// `Strategy::after_step` of a learned mixer whose momentum is `m` at this step.
pub(super) fn follow<B: Module>(slot: &mut Slot<B>, model: &Model, m: f64) -> Result<()> {
    match slot {
        Some((p, _)) => p.follow(model, m),
        None => Ok(()),
    }
}

/// `Strategy::state` of a learned mixer.
pub(super) fn files<B: Module>(slot: &Slot<B>) -> Result<Vec<AuxFile>> {
    match slot {
        Some((p, _)) => p.files(),
        None => Ok(Vec::new()),
    }
}

/// PyTorch's bilinear upsampling along one axis by an integer `scale` (`align_corners=False`): output `i`
/// reads the input at `(i + ½)/scale − ½`, clamped at 0, between its two neighbours. (out × in)
pub(super) fn bilinear_matrix(len: usize, scale: usize, dev: &Device) -> Tensor<2> {
    let out = len * scale;
    let mut m = vec![0f32; out * len];
    for i in 0..out {
        let src = ((i as f64 + 0.5) / scale as f64 - 0.5).max(0.0);
        let i0 = (src.floor() as usize).min(len - 1);
        let i1 = (i0 + 1).min(len - 1);
        let w1 = (src - i0 as f64) as f32;
        m[i * len + i0] += 1.0 - w1;
        m[i * len + i1] += w1;
    }
    Tensor::from_data(TensorData::new(m, [out, len]), dev)
}

/// Bilinear upsampling of N maps h×w by `scale` as two batched matrix products.
pub(super) fn upsample_bilinear(m: Tensor<3>, scale: usize) -> Tensor<3> {
    let [n, h, w] = m.dims();
    let dev = m.device();
    let rows = bilinear_matrix(h, scale, &dev)
        .unsqueeze::<3>()
        .expand([n, h * scale, h]);
    let cols = bilinear_matrix(w, scale, &dev)
        .transpose()
        .unsqueeze::<3>()
        .expand([n, w, w * scale]);
    rows.matmul(m).matmul(cols)
}

/// Row indices as an Int tensor on `dev`.
pub(super) fn index(v: &[usize], dev: &Device) -> Tensor<1, Int> {
    Tensor::from_data(
        TensorData::new(v.iter().map(|&i| i as i64).collect(), [v.len()]),
        dev,
    )
}
