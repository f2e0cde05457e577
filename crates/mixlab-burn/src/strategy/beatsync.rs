//! Beat- and onset-synchronous waveform mixup ([`mixlab_core::methods::beatsync`]): the batch's partners
//! are re-paired (beat mode), moved onto their samples' first downbeats or onsets and blended on the host;
//! the model then trains on the mixed batch against the plan's labels, as plain soft-target or regression
//! training would.

use super::plain::{PlainRegression, SoftTargets};
use super::{StepInput, Strategy};
use crate::error::Result;
use crate::models::Model;
use burn::prelude::*;
use mixlab_core::methods::BeatsyncConfig;
use mixlab_core::methods::beatsync::synchronise;
use mixlab_core::plan::SampleWeight;
use rand::rngs::ChaCha8Rng;

/// The method's settings and the loss it trains with once the batch is mixed.
pub(crate) struct Beatsync {
    pub cfg: BeatsyncConfig,
    pub regression: bool,
}

impl Strategy for Beatsync {
    fn loss(
        &self,
        model: &Model,
        mut input: StepInput<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor<1>, Option<usize>)> {
        let synced = synchronise(&self.cfg, &input.xb, &mut input.plan, rng)?;
        input.xb = synced.mixed;
        // The batch is mixed; the plan stays the labels' record (partners and λ) and the input is passed
        // through as it is.
        input.plan.weights.fill(SampleWeight::Keep);
        if self.regression {
            PlainRegression.loss(model, input, rng)
        } else {
            SoftTargets.loss(model, input, rng)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checkpoint::tests::uninterrupted_and_resumed;
    use crate::config::Augment;
    use crate::data::{Splits, TrainData};
    use crate::models::{Cnn1dConfig, ModelConfig};
    use crate::optim::OptimizerConfig;
    use crate::records::{FinalMetrics, NoProgress, Outcome};
    use crate::strategy::test_util::losses;
    use crate::trainer::{RunOptions, TrainConfig, train};
    use mixlab_core::methods::{BeatsyncConfig, MethodConfig};
    use mixlab_core::mixer::MixerConfig;
    use mixlab_core::rng::{Purpose, stream};
    use mixlab_core::shape::SampleShape;
    use rand::RngExt;

    const LEN: usize = 2048;

    /// Spoken-digit stand-ins: a tone burst of the class's pitch starting at a random place in silence.
    fn clips(n: usize, seed: u64) -> TrainData {
        let mut rng = stream(seed, Purpose::Augment, 0, 0);
        let mut x = vec![0f32; n * LEN];
        let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
        for (clip, &y) in x.chunks_exact_mut(LEN).zip(&labels) {
            let at = rng.random_range(100..1200);
            let pitch = 0.05 + 0.08 * y as f32;
            for (k, v) in clip.iter_mut().enumerate().skip(at).take(700) {
                let t = (k - at) as f32;
                *v = (1.0 - (-t / 30.0).exp()) * (-t / 300.0).exp() * (pitch * t).sin()
                    + 0.05 * (rng.random::<f32>() - 0.5);
            }
        }
        TrainData::classification(SampleShape::new(1, &[LEN]).unwrap(), x, labels, 3).unwrap()
    }

    #[test]
    fn beatsync_with_wave_augmentation_trains_reruns_and_resumes_bit_for_bit() {
        let data = Splits {
            train: clips(48, 1),
            val: clips(12, 2),
            test: clips(12, 3),
            unlabelled: None,
        };
        let cfg = TrainConfig::default()
            .with_model(ModelConfig::Cnn1d(Cnn1dConfig {
                channels: vec![4, 8],
                first_kernel: 16,
                first_stride: 4,
            }))
            .with_epochs(3)
            .with_batch_size(16)
            .with_lr(0.003)
            .with_optimizer(OptimizerConfig::adamw())
            .with_augment(Augment::Wave)
            .with_mixer(MixerConfig::single(MethodConfig::Beatsync(
                BeatsyncConfig::default(),
            )))
            .with_seed(3);
        let tmp = tempfile::tempdir().unwrap();
        let (full, resumed) = uninterrupted_and_resumed(&cfg, &data, 1, tmp.path(), |_| {});
        assert_eq!(losses(&full), losses(&resumed));
        assert_eq!(full.final_metrics, resumed.final_metrics);
        let Outcome::Finished(again) =
            train(&cfg, &data, &RunOptions::default(), &mut NoProgress).unwrap()
        else {
            panic!("stopped")
        };
        assert_eq!(losses(&full), losses(&again));
        assert!(matches!(
            full.final_metrics,
            FinalMetrics::Classification(_)
        ));
        // The alignment changes what the model sees: plain mixup with the same λ trains differently.
        let off = cfg
            .clone()
            .with_mixer(MixerConfig::single(MethodConfig::Beatsync(
                BeatsyncConfig {
                    align: mixlab_core::methods::Align::Off,
                    ..Default::default()
                },
            )));
        let Outcome::Finished(off) =
            train(&off, &data, &RunOptions::default(), &mut NoProgress).unwrap()
        else {
            panic!("stopped")
        };
        assert_ne!(losses(&full), losses(&off));
    }
}
