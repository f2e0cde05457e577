//! AdAutoMix (mixlab-core's `methods::adautomix`). This strategy owns the mask generator (`AdaptiveMask`)
//! and the online network's mix head (trained beside the model by optimisers of the run's kind), and the
//! momentum encoder (copies of the model and of the mix head), all kept in the checkpoint.
//!
//! Each step: the momentum encoder's feature map of the clean batch at `mask_layer` gives, for three
//! permutations, the generator's three-source masks (trained) and, for three more, the online network's
//! (detached, or the constants λ_i near the margin). The loss is the online network's mix-head CE on its
//! masked batch, plus its one-hot CE re-weighted with the CE of the linear three-way mixup, plus the
//! generator's loss: the momentum encoder's mix-head CE on the generator's batch, or on adversarial steps
//! `−β·CE + (1 − β)·cos` (the generator learns through the frozen encoder's activations, as AutoMix).

use super::learned::{self, Learned, MapShape, Slot, index, mask_point, upsample_bilinear};
use super::{StepAt, StepInput, Strategy, batch_labels, label_hits};
use crate::config::TrainConfig;
use crate::data::Splits;
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::{Model, normal_linear};
use crate::state::AuxFile;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::Gradients;
use burn::tensor::activation::{relu, softmax};
use mixlab_core::methods::AdautomixConfig;
use mixlab_core::methods::sample_beta;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use std::path::Path;

/// Mixed sources per sample (the CIFAR config's `mix_samples = 3`).
const SOURCES: usize = 3;

/// The mask generator: 1×1 convolutions (as linear maps over the channels) for q and k (each followed by
/// a ReLU) and v.
#[derive(Module, Debug)]
pub(crate) struct AdaptiveMask {
    q: Linear,
    k: Linear,
    v: Linear,
}

impl AdaptiveMask {
    /// The sources' weights at every pixel, N×K×H×W (a softmax over the K sources), for their feature maps
    /// (each N×C×S, the map `grid` row-major), upsampled bilinearly by `scale`.
    pub(crate) fn forward(&self, fs: &[Tensor<3>], grid: [usize; 2], scale: usize) -> Tensor<4> {
        let [n, _, _] = fs[0].dims();
        let [h, w] = grid;
        let t: Vec<Tensor<3>> = fs.iter().map(|f| f.clone().swap_dims(1, 2)).collect();
        let q: Vec<Tensor<3>> = t.iter().map(|x| relu(self.q.forward(x.clone()))).collect();
        let k: Vec<Tensor<3>> = t
            .iter()
            .map(|x| relu(self.k.forward(x.clone())).swap_dims(1, 2))
            .collect();
        let inter = q[0].dims()[2];
        let maps: Vec<Tensor<3>> = (0..fs.len())
            .map(|i| {
                let scores = (0..fs.len())
                    .filter(|&j| j != i)
                    .map(|j| q[i].clone().matmul(k[j].clone()))
                    .reduce(|a, b| a + b)
                    .expect("at least two sources");
                let a = softmax(scores.div_scalar((inter as f64).sqrt()), 2);
                let m: Tensor<3> = a.matmul(self.v.forward(t[i].clone())).reshape([n, h, w]);
                upsample_bilinear(m, scale)
            })
            .collect();
        let stacked: Tensor<4> = Tensor::stack(maps, 1);
        softmax(stacked, 1)
    }
}

pub(crate) struct Adautomix {
    cfg: AdautomixConfig,
    run: TrainConfig,
    shape: SampleShape,
    classes: usize,
    point: usize,
    plain: Device,
    parts: Slot<AdaptiveMask>,
}

impl Adautomix {
    pub(crate) fn new(
        cfg: &AdautomixConfig,
        run: &TrainConfig,
        data: &Splits,
        plain: &Device,
    ) -> Result<Self> {
        Ok(Self {
            point: mask_point(cfg.mask_layer, &run.model)?,
            cfg: cfg.clone(),
            run: run.clone(),
            shape: data.train.shape,
            classes: data.train.outputs(),
            plain: plain.clone(),
            parts: None,
        })
    }

