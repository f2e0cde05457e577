//! AdaMixUp (mixlab-core's `methods::adamixup`): the first half of the batch is mixed with its partners
//! at a λ the policy network draws, the second half is only shown to the intrusion discriminator. This
//! strategy owns and trains the policy (a copy of the classifier's architecture with its own weights, a
//! linear layer to 3 after its head) and the discriminator's two linear layers on the classifier's
//! penultimate features; both are kept in the checkpoint with their optimiser states. The loss is the
//! run's class loss of the classifier on the mixed and the clean half, plus the weighted cross-entropy
//! of the discriminator (real: unseen and clean halves; mixed: the mixed half). Every loss reaches the
//! policy through λ, which enters the mixed images and labels on the device.

use super::{StepInput, Strategy, batch_labels, to_i64};
use crate::config::TrainConfig;
use crate::data::Splits;
use crate::engine::batch_tensor;
use crate::error::{Error, Result};
use crate::loss::soft_cross_entropy;
use crate::models::{Model, normal_linear, seeded};
use crate::owned::Owned;
use crate::state::AuxFile;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::Gradients;
use burn::tensor::activation::softmax;
use mixlab_core::methods::AdamixupConfig;
use mixlab_core::methods::adamixup::{intrusion_labels, truncated_normal};
use mixlab_core::plan::MixPlan;
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use std::path::Path;

/// The policy network: the classifier's architecture with `policy_width` outputs, then a linear layer to
/// the softmax triple `(a, b, c)`.
#[derive(Module, Debug)]
pub(crate) struct Policy {
    net: Model,
    fc: Linear,
}

/// The intrusion discriminator's head on the classifier's penultimate features: to the classes, then to
/// real / mixed (`linear001`, `linear2`).
#[derive(Module, Debug)]
pub(crate) struct Intrusion {
    l1: Linear,
    l2: Linear,
}

pub(crate) struct Adamixup {
    cfg: AdamixupConfig,
    /// The run's config: the owned modules' architecture, optimiser and seed.
    run: TrainConfig,
    shape: SampleShape,
    classes: usize,
    plain: Device,
    policy: Option<Owned<Policy>>,
    intrusion: Option<Owned<Intrusion>>,
}

impl Adamixup {
    pub(crate) fn new(
        cfg: &AdamixupConfig,
        run: &TrainConfig,
        data: &Splits,
        plain: &Device,
    ) -> Self {
        Self {
            cfg: cfg.clone(),
            run: run.clone(),
            shape: data.train.shape,
            classes: data.train.outputs(),
            plain: plain.clone(),
            policy: None,
            intrusion: None,
        }
    }

    fn parts(&self) -> Result<(&Policy, &Intrusion)> {
        match (&self.policy, &self.intrusion) {
            (Some(p), Some(i)) => Ok((&p.module, &i.module)),
            _ => Err(Error::Incompatible(
                "adamixup's policy was used before the run began".into(),
            )),
        }
    }
}

