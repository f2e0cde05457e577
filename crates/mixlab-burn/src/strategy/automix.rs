//! AutoMix (mixlab-core's `methods::automix`). This strategy owns the MixBlock and the online network's mix
//! head (trained beside the model by optimisers of the run's kind), and the momentum encoder: a momentum
//! copy of the model (backbone and one-hot head) and of the mix head. All four are kept in the checkpoint.
//!
//! Each step: the momentum encoder's feature map of the clean batch at the mixing point `mask_layer` feeds
//! the MixBlock twice, for the plan's pairing (λ_mb, trained) and for a second permutation (λ_bb, detached,
//! or the constant λ_bb near 0 or 1). The loss is the sum of the online network's class loss on the clean
//! batch (one-hot head, the model's own) and on the λ_bb batch (mix head), the momentum encoder's class loss
//! on the λ_mb batch (its mix head; only the MixBlock learns from it, through the encoder's activations:
//! the copies are lifted to the autodiff device without gradients) and the mask loss. After the step the
//! copies follow the model with the scheduled momentum.

use super::learned::{self, Learned, MapShape, Slot, index, mask_point, upsample_bilinear};
use super::{StepAt, StepInput, Strategy, batch_labels, label_hits};
use crate::config::TrainConfig;
use crate::data::Splits;
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::models::{Model, normal_linear};
use crate::state::AuxFile;
use burn::nn::{BatchNorm, BatchNormConfig, Linear};
use burn::prelude::*;
use burn::tensor::Gradients;
use burn::tensor::activation::{elu, sigmoid, softmax};
use mixlab_core::methods::AutomixConfig;
use mixlab_core::methods::automix::MASK_LOSS;
use mixlab_core::methods::sample_beta;
use mixlab_core::plan::{MixPlan, SampleWeight};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use std::path::Path;

/// The MixBlock: 1×1 convolutions (as linear maps over the channels) for the query, the key (AutoMix:
/// the query's; SAMix: its own, over the concatenated pair) and the value (AutoMix: one conv; SAMix:
/// conv-BN-ELU-conv).
#[derive(Module, Debug)]
pub(crate) struct MixBlock {
    query: Linear,
    key: Option<Linear>,
    value: ValueNet,
    /// SAMix upsamples bilinearly, AutoMix by nearest neighbour.
    #[module(skip)]
    bilinear: bool,
}

/// The MixBlock's value net (one per run, so the variants' sizes do not matter).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum ValueNet {
    /// AutoMix: a 1×1 conv to one channel, with bias.
    Conv(Linear),
    /// SAMix: 1×1 conv to C/2 (no bias), BatchNorm, ELU, 1×1 conv to one channel (no bias).
    Neck(ValueNeck),
}

#[derive(Module, Debug)]
pub(crate) struct ValueNeck {
    conv1: Linear,
    bn: BatchNorm,
    conv2: Linear,
}

impl ValueNet {
    /// N×S×C → N×S×1, the map being `grid` (row-major).
    fn forward(&self, x: Tensor<3>, grid: [usize; 2]) -> Tensor<3> {
        match self {
            ValueNet::Conv(l) => l.forward(x),
            ValueNet::Neck(v) => {
                let h = v.conv1.forward(x);
                let [n, s, c] = h.dims();
                let img: Tensor<4> = h.swap_dims(1, 2).reshape([n, c, grid[0], grid[1]]);
                let h: Tensor<3> = elu(v.bn.forward(img), 1.0).reshape([n, c, s]);
                v.conv2.forward(h.swap_dims(1, 2))
            }
        }
    }
}

