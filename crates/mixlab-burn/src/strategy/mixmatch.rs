//! MixMatch's training step ([`mixlab_core::methods::mixmatch`]): the labelled batch the task prepared, an
//! unlabelled batch drawn from the pool, K augmentations of it, the guessed and sharpened labels, mixup of
//! the union with λ' = max(λ, 1 − λ), and the two losses; a momentum copy of the model is what the run
//! evaluates.
//!
//! Differences from the official code (google-research/mixmatch @ 77bf67dd), each a choice the trainer
//! makes for every method:
//! - the (1 + K)·B mixed samples go through the model in one forward pass instead of K + 1 interleaved
//!   ones whose first alone updates BatchNorm (the maintainers call one concatenated forward an accepted
//!   alternative, google-research/mixmatch#5); the guessing forward runs in train mode as the official
//!   one does, and here its batch statistics also move BatchNorm's running averages;
//! - weight decay is the run optimiser's (AdamW's decoupled decay) rather than the official
//!   `v ← v·(1 − 0.02·lr)` on kernels;
//! - each step draws its unlabelled batch uniformly, with replacement, from the pool (the official reads
//!   a shuffled stream); an epoch is one pass over the labelled samples;
//! - the augmentation is the run's host augmentation (crop-flip, wave), drawn K times per step from the
//!   step's Mix stream; the labelled batch is augmented once by the task, as in the official code.

use super::{StepAt, StepInput, Strategy, batch_labels, to_i64};
use crate::augment::augment;
use crate::ema::Ema;
use crate::engine::{batch_tensor, to_f32};
use crate::error::{Error, Result};
use crate::models::Model;
use crate::state::{AuxFile, AuxKind};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use mixlab_core::methods::mixmatch::{own_weight, ramp, sharpen};
use mixlab_core::methods::{MixmatchConfig, UnlabelledLoss, sample_beta};
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use std::path::Path;

const EMA: &str = "ema";

/// The method's settings, the unlabelled pool and the evaluated momentum copy.
pub(crate) struct Mixmatch {
    cfg: MixmatchConfig,
    /// Inputs of the unlabelled training records, laid out as the training split's.
    pool: Vec<f32>,
    n_pool: usize,
    /// What padding fills with (the training split's scaled zero).
    zero: Option<Vec<f32>>,
    ema: Option<Ema>,
}

impl Mixmatch {
    pub(crate) fn new(cfg: &MixmatchConfig, data: &crate::data::Splits) -> Result<Self> {
        let len = data.train.shape.sample_len();
        let pool = match &data.unlabelled {
            Some(x) if !x.is_empty() => x.clone(),
            _ => {
                return Err(Error::Incompatible(
                    "mixmatch needs unlabelled samples: set labels_per_class (--labels-per-class N) so \
                     that the rest of the training split is unlabelled"
                        .into(),
                ));
            }
        };
        Ok(Self {
            cfg: cfg.clone(),
            n_pool: pool.len() / len,
            pool,
            zero: data.train.zero.clone(),
            ema: None,
        })
    }
}

impl Strategy for Mixmatch {
    fn begin(&mut self, model: &Model, saved: Vec<AuxFile>, origin: &Path) -> Result<()> {
        if self.cfg.ema == 0.0 {
            return super::no_saved_files(&saved, origin);
        }
        self.ema = Some(Ema::begin_single(
            model,
            self.cfg.ema,
            saved,
            EMA,
            "mixmatch",
            origin,
        )?);
        Ok(())
    }