impl Strategy for Adamixup {
    fn begin(&mut self, model: &Model, saved: Vec<AuxFile>, origin: &Path) -> Result<()> {
        let dev = self.plain.clone().autodiff();
        let seed = self.run.seed;
        let width = self.cfg.policy_width;
        // The policy's own weights: the model's initialiser on another Init stream.
        let net = seeded(
            self.run.model.init(&self.shape, width, seed, &dev)?,
            seed,
            2,
        );
        let mut rng = stream(seed, Purpose::Init, 3, 0);
        let policy = Policy {
            net,
            fc: normal_linear(width, 3, 1e-3, &mut rng, &dev),
        };
        // The discriminator reads the penultimate features; an eval-mode forward of one blank sample on
        // the plain device tells their width without touching the model's BatchNorm statistics.
        let blank = batch_tensor(vec![0.0; self.shape.sample_len()], &self.shape, &self.plain);
        let feat = model.valid().forward_features(blank)?.1.dims()[1];
        let intrusion = Intrusion {
            l1: normal_linear(feat, self.classes, 1e-3, &mut rng, &dev),
            l2: normal_linear(self.classes, 2, 1e-3, &mut rng, &dev),
        };
        let mut saved = saved;
        self.policy = Some(Owned::begin(
            policy, "policy", &self.run, &mut saved, origin,
        )?);
        self.intrusion = Some(Owned::begin(
            intrusion,
            "intrusion",
            &self.run,
            &mut saved,
            origin,
        )?);
        match saved.first() {
            None => Ok(()),
            Some(f) => Err(Error::ckpt(
                origin,
                format!(
                    "it holds a strategy file ({}) adamixup does not keep",
                    f.name
                ),
            )),
        }
    }

    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let (policy, intrusion) = self.parts()?;
        let (labels, classes) = batch_labels(input.data, input.idx)?;
        let shape = input.data.train.shape;
        let (n, len, dev) = (labels.len(), shape.sample_len(), input.dev);
        let h = n / 2;
        if h == 0 {
            return Err(Error::Incompatible(
                "adamixup splits each batch into a mixed and an unseen half: use a batch of at least 2"
                    .into(),
            ));
        }
        let partner = &input.plan.partner;
        let xb = &input.xb;
        let x2: Vec<f32> = (0..h)
            .flat_map(|i| xb[partner[i] * len..(partner[i] + 1) * len].iter().copied())
            .collect();
        let x1 = &xb[..h * len];
        // The policy's input: a noisy average of each pair; then one uniform draw per pair.
        let m1: Vec<f32> = (0..h * len).map(|_| truncated_normal(rng)).collect();
        let m2: Vec<f32> = (0..h * len).map(|_| truncated_normal(rng)).collect();
        let gate: Vec<f32> = (0..h * len)
            .map(|k| (m1[k] * x1[k] + m2[k] * x2[k]) / 2.0)
            .collect();
        let u: Vec<f32> = (0..h).map(|_| rng.random::<f32>()).collect();
        let abc = softmax(
            policy
                .fc
                .forward(policy.net.forward(batch_tensor(gate, &shape, dev))?),
            1,
        );
        let u = Tensor::<2>::from_data(TensorData::new(u, [h, 1]), dev);
        let lam = abc.clone().slice([0..h, 0..1]) + u * abc.slice([0..h, 1..2]);
        let x1t = batch_tensor(x1.to_vec(), &shape, dev);
        let lam3: Tensor<3> = lam.clone().reshape([h, 1, 1]);
        let mixed = x1t.clone() * lam3.clone() + batch_tensor(x2, &shape, dev) * (lam3.neg() + 1.0);
        let one_hot = |ys: Vec<usize>| -> Result<Tensor<2>> {
            let t = MixPlan::identity(ys.len(), shape).soft_targets(
                &ys,
                classes,
                self.run.mixer.label_smoothing,
            )?;
            Ok(Tensor::from_data(
                TensorData::new(t, [ys.len(), classes]),
                dev,
            ))
        };
        let y1 = one_hot(labels[..h].to_vec())?;
        let y2 = one_hot((0..h).map(|i| labels[partner[i]]).collect())?;
        let y_mix = y1.clone() * lam.clone() + y2 * (lam.clone().neg() + 1.0);
        let out = model.forward(Tensor::cat(vec![mixed.clone(), x1t.clone()], 0))?;
        let targets = Tensor::cat(vec![y_mix, y1], 0);
        let loss_cls = self.run.class_loss.eval(out.clone(), targets.clone());
        // The discriminator: unseen and clean halves are real (1), the mixed half is not (0).
        let unseen = batch_tensor(xb[h * len..].to_vec(), &shape, dev);
        let (_, feats) = model.forward_features(Tensor::cat(vec![unseen, x1t, mixed], 0))?;
        let real = Tensor::<2>::from_data(
            TensorData::new(
                intrusion_labels(n - h, h)
                    .into_iter()
                    .flat_map(|y| [(1 - y) as f32, y as f32])
                    .collect::<Vec<_>>(),
                [n + h, 2],
            ),
            dev,
        );
        let loss_int = soft_cross_entropy(intrusion.l2.forward(intrusion.l1.forward(feats)), real);
        let pred = to_i64(out.argmax(1).into_data())?;
        let want = to_i64(targets.argmax(1).into_data())?;
        let hits = pred.iter().zip(&want).filter(|(p, w)| p == w).count();
        Ok((
            loss_cls + loss_int.mul_scalar(self.cfg.intrusion_weight),
            Some(hits),
        ))
    }

    fn own_step(&mut self, grads: &mut Gradients, lr: f64) -> Result<()> {
        if let Some(p) = &mut self.policy {
            p.step(grads, lr);
        }
        if let Some(i) = &mut self.intrusion {
            i.step(grads, lr);
        }
        Ok(())
    }

    fn state(&self) -> Result<Vec<AuxFile>> {
        let mut files = Vec::new();
        if let (Some(p), Some(i)) = (&self.policy, &self.intrusion) {
            files.extend(p.files()?);
            files.extend(i.files()?);
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use crate::checkpoint::read_manifest;
    use crate::config::RunOptions;
    use crate::records::{NoProgress, Outcome};
    use crate::strategy::test_util::*;
    use crate::supervised::tests::{small_cfg, toy_regression, toy_splits};
    use crate::trainer::train;
    use mixlab_core::methods::{AdamixupConfig, MethodConfig};
    use mixlab_core::mixer::MixerConfig;

    fn cfg(c: AdamixupConfig) -> crate::config::TrainConfig {
        small_cfg().with_mixer(MixerConfig::single(MethodConfig::Adamixup(c)))
    }

    #[test]
    fn the_policy_and_discriminator_train_and_resume_bit_for_bit() {
        let data = toy_splits();
        let run = cfg(AdamixupConfig::default());
        let tmp = tempfile::tempdir().unwrap();
        let mut first_policy = Vec::new();
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
                        "aux-policy-e0002.safetensors",
                        "aux-policy-optim-e0002.bpk",
                        "aux-intrusion-e0002.safetensors",
                        "aux-intrusion-optim-e0002.bpk",
                    ]
                );
                first_policy = std::fs::read(dir.join(&m.aux[0])).unwrap();
            },
        );
        assert_eq!(resumed.final_metrics, full.final_metrics);
        assert_eq!(losses(&resumed), losses(&full));
        // The policy kept learning after epoch 2: the final checkpoint's weights differ.
        let m = read_manifest(tmp.path()).unwrap().unwrap();
        assert_ne!(
            std::fs::read(tmp.path().join(&m.aux[0])).unwrap(),
            first_policy
        );
        // Without the discriminator the same draws train to other numbers.
        let Outcome::Finished(quiet) = train(
            &cfg(AdamixupConfig {
                intrusion_weight: 0.0,
                ..Default::default()
            }),
            &data,
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap() else {
            panic!("stopped")
        };
        assert_ne!(losses(&quiet), losses(&full));
    }

    #[test]
    fn adamixup_refuses_regression_and_single_sample_batches() {
        let opts = RunOptions::default();
        let e = train(
            &cfg(AdamixupConfig::default())
                .with_model(crate::models::ModelConfig::by_name("mlp").unwrap())
                .with_augment(crate::config::Augment::None),
            &toy_regression(),
            &opts,
            &mut NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("classification"), "{e}");
        let e = train(
            &cfg(AdamixupConfig::default()).with_batch_size(1),
            &toy_splits(),
            &opts,
            &mut NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("at least 2"), "{e}");
    }
}
