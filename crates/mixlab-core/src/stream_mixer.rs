//! A mixer that keeps its own place in the random streams, for loops mixlab does not drive: each plan comes
//! from `stream(seed, Mix, epoch, step)` and advances the step, so the same calls in the same order give the
//! same batches on every run, and a stored [`StreamMixer::position`] resumes them. mixlab-burn's `BatchMixer`
//! and the Python package's mixers are this plus their own tensor types.

use crate::error::{Error, Result};
use crate::mixer::{BatchInfo, MixerConfig};
use crate::plan::MixPlan;
use crate::rng::{Purpose, stream};
use crate::shape::SampleShape;

/// Input-level mixing with its own `(seed, epoch, step)` stream (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct StreamMixer {
    config: MixerConfig,
    seed: u64,
    epoch: u64,
    step: u64,
}

impl StreamMixer {
    /// A mixer at epoch 0, step 0. Refuses an empty method list, a method that needs the model, the
    /// training set or a loss of its own (those live in mixlab's trainer), and options that are invalid
    /// whatever the sample shape (α, prob, label smoothing, weights); shape rules are checked per batch.
    pub fn new(config: MixerConfig, seed: u64) -> Result<Self> {
        if config.methods.is_empty() {
            return Err(Error::Incompatible(
                "the mixer config names no method (use `none` for an unmixed baseline)".into(),
            ));
        }
        if let Some(m) = config
            .methods
            .iter()
            .map(|w| w.config.method())
            .find(|m| !m.is_input_level())
        {
            return Err(Error::Incompatible(format!(
                "{m} needs the model or the training set in the loop; a host or own-loop mixer takes \
                 input-level methods only (use mixlab's trainer for {m})"
            )));
        }
        // A shape every input-level method accepts: what fails on it is a shape-free option.
        let probe = SampleShape::d2(1, 64, 64)?;
        if let Err(e @ Error::InvalidParam { .. }) = config.validate(&probe) {
            return Err(e);
        }
        Ok(Self {
            config,
            seed,
            epoch: 0,
            step: 0,
        })
    }

    /// The config.
    pub fn config(&self) -> &MixerConfig {
        &self.config
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Starts an epoch: later plans come from `(seed, epoch, step 0, 1, …)`.
    pub fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.step = 0;
    }

    /// The `(epoch, step)` of the next plan, to store in a checkpoint.
    pub fn position(&self) -> (u64, u64) {
        (self.epoch, self.step)
    }

    /// Continues from a stored [`position`](Self::position).
    pub fn resume_at(&mut self, epoch: u64, step: u64) {
        self.epoch = epoch;
        self.step = step;
    }

    /// True when a method looks at the batch to draw its plan (saliencymix): pass `data` then.
    pub fn needs_data(&self) -> bool {
        self.config.methods.iter().any(|m| m.config.needs_data())
    }

    /// The next plan for `batch` samples of `shape` (`data`: the batch as B×C×spatial f32, for the
    /// methods that look at it); advances the step.
    pub fn next_plan(
        &mut self,
        batch: usize,
        shape: SampleShape,
        data: Option<&[f32]>,
    ) -> Result<MixPlan> {
        let info = BatchInfo {
            batch,
            shape,
            epoch: self.epoch,
            data,
        };
        let mut rng = stream(self.seed, Purpose::Mix, self.epoch, self.step);
        let plan = self.config.sample(&info, &mut rng)?;
        self.step += 1;
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::{MethodConfig, MixupConfig};

    #[test]
    fn plans_follow_the_stream_and_resume_where_they_stopped() {
        let shape = SampleShape::d2(1, 4, 4).unwrap();
        let mut a = StreamMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 3).unwrap();
        let first: Vec<MixPlan> = (0..4)
            .map(|_| a.next_plan(6, shape, None).unwrap())
            .collect();
        assert_eq!(a.position(), (0, 4));
        let mut b = StreamMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 3).unwrap();
        b.resume_at(0, 2);
        assert_eq!(b.next_plan(6, shape, None).unwrap(), first[2]);
        b.set_epoch(1);
        assert_eq!(b.position(), (1, 0));
        assert_ne!(b.next_plan(6, shape, None).unwrap(), first[0]);
        // The step's own stream, drawn directly, is the same plan.
        let direct = MixerConfig::mixup_cutmix(0.8, 1.0)
            .sample(
                &BatchInfo {
                    batch: 6,
                    shape,
                    epoch: 0,
                    data: None,
                },
                &mut stream(3, Purpose::Mix, 0, 1),
            )
            .unwrap();
        assert_eq!(direct, first[1]);
    }

    #[test]
    fn bad_configs_are_refused_up_front() {
        let msg = |c: MixerConfig| StreamMixer::new(c, 0).unwrap_err().to_string();
        assert!(msg(MixerConfig::default()).contains("names no method"));
        assert!(
            msg(MixerConfig::single(MethodConfig::Puzzlemix(
                Default::default()
            )))
            .contains("in the loop")
        );
        let negative =
            MixerConfig::single(MethodConfig::Mixup(MixupConfig::default().with_alpha(-1.0)));
        assert!(msg(negative).contains("alpha"));
        assert!(msg(MixerConfig::mixup_cutmix(1.0, 1.0).with_prob(2.0)).contains("prob"));
    }
}