    /// `Σ_i λ_i·ẏ[perm_i]` on the device (smoothed one-hots as the run's other targets).
    fn targets(
        &self,
        labels: &[usize],
        perms: &[Vec<usize>],
        lams: &[f32],
        dev: &Device,
    ) -> Result<Tensor<2>> {
        let (n, c) = (labels.len(), self.classes);
        let s = self.run.mixer.label_smoothing;
        let (off, on) = (s / c as f32, 1.0 - s + s / c as f32);
        let mut t = vec![0f32; n * c];
        for (perm, &lam) in perms.iter().zip(lams) {
            for (i, &j) in perm.iter().enumerate() {
                for (q, v) in t[i * c..(i + 1) * c].iter_mut().enumerate() {
                    *v += lam * if q == labels[j] { on } else { off };
                }
            }
        }
        Ok(Tensor::from_data(TensorData::new(t, [n, c]), dev))
    }
}

/// `Σ_i w_i·x[perm_i]` for a batch N×C×S and per-source pixel weights `masks` (N×K×H×W, S = H·W).
fn mix_sources(x: &Tensor<3>, masks: Tensor<4>, perms: &[Tensor<1, Int>]) -> Tensor<3> {
    let [n, _, s] = x.dims();
    let k = perms.len();
    let m: Tensor<3> = masks.reshape([n, k, s]);
    perms
        .iter()
        .enumerate()
        .map(|(i, p)| x.clone().select(0, p.clone()) * m.clone().slice([0..n, i..i + 1, 0..s]))
        .reduce(|a, b| a + b)
        .expect("at least one source")
}

/// Mean over the batch of `Σ_i λ_i·cos(mixed, source_i)` between logit rows.
fn cosine_term(mixed: Tensor<2>, sources: Vec<Tensor<2>>, lams: &[f32]) -> Tensor<1> {
    let norm = |t: Tensor<2>| t.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-8);
    let nm = norm(mixed.clone());
    sources
        .into_iter()
        .zip(lams)
        .map(|(p, &l)| {
            let cos = (mixed.clone() * p.clone()).sum_dim(1) / (nm.clone() * norm(p));
            cos.mul_scalar(l)
        })
        .reduce(|a, b| a + b)
        .expect("at least one source")
        .mean()
}