    fn loss(
        &self,
        model: &Model,
        input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let (y, classes) = batch_labels(input.data, input.idx)?;
        let shape = input.data.train.shape;
        let len = shape.sample_len();
        let b = input.idx.len();
        let k = self.cfg.augmentations;
        // K augmentations of one unlabelled batch.
        let picks: Vec<usize> = (0..b).map(|_| rng.random_range(0..self.n_pool)).collect();
        let mut u = Vec::with_capacity(k * b * len);
        for _ in 0..k {
            let start = u.len();
            for &p in &picks {
                u.extend_from_slice(&self.pool[p * len..(p + 1) * len]);
            }
            augment(
                input.cfg.augment,
                &mut u[start..],
                &shape,
                self.zero.as_deref(),
                rng,
            );
        }
        // Guessed labels: the mean prediction over the K augmentations, sharpened; never differentiated.
        let guess = softmax(
            model
                .forward(batch_tensor(u.clone(), &shape, input.dev))?
                .detach(),
            1,
        );
        let guess = to_f32(guess.into_data())?;
        let mut q = vec![0f32; b * classes];
        for a in 0..k {
            for (o, &g) in q
                .iter_mut()
                .zip(&guess[a * b * classes..(a + 1) * b * classes])
            {
                *o += g / k as f32;
            }
        }
        sharpen(&mut q, classes, self.cfg.temperature)?;
        // W = (X, U_1..U_K) with targets (one-hot, q, .., q), mixed with a shuffled W.
        let n = (1 + k) * b;
        let mut w = input.xb;
        w.extend_from_slice(&u);
        let mut t = vec![0f32; n * classes];
        for (i, &yi) in y.iter().enumerate() {
            t[i * classes + yi] = 1.0;
        }
        for a in 0..k {
            t[(1 + a) * b * classes..(2 + a) * b * classes].copy_from_slice(&q);
        }
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(rng);
        let mut xm = vec![0f32; n * len];
        let mut tm = vec![0f32; n * classes];
        for (i, &j) in perm.iter().enumerate() {
            let l = own_weight(sample_beta(self.cfg.alpha, self.cfg.alpha, rng)?) as f32;
            let mix = |dst: &mut [f32], src: &[f32], width: usize| {
                for ((o, &a), &c) in dst[i * width..(i + 1) * width]
                    .iter_mut()
                    .zip(&src[i * width..(i + 1) * width])
                    .zip(&src[j * width..(j + 1) * width])
                {
                    *o = l * a + (1.0 - l) * c;
                }
            };
            mix(&mut xm, &w, len);
            mix(&mut tm, &t, classes);
        }
        let logits = model.forward(batch_tensor(xm, &shape, input.dev))?;
        let targets = Tensor::<2>::from_data(TensorData::new(tm, [n, classes]), input.dev);
        let (lx, tx) = (
            logits.clone().slice([0..b, 0..classes]),
            targets.clone().slice([0..b, 0..classes]),
        );
        let (lu, tu) = (
            logits.slice([b..n, 0..classes]),
            targets.slice([b..n, 0..classes]),
        );
        let hits = {
            let pred = to_i64(lx.clone().argmax(1).into_data())?;
            let want = to_i64(tx.clone().argmax(1).into_data())?;
            pred.iter().zip(&want).filter(|(p, w)| p == w).count()
        };
        let loss_x = input.cfg.class_loss.eval(lx, tx);
        let loss_u = match self.cfg.unlabelled_loss {
            UnlabelledLoss::Brier => (softmax(lu, 1) - tu).powi_scalar(2).mean(),
            UnlabelledLoss::Ce => (-(log_softmax(lu, 1) * tu).sum_dim(1)).mean(),
        };
        let weight = ramp(&self.cfg, input.iter);
        Ok((loss_x + loss_u * weight, Some(hits)))
    }

    fn after_step(&mut self, model: &Model, _at: StepAt) -> Result<()> {
        match &mut self.ema {
            Some(ema) => ema.update(model),
            None => Ok(()),
        }
    }

    fn state(&self) -> Result<Vec<AuxFile>> {
        match &self.ema {
            Some(ema) => Ok(vec![AuxFile {
                name: EMA.into(),
                kind: AuxKind::Weights,
                bytes: ema.to_bytes()?,
            }]),
            None => Ok(Vec::new()),
        }
    }

    fn eval_model(&self) -> Option<&Model> {
        self.ema.as_ref().map(|e| e.model())
    }
}

#[cfg(test)]
mod tests {
    use crate::checkpoint::tests::uninterrupted_and_resumed;
    use crate::config::Augment;
    use crate::records::{NoProgress, Outcome};
    use crate::strategy::test_util::losses;
    use crate::supervised::tests::{small_cfg, toy_images, toy_splits};
    use crate::trainer::{RunOptions, train};
    use mixlab_core::methods::{MethodConfig, MixmatchConfig};
    use mixlab_core::mixer::MixerConfig;

    fn cfg(mm: MixmatchConfig) -> crate::config::TrainConfig {
        small_cfg()
            .with_augment(Augment::CropFlip)
            .with_mixer(MixerConfig::single(MethodConfig::Mixmatch(mm)))
    }

    #[test]
    fn mixmatch_trains_on_an_unlabelled_pool_reruns_and_resumes_bit_for_bit() {
        let mut data = toy_splits();
        data.unlabelled = Some(toy_images(64, 4).x);
        let mm = MixmatchConfig {
            rampup_steps: 10,
            ema: 0.9,
            ..Default::default()
        };
        let tmp = tempfile::tempdir().unwrap();
        let (full, resumed) =
            uninterrupted_and_resumed(&cfg(mm.clone()), &data, 1, tmp.path(), |d| {
                let files: Vec<String> = std::fs::read_dir(d)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                assert!(files.iter().any(|f| f.contains("ema")), "{files:?}");
            });
        assert_eq!(losses(&full), losses(&resumed));
        assert_eq!(full.final_metrics, resumed.final_metrics);
        assert!(full.curve.iter().all(|e| e.train_loss.is_finite()));
        // The weight average is what is evaluated: evaluating the trained weights gives other numbers
        // from the same training losses.
        let plain = MixmatchConfig { ema: 0.0, ..mm };
        let Outcome::Finished(p) =
            train(&cfg(plain), &data, &RunOptions::default(), &mut NoProgress).unwrap()
        else {
            panic!("stopped")
        };
        assert_eq!(losses(&full), losses(&p));
        assert_ne!(full.final_metrics, p.final_metrics);
    }

    #[test]
    fn mixmatch_without_unlabelled_samples_is_refused() {
        let e = train(
            &cfg(MixmatchConfig::default()),
            &toy_splits(),
            &RunOptions::default(),
            &mut NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("labels_per_class"), "{e}");
    }
}