impl MixBlock {
    /// The partner's weight at every pixel, N×1×H×W: `sigmoid(up(softmax(qᵀk/√(C/r))·v))` for features
    /// `f` (N×C×S, the map `grid = [h, w]` row-major), partners `idx` and an integer upsampling `scale`;
    /// `lam` (SAMix) is the rescaled λ' that scales the pair's features by `1 + λ'` and `1 + (1 − λ')`.
    pub(crate) fn forward(
        &self,
        f: Tensor<3>,
        idx: Tensor<1, Int>,
        grid: [usize; 2],
        scale: usize,
        lam: Option<f64>,
    ) -> Tensor<4> {
        let [n, _, _] = f.dims();
        let [h, w] = grid;
        let mut own = f.swap_dims(1, 2);
        let mut partner = own.clone().select(0, idx);
        if let Some(l) = lam {
            own = own.mul_scalar(1.0 + l);
            partner = partner.mul_scalar(2.0 - l);
        }
        let v = self.value.forward(partner.clone(), grid);
        let (q, k) = match &self.key {
            Some(key) => {
                let pair = Tensor::cat(vec![own, partner], 2);
                (self.query.forward(pair.clone()), key.forward(pair))
            }
            None => (self.query.forward(own), self.query.forward(partner)),
        };
        let inter = q.dims()[2];
        let p = softmax(
            q.matmul(k.swap_dims(1, 2))
                .div_scalar((inter as f64).sqrt()),
            2,
        );
        let m: Tensor<3> = p.matmul(v).reshape([n, h, w]);
        let up = match self.bilinear {
            false => {
                let m: Tensor<5> = m.reshape([n, h, 1, w, 1]);
                m.expand([n, h, scale, w, scale])
                    .reshape([n, h * scale, w * scale])
            }
            true => upsample_bilinear(m, scale),
        };
        sigmoid(up.reshape([n, 1, h * scale, w * scale]))
    }
}

pub(crate) struct Automix {
    cfg: AutomixConfig,
    /// SAMix's MixBlock and mask loss instead of AutoMix's.
    samix: bool,
    run: TrainConfig,
    shape: SampleShape,
    classes: usize,
    point: usize,
    plain: Device,
    parts: Slot<MixBlock>,
}

impl Automix {
    pub(crate) fn new(
        cfg: &AutomixConfig,
        samix: bool,
        run: &TrainConfig,
        data: &Splits,
        plain: &Device,
    ) -> Result<Self> {
        Ok(Self {
            point: mask_point(cfg.mask_layer, &run.model)?,
            cfg: cfg.clone(),
            samix,
            run: run.clone(),
            shape: data.train.shape,
            classes: data.train.outputs(),
            plain: plain.clone(),
            parts: None,
        })
    }

    fn parts(&self) -> Result<&(Learned<MixBlock>, MapShape)> {
        self.parts.as_ref().ok_or_else(|| {
            Error::Incompatible("automix's MixBlock was used before the run began".into())
        })
    }

    /// Soft targets `λ·ẏ_i + (1 − λ)·ẏ_partner` on the device.
    fn targets(
        &self,
        labels: &[usize],
        partner: &[usize],
        lam: f32,
        dev: &Device,
    ) -> Result<Tensor<2>> {
        let n = labels.len();
        let mut plan = MixPlan::identity(n, self.shape);
        plan.partner = partner.to_vec();
        plan.lam_label = vec![lam; n];
        let t = plan.soft_targets(labels, self.classes, self.run.mixer.label_smoothing)?;
        Ok(Tensor::from_data(
            TensorData::new(t, [n, self.classes]),
            dev,
        ))
    }
}

/// `x·(1 − m) + x[idx]·m` for a batch N×C×S and a mask N×1×H×W (S = H·W).
fn mix(x: &Tensor<3>, mask: Tensor<4>, idx: Tensor<1, Int>) -> Tensor<3> {
    let [n, _, s] = x.dims();
    let m: Tensor<3> = mask.reshape([n, 1, s]);
    x.clone() * (m.clone().neg() + 1.0) + x.clone().select(0, idx) * m
}