impl Strategy for Adautomix {
    fn begin(&mut self, model: &Model, saved: Vec<AuxFile>, origin: &Path) -> Result<()> {
        let dev = self.plain.clone().autodiff();
        let map = MapShape::probe(model, &self.shape, self.point, &self.plain)?;
        let c = map.channels;
        let inter = (c / self.cfg.reduction).max(1);
        let mut rng = stream(self.run.seed, Purpose::Init, 6, 0);
        let mask = AdaptiveMask {
            q: normal_linear(c, inter, 0.01, &mut rng, &dev),
            k: normal_linear(c, inter, 0.01, &mut rng, &dev),
            v: normal_linear(c, 1, 0.01, &mut rng, &dev),
        };
        let head = normal_linear(map.features, self.classes, 0.01, &mut rng, &dev);
        let learned = Learned::begin(
            mask,
            "mask-generator",
            head,
            &self.run,
            self.cfg.momentum,
            model,
            saved,
            origin,
            "adautomix",
        )?;
        self.parts = Some((learned, map));
        Ok(())
    }

    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let (p, map) = self.parts.as_ref().ok_or_else(|| {
            Error::Incompatible("adautomix's generator was used before the run began".into())
        })?;
        let (grid, scale) = (map.grid, map.scale);
        let (labels, _) = batch_labels(input.data, input.idx)?;
        let (n, dev, cls) = (labels.len(), input.dev, self.run.class_loss);
        let x = batch_tensor(input.xb.clone(), &self.shape, dev);
        // Three λ, normalised; the generator's permutations start with the plan's pairing.
        let raw: Vec<f64> = (0..SOURCES)
            .map(|_| sample_beta(self.cfg.alpha, self.cfg.alpha, rng))
            .collect::<std::result::Result<_, _>>()?;
        let total: f64 = raw.iter().sum();
        let lams: Vec<f32> = raw.iter().map(|l| (l / total) as f32).collect();
        let perm = |rng: &mut ChaCha8Rng| {
            let mut v: Vec<usize> = (0..n).collect();
            v.shuffle(rng);
            v
        };
        let mut mb = vec![input.plan.partner.clone()];
        mb.extend((1..SOURCES).map(|_| perm(rng)));
        let bb: Vec<Vec<usize>> = (0..SOURCES).map(|_| perm(rng)).collect();
        let idx = |ps: &[Vec<usize>]| -> Vec<Tensor<1, Int>> {
            ps.iter().map(|v| index(v, dev)).collect()
        };
        let (mb_t, bb_t) = (idx(&mb), idx(&bb));
        let (t_mb, t_bb) = (
            self.targets(&labels, &mb, &lams, dev)?,
            self.targets(&labels, &bb, &lams, dev)?,
        );
        let (k, k_head) = p.encoder();
        let f = k.forward_capture(x.clone(), self.point)?.1.detach();
        let feats = |ps: &[Tensor<1, Int>]| -> Vec<Tensor<3>> {
            ps.iter().map(|i| f.clone().select(0, i.clone())).collect()
        };
        let mask_mb = p.mixer.module.forward(&feats(&mb_t), grid, scale);
        let x_mb = mix_sources(&x, mask_mb, &mb_t);
        let linear = |ps: &[Tensor<1, Int>]| -> Tensor<3> {
            ps.iter()
                .zip(&lams)
                .map(|(i, &l)| x.clone().select(0, i.clone()).mul_scalar(l))
                .reduce(|a, b| a + b)
                .expect("three sources")
        };
        let x_bb = match self.cfg.constant_masks(f64::from(lams[0])) {
            true => linear(&bb_t),
            false => {
                let m = p.mixer.module.forward(&feats(&bb_t), grid, scale);
                mix_sources(&x, m.detach(), &bb_t)
            }
        };
        // The online network.
        let one = model.forward(x.clone())?;
        let hits = label_hits(one.clone(), &labels)?;
        let identity: Vec<usize> = (0..n).collect();
        let loss_one = cls.eval(one, self.targets(&labels, &[identity], &[1.0], dev)?);
        let head_q = |x: Tensor<3>| -> Result<Tensor<2>> {
            Ok(p.head.module.forward(model.forward_features(x)?.1))
        };
        let loss_co = cls.eval(head_q(linear(&bb_t))?, t_bb.clone());
        let r = self.cfg.mixup_ratio;
        let loss_re = loss_one.mul_scalar(1.0 - r) + loss_co.mul_scalar(r);
        let loss_mix_q = cls.eval(head_q(x_bb)?, t_bb);
        // The generator, through the frozen momentum encoder.
        let head_k =
            |x: Tensor<3>| -> Result<Tensor<2>> { Ok(k_head.forward(k.forward_features(x)?.1)) };
        let pred_mix = head_k(x_mb)?;
        let loss_mix_k = cls.eval(pred_mix.clone(), t_mb);
        let loss_gen = match self.cfg.adversarial(input.iter) {
            false => loss_mix_k,
            true => {
                let sources = mb_t
                    .iter()
                    .map(|i| head_k(x.clone().select(0, i.clone())).map(|t| t.detach()))
                    .collect::<Result<Vec<_>>>()?;
                let b = self.cfg.beta;
                loss_mix_k.mul_scalar(-b)
                    + cosine_term(pred_mix, sources, &lams).mul_scalar(1.0 - b)
            }
        };
        Ok((loss_mix_q + loss_re + loss_gen, Some(hits)))
    }

    fn own_step(&mut self, grads: &mut Gradients, lr: f64) -> Result<()> {
        learned::own_step(&mut self.parts, grads, lr)
    }

    fn after_step(&mut self, model: &Model, at: StepAt) -> Result<()> {
        learned::follow(
            &mut self.parts,
            model,
            self.cfg.momentum_at(at.iter, at.total),
        )
    }

    fn state(&self) -> Result<Vec<AuxFile>> {
        learned::files(&self.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::read_manifest;
    use crate::config::RunOptions;
    use crate::models::ModelConfig;
    use crate::records::{NoProgress, Outcome};
    use crate::strategy::test_util::*;
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::train;
    use mixlab_core::methods::MethodConfig;
    use mixlab_core::mixer::MixerConfig;
    use serde_json::Value;

    #[test]
    fn the_adaptive_mask_matches_openmixup_on_three_sources() {
        let fx: Value = serde_json::from_str(include_str!(
            "../../../mixlab-core/tests/fixtures/automix_golden.json"
        ))
        .unwrap();
        let dev = Device::default();
        let cases = fx["adaptive_mask"].as_array().unwrap();
        assert_eq!(cases.len(), 2);
        for c in cases {
            let name = c["name"].as_str().unwrap();
            let num = |k: &str| c[k].as_u64().unwrap() as usize;
            let (n, ch, side, scale) = (num("n"), num("channels"), num("side"), num("scale"));
            let am = AdaptiveMask {
                q: torch_conv1x1(
                    f32s(&c["q_weight"]),
                    Some(f32s(&c["q_bias"])),
                    ch,
                    ch / 2,
                    &dev,
                ),
                k: torch_conv1x1(
                    f32s(&c["k_weight"]),
                    Some(f32s(&c["k_bias"])),
                    ch,
                    ch / 2,
                    &dev,
                ),
                v: torch_conv1x1(f32s(&c["v_weight"]), Some(f32s(&c["v_bias"])), ch, 1, &dev),
            };
            let fs: Vec<Tensor<3>> = c["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| Tensor::from_data(TensorData::new(f32s(f), [n, ch, side * side]), &dev))
                .collect();
            let got: Vec<f32> = am
                .forward(&fs, [side, side], scale)
                .into_data()
                .try_into_vec_as()
                .unwrap();
            let want = f32s(&c["mask"]);
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 2e-6, "{name}: {g} vs {w}");
            }
        }
    }

    fn cfg(c: AdautomixConfig) -> TrainConfig {
        small_cfg().with_mixer(MixerConfig::single(MethodConfig::Adautomix(c)))
    }

    #[test]
    fn adautomix_trains_adversarially_and_resumes_bit_for_bit() {
        let data = toy_splits();
        let run = cfg(AdautomixConfig::default());
        let tmp = tempfile::tempdir().unwrap();
        let (full, resumed) = crate::checkpoint::tests::uninterrupted_and_resumed(
            &run,
            &data,
            2,
            tmp.path(),
            |dir| {
                let m = read_manifest(dir).unwrap().unwrap();
                assert_eq!(
                    m.aux,
                    [
                        "aux-mask-generator-e0002.safetensors",
                        "aux-mask-generator-optim-e0002.bpk",
                        "aux-mix-head-e0002.safetensors",
                        "aux-mix-head-optim-e0002.bpk",
                        "aux-momentum-model-e0002.safetensors",
                        "aux-momentum-head-e0002.safetensors",
                    ]
                );
            },
        );
        assert_eq!(resumed.final_metrics, full.final_metrics);
        assert_eq!(losses(&resumed), losses(&full));
        // Without adversarial steps (an interval longer than the run but for its first step) the
        // generator learns otherwise.
        let Outcome::Finished(cooperative) = train(
            &cfg(AdautomixConfig {
                adv_interval: 1000,
                ..Default::default()
            }),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap() else {
            panic!("stopped")
        };
        assert_ne!(losses(&cooperative), losses(&full));
        let e = train(
            &cfg(AdautomixConfig::default()).with_model(ModelConfig::by_name("mlp").unwrap()),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("use --model cnn"), "{e}");
    }
}