impl Strategy for Automix {
    fn begin(&mut self, model: &Model, saved: Vec<AuxFile>, origin: &Path) -> Result<()> {
        let dev = self.plain.clone().autodiff();
        let map = MapShape::probe(model, &self.shape, self.point, &self.plain)?;
        let c = map.channels;
        let inter = (c / self.cfg.reduction).max(1);
        let mut rng = stream(self.run.seed, Purpose::Init, 5, 0);
        let no_bias = |d_in, d_out, rng: &mut ChaCha8Rng| {
            let mut l = normal_linear(d_in, d_out, 0.01, rng, &dev);
            l.bias = None;
            l
        };
        let block = match self.samix {
            false => MixBlock {
                query: normal_linear(c, inter, 0.01, &mut rng, &dev),
                key: None,
                value: ValueNet::Conv(normal_linear(c, 1, 0.01, &mut rng, &dev)),
                bilinear: false,
            },
            true => MixBlock {
                query: normal_linear(2 * c, inter, 0.01, &mut rng, &dev),
                key: Some(normal_linear(2 * c, inter, 0.01, &mut rng, &dev)),
                value: ValueNet::Neck(ValueNeck {
                    conv1: no_bias(c, inter, &mut rng),
                    bn: BatchNormConfig::new(inter).init(&dev),
                    conv2: no_bias(inter, 1, &mut rng),
                }),
                bilinear: true,
            },
        };
        let head = normal_linear(map.features, self.classes, 0.01, &mut rng, &dev);
        let who = if self.samix { "samix" } else { "automix" };
        let learned = Learned::begin(
            block,
            "mixblock",
            head,
            &self.run,
            self.cfg.momentum,
            model,
            saved,
            origin,
            who,
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
        let (p, map) = self.parts()?;
        let (grid, scale) = (map.grid, map.scale);
        let (labels, _) = batch_labels(input.data, input.idx)?;
        let (n, dev, cls) = (labels.len(), input.dev, self.run.class_loss);
        let plan = &input.plan;
        let x = batch_tensor(input.xb.clone(), &self.shape, dev);
        let hard = self.targets(&labels, &labels_order(n), 1.0, dev)?;
        let one_q = model.forward(x.clone())?;
        let hits = label_hits(one_q.clone(), &labels)?;
        let loss_one = cls.eval(one_q, hard);
        // The mixer decides whether this batch is mixed (prob, off epoch) and draws λ_mb and its pairing;
        // a sample it paired with itself is kept, which the mask leaves as it is.
        let blends: Vec<f32> = plan
            .weights
            .iter()
            .filter_map(|w| match w {
                SampleWeight::Blend { lam } => Some(Ok(*lam)),
                SampleWeight::Keep => None,
                other => Some(Err(Error::Incompatible(format!(
                    "automix expects one λ per batch from its draw, the plan has {other:?}"
                )))),
            })
            .collect::<Result<_>>()?;
        let Some(&lam_mb) = blends.first() else {
            return Ok((loss_one, Some(hits)));
        };
        if blends.iter().any(|&l| l != lam_mb) {
            return Err(Error::Incompatible(
                "automix mixes a whole batch with one λ: use granularity batch".into(),
            ));
        }
        let lam_bb = sample_beta(self.cfg.alpha, self.cfg.alpha, rng)? as f32;
        let mut perm_bb: Vec<usize> = (0..n).collect();
        perm_bb.shuffle(rng);
        let (idx_mb, idx_bb) = (index(&plan.partner, dev), index(&perm_bb, dev));
        // The momentum encoder on the autodiff device, without gradients of its own.
        let (k, k_head) = p.encoder();
        let f = k.forward_capture(x.clone(), self.point)?.1.detach();
        // SAMix scales the pair's features by the rescaled λ of the mask being drawn.
        let lam_of = |l: f32| self.samix.then(|| self.cfg.rescale_lam(f64::from(l)));
        let block = &p.mixer.module;
        let mask_mb = block.forward(f.clone(), idx_mb.clone(), grid, scale, lam_of(lam_mb));
        let x_bb = match self.cfg.plain_mixup(f64::from(lam_bb)) {
            true => {
                x.clone().mul_scalar(lam_bb) + x.clone().select(0, idx_bb).mul_scalar(1.0 - lam_bb)
            }
            false => {
                let m = block.forward(f, idx_bb.clone(), grid, scale, lam_of(lam_bb));
                mix(&x, m.detach(), idx_bb)
            }
        };
        let x_mb = mix(&x, mask_mb.clone(), idx_mb);
        let (_, feats_k) = k.forward_features(x_mb)?;
        let loss_mix_k = cls.eval(
            k_head.forward(feats_k),
            self.targets(&labels, &plan.partner, lam_mb, dev)?,
        );
        let (_, feats_q) = model.forward_features(x_bb)?;
        let loss_mix_q = cls.eval(
            p.head.module.forward(feats_q),
            self.targets(&labels, &perm_bb, lam_bb, dev)?,
        );
        let (weight, margin) = MASK_LOSS;
        let loss_mask = mask_loss(mask_mb, lam_mb, margin, self.samix).mul_scalar(weight);
        Ok((loss_mix_q + loss_one + loss_mix_k + loss_mask, Some(hits)))
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

/// Each sample its own partner (the one-hot targets of the clean batch).
fn labels_order(n: usize) -> Vec<usize> {
    (0..n).collect()
}

/// The MixBlock's mask loss: "L1", `max(|1 − mean(m) − λ| − margin, 0)` with `mean(m)` over the whole batch,
/// and for SAMix ("L1+Variance") minus twice the mask's variance over the batch's pixels.
pub(crate) fn mask_loss(mask: Tensor<4>, lam: f32, margin: f64, variance: bool) -> Tensor<1> {
    let mean = mask.clone().mean();
    let l1 = (mean.clone().neg() + (1.0 - f64::from(lam)))
        .abs()
        .sub_scalar(margin)
        .clamp_min(0.0);
    match variance {
        false => l1,
        true => {
            let [n, c, h, w] = mask.dims();
            let centred: Tensor<4> = mask - mean.reshape([1, 1, 1, 1]);
            let var = centred
                .powi_scalar(2)
                .sum()
                .div_scalar((n * c * h * w) as f64);
            l1 - var.clamp_min(0.0).mul_scalar(2.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::read_manifest;
    use crate::config::RunOptions;
    use crate::models::{CnnConfig, ModelConfig};
    use crate::records::{NoProgress, Outcome};
    use crate::strategy::test_util::*;
    use crate::supervised::tests::{small_cfg, toy_splits};
    use crate::trainer::train;
    use burn::module::Param;
    use mixlab_core::methods::MethodConfig;
    use mixlab_core::mixer::MixerConfig;
    use serde_json::Value;

    #[test]
    fn the_mixblock_and_its_mask_loss_match_openmixup() {
        let fx: Value = serde_json::from_str(include_str!(
            "../../../mixlab-core/tests/fixtures/automix_golden.json"
        ))
        .unwrap();
        let dev = Device::default();
        for c in fx["blocks"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let num = |k: &str| c[k].as_u64().unwrap() as usize;
            let (n, ch, side, scale) = (num("n"), num("channels"), num("side"), num("scale"));
            let block = MixBlock {
                query: torch_conv1x1(
                    f32s(&c["query_weight"]),
                    Some(f32s(&c["query_bias"])),
                    ch,
                    ch / 2,
                    &dev,
                ),
                key: None,
                value: ValueNet::Conv(torch_conv1x1(
                    f32s(&c["value_weight"]),
                    Some(f32s(&c["value_bias"])),
                    ch,
                    1,
                    &dev,
                )),
                bilinear: false,
            };
            let idx: Vec<usize> = c["index"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let f = Tensor::<3>::from_data(
                TensorData::new(f32s(&c["features"]), [n, ch, side * side]),
                &dev,
            );
            let m = block.forward(f, index(&idx, &dev), [side, side], scale, None);
            let got: Vec<f32> = m.clone().into_data().try_into_vec_as().unwrap();
            // The reference's mask is [1 − m, m] per sample.
            let want = f32s(&c["mask"]);
            let px = (side * scale) * (side * scale);
            for s in 0..n {
                for k in 0..px {
                    let (g, w1, w0) = (
                        got[s * px + k],
                        want[(s * 2 + 1) * px + k],
                        want[s * 2 * px + k],
                    );
                    assert!((g - w1).abs() < 2e-6, "{name}: {g} vs {w1}");
                    assert!((1.0 - g - w0).abs() < 2e-6, "{name}: channel 0");
                }
            }
            for pair in c["mask_losses"].as_array().unwrap() {
                let (lam, want) = (pair[0].as_f64().unwrap() as f32, pair[1].as_f64().unwrap());
                let got: f32 = mask_loss(m.clone(), lam, 0.1, false).into_scalar();
                assert!(
                    (f64::from(got) - want).abs() < 2e-6,
                    "{name} λ {lam}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_samix_mixblock_and_its_mask_loss_match_openmixup() {
        // SAMix's block in training mode: BatchNorm on batch statistics, so on the autodiff device.
        let fx: Value = serde_json::from_str(include_str!(
            "../../../mixlab-core/tests/fixtures/automix_golden.json"
        ))
        .unwrap();
        let dev = Device::default().autodiff();
        let cfg = AutomixConfig::default();
        for c in fx["samix"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let num = |k: &str| c[k].as_u64().unwrap() as usize;
            let (n, ch, side, scale) = (num("n"), num("channels"), num("side"), num("scale"));
            let lam = c["lam"].as_f64().unwrap();
            let rescaled = cfg.rescale_lam(lam);
            assert!((rescaled - c["lam_rescaled"].as_f64().unwrap()).abs() < 1e-12);
            let mut bn = BatchNormConfig::new(ch / 2).init(&dev);
            bn.gamma = Param::from_tensor(Tensor::from_data(
                TensorData::new(f32s(&c["bn_weight"]), [ch / 2]),
                &dev,
            ));
            bn.beta = Param::from_tensor(Tensor::from_data(
                TensorData::new(f32s(&c["bn_bias"]), [ch / 2]),
                &dev,
            ));
            let block = MixBlock {
                query: torch_conv1x1(
                    f32s(&c["query_weight"]),
                    Some(f32s(&c["query_bias"])),
                    2 * ch,
                    ch / 2,
                    &dev,
                ),
                key: Some(torch_conv1x1(
                    f32s(&c["key_weight"]),
                    Some(f32s(&c["key_bias"])),
                    2 * ch,
                    ch / 2,
                    &dev,
                )),
                value: ValueNet::Neck(ValueNeck {
                    conv1: torch_conv1x1(f32s(&c["value1_weight"]), None, ch, ch / 2, &dev),
                    bn,
                    conv2: torch_conv1x1(f32s(&c["value2_weight"]), None, ch / 2, 1, &dev),
                }),
                bilinear: true,
            };
            let idx: Vec<usize> = c["index"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let f = Tensor::<3>::from_data(
                TensorData::new(f32s(&c["features"]), [n, ch, side * side]),
                &dev,
            );
            let m = block.forward(f, index(&idx, &dev), [side, side], scale, Some(rescaled));
            let got: Vec<f32> = m.clone().into_data().try_into_vec_as().unwrap();
            let want = f32s(&c["mask"]);
            let px = (side * scale) * (side * scale);
            for s in 0..n {
                for k in 0..px {
                    let (g, w1) = (got[s * px + k], want[(s * 2 + 1) * px + k]);
                    assert!((g - w1).abs() < 1e-5, "{name}: {g} vs {w1}");
                }
            }
            for pair in c["mask_losses"].as_array().unwrap() {
                let (lam, want) = (pair[0].as_f64().unwrap() as f32, pair[1].as_f64().unwrap());
                let got: f32 = mask_loss(m.clone(), lam, 0.1, true).into_scalar();
                assert!(
                    (f64::from(got) - want).abs() < 1e-5,
                    "{name} λ {lam}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_mixblock_learns_through_the_frozen_encoder_only() {
        // The encoder's loss on a MixBlock-mixed batch reaches the MixBlock and no encoder weight.
        let dev = Device::default().autodiff();
        let shape = SampleShape::d2(1, 8, 8).unwrap();
        let cfg = ModelConfig::Cnn(CnnConfig {
            channels: vec![4, 8],
            hidden: 16,
        });
        let online = cfg.init(&shape, 3, 1, &dev).unwrap();
        let k = online.valid().train().no_grad();
        let mut rng = stream(3, Purpose::Init, 5, 0);
        let block = MixBlock {
            query: normal_linear(4, 2, 0.5, &mut rng, &dev),
            key: None,
            value: ValueNet::Conv(normal_linear(4, 1, 0.5, &mut rng, &dev)),
            bilinear: false,
        };
        let x = Tensor::<3>::from_data(
            TensorData::new(
                (0..4 * 64)
                    .map(|i| ((i * 7) % 13) as f32 / 6.0)
                    .collect::<Vec<_>>(),
                [4, 1, 64],
            ),
            &dev,
        );
        let idx = index(&[1, 2, 3, 0], &dev);
        let f = k.forward_capture(x.clone(), 1).unwrap().1.detach();
        let mask = block.forward(f, idx.clone(), [4, 4], 2, None);
        let out = k.forward(mix(&x, mask, idx)).unwrap();
        let grads = out.powi_scalar(2).mean().backward();
        assert!(block.query.weight.grad(&grads).is_some());
        let ValueNet::Conv(value) = &block.value else {
            panic!("AutoMix's value is one conv")
        };
        assert!(value.weight.grad(&grads).is_some());
        let mut seen = 0;
        struct Grads<'a>(&'a Gradients, &'a mut usize);
        impl burn::module::ModuleVisitor for Grads<'_> {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                assert!(
                    p.val().grad(self.0).is_none(),
                    "an encoder weight got a gradient"
                );
                *self.1 += 1;
            }
        }
        k.visit(&mut Grads(&grads, &mut seen));
        assert!(seen > 4);
    }

    fn cfg(c: AutomixConfig) -> TrainConfig {
        small_cfg().with_mixer(MixerConfig::single(MethodConfig::Automix(c)))
    }

    #[test]
    fn automix_trains_its_mixblock_and_momentum_encoder_and_resumes_bit_for_bit() {
        let data = toy_splits();
        let run = cfg(AutomixConfig::default());
        let tmp = tempfile::tempdir().unwrap();
        let mut at_two = Vec::new();
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
                        "aux-mixblock-e0002.safetensors",
                        "aux-mixblock-optim-e0002.bpk",
                        "aux-mix-head-e0002.safetensors",
                        "aux-mix-head-optim-e0002.bpk",
                        "aux-momentum-model-e0002.safetensors",
                        "aux-momentum-head-e0002.safetensors",
                    ]
                );
                at_two = m
                    .aux
                    .iter()
                    .map(|f| std::fs::read(dir.join(f)).unwrap())
                    .collect();
            },
        );
        assert_eq!(resumed.final_metrics, full.final_metrics);
        assert_eq!(losses(&resumed), losses(&full));
        // Every strategy module moved in the third epoch: the MixBlock and the mix head by their
        // optimisers, the momentum copies by the momentum.
        let m = read_manifest(tmp.path()).unwrap().unwrap();
        for (k, f) in m
            .aux
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 2 == 0 || *k >= 4)
        {
            assert_ne!(std::fs::read(tmp.path().join(f)).unwrap(), at_two[k], "{f}");
        }
        // Another mixing point is another MixBlock input and other numbers.
        let Outcome::Finished(deep) = train(
            &cfg(AutomixConfig {
                mask_layer: Some(2),
                ..Default::default()
            }),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap() else {
            panic!("stopped")
        };
        assert_ne!(losses(&deep), losses(&full));
    }

    #[test]
    fn samix_trains_and_resumes_bit_for_bit() {
        let data = toy_splits();
        let run = small_cfg().with_mixer(MixerConfig::single(MethodConfig::Samix(
            AutomixConfig::default(),
        )));
        let tmp = tempfile::tempdir().unwrap();
        let (full, resumed) =
            crate::checkpoint::tests::uninterrupted_and_resumed(&run, &data, 2, tmp.path(), |_| {});
        assert_eq!(resumed.final_metrics, full.final_metrics);
        assert_eq!(losses(&resumed), losses(&full));
        let Outcome::Finished(auto) = train(
            &cfg(AutomixConfig::default()),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap() else {
            panic!("stopped")
        };
        assert_ne!(losses(&auto), losses(&full));
    }

    #[test]
    fn a_resnet_automix_run_resumes_its_batchnorm_momentum_encoder_bit_for_bit() {
        // The momentum encoder's BatchNorm runs on batch statistics and its running statistics move too:
        // the checkpoint must carry all of it.
        let data = toy_splits();
        let run = cfg(AutomixConfig::default())
            .with_model(ModelConfig::Resnet18(crate::models::ResNetConfig {
                width: 2,
            }))
            .with_epochs(2);
        let tmp = tempfile::tempdir().unwrap();
        let (full, resumed) =
            crate::checkpoint::tests::uninterrupted_and_resumed(&run, &data, 1, tmp.path(), |_| {});
        assert_eq!(resumed.final_metrics, full.final_metrics);
        assert_eq!(losses(&resumed), losses(&full));
    }

    #[test]
    fn automix_refuses_what_it_cannot_mix() {
        let data = toy_splits();
        let opts = RunOptions::default();
        let e = |c: TrainConfig| {
            train(&c, &data, &opts, &mut NoProgress)
                .unwrap_err()
                .to_string()
        };
        let msg = e(cfg(AutomixConfig {
            mask_layer: Some(0),
            ..Default::default()
        }));
        assert!(msg.contains("mask_layer"), "{msg}");
        let msg = e(cfg(AutomixConfig::default()).with_model(ModelConfig::by_name("mlp").unwrap()));
        assert!(msg.contains("use --model cnn"), "{msg}");
        let per_sample = MixerConfig::single(MethodConfig::Automix(AutomixConfig::default()))
            .with_granularity(mixlab_core::mixer::Granularity::Elem);
        let msg = e(small_cfg().with_mixer(per_sample));
        assert!(msg.contains("granularity batch"), "{msg}");
    }
}
