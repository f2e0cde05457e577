//! The batcher that mixes inside burn-train's loop: [`MixingBatcher`] wraps the batcher a user already
//! has for their data, mixes each batch it builds with a [`BatchMixer`] and hands the Learner a
//! [`MixedBatch`] (mixed inputs, soft targets, the original labels).
//!
//! Plans are drawn in the order batches are built. Burn's loader builds them in order on the training
//! thread unless `num_workers` is set, so a loader without workers gives the same batches on every run;
//! with workers the pairing follows whichever worker asks first (still a valid mixup, not reproducible).
//!
//! A `Batcher` cannot return an error, so a batch that cannot be mixed (a label outside the classes, a
//! shape the method refuses) is reported through burn-train's [`Interrupter`] (training stops with that
//! error in `LearningResult::error`) and kept in [`MixingBatcher::failure`]; the batch itself goes on
//! unmixed with all-zero targets, so it contributes no gradient while the Learner stops.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::DatasetError;
use burn::prelude::*;
use burn::train::{Interrupter, TrainingError};
use mixlab_burn::BatchMixer;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

/// One mixed training batch: what [`MixingBatcher`] gives the model's `TrainStep`.
#[derive(Clone, Debug)]
pub struct MixedBatch<const D: usize> {
    /// The mixed inputs, same shape as the batch the inner batcher built (B×… on its device).
    pub inputs: Tensor<D>,
    /// Soft targets, B×classes, rows summing to one (label smoothing applied once by the mixer).
    pub targets: Tensor<2>,
    /// The batch's own integer labels before mixing (B), for metrics that want them.
    pub labels: Tensor<1, Int>,
}

/// Wraps a batcher of `(inputs, labels)` and mixes every batch it builds (see the module docs).
///
/// `O` is the inner batcher's output; any type that converts into `(Tensor<D>, Tensor<1, Int>)` works,
/// a tuple directly or an own batch struct through a `From` impl.
pub struct MixingBatcher<Bt, O> {
    inner: Bt,
    state: Arc<Mutex<Position>>,
    interrupter: Option<Interrupter>,
    failure: Arc<Mutex<Option<String>>>,
    output: PhantomData<fn() -> O>,
}

/// The mixer and where it stands in the epoch.
struct Position {
    mixer: BatchMixer,
    epoch_length: Option<u64>,
    in_epoch: u64,
}

/// A poisoned lock only means another batch panicked; the counters it guards are still whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<Bt, O> MixingBatcher<Bt, O> {
    /// Mixes the batches `inner` builds with `mixer`, from the mixer's current position on (a fresh
    /// mixer starts at epoch 0, step 0; call [`BatchMixer::resume_at`] first to continue a run).
    pub fn new(inner: Bt, mixer: BatchMixer) -> Self {
        Self {
            inner,
            state: Arc::new(Mutex::new(Position {
                mixer,
                epoch_length: None,
                in_epoch: 0,
            })),
            interrupter: None,
            failure: Arc::new(Mutex::new(None)),
            output: PhantomData,
        }
    }

    /// Moves the mixer to the next epoch after every `batches` batches (the train loader's batches per
    /// epoch, `len.div_ceil(batch_size)`), so the plans are those of an own loop that calls
    /// [`BatchMixer::set_epoch`] each epoch. Without it the steps of one long epoch 0 are used.
    pub fn with_epoch_length(self, batches: u64) -> Self {
        {
            let mut s = lock(&self.state);
            s.epoch_length = (batches > 0).then_some(batches);
            s.in_epoch = s.mixer.position().1;
        }
        self
    }

    /// Reports a batch that cannot be mixed to `interrupter` (use `SupervisedTraining::interrupter()`),
    /// which stops training with the error.
    pub fn reporting_to(mut self, interrupter: Interrupter) -> Self {
        self.interrupter = Some(interrupter);
        self
    }

    /// The first mixing error seen, if any.
    pub fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    /// The `(epoch, step)` of the next plan, to store beside a checkpoint.
    pub fn position(&self) -> (u64, u64) {
        lock(&self.state).mixer.position()
    }

    fn report(&self, message: String) {
        let mut first = lock(&self.failure);
        if first.is_none() {
            *first = Some(message.clone());
        }
        if let Some(i) = &self.interrupter {
            i.fail(TrainingError::Dataset(DatasetError::new(
                std::io::Error::other(format!("mixlab could not mix a batch: {message}")),
            )));
        }
    }
}

impl<I, O, Bt, const D: usize> Batcher<I, MixedBatch<D>> for MixingBatcher<Bt, O>
where
    Bt: Batcher<I, O>,
    O: Into<(Tensor<D>, Tensor<1, Int>)>,
{
    fn batch(&self, items: Vec<I>, device: &Device) -> MixedBatch<D> {
        let (x, labels) = self.inner.batch(items, device).into();
        let (mixed, classes) = {
            let mut s = lock(&self.state);
            if s.epoch_length.is_some_and(|n| s.in_epoch >= n) {
                let next = s.mixer.position().0 + 1;
                s.mixer.set_epoch(next);
                s.in_epoch = 0;
            }
            s.in_epoch += 1;
            (s.mixer.mix(x.clone(), labels.clone()), s.mixer.classes())
        };
        match mixed {
            Ok((inputs, targets)) => MixedBatch {
                inputs,
                targets,
                labels,
            },
            Err(e) => {
                self.report(e.to_string());
                let b = x.dims()[0];
                MixedBatch {
                    inputs: x,
                    targets: Tensor::zeros([b, classes], device),
                    labels,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may unwrap")]
    use super::*;
    use mixlab_core::mixer::MixerConfig;

    /// Item i is a 1×4×4 image filled with i and labelled i mod 3.
    struct Images;

    impl Batcher<usize, (Tensor<4>, Tensor<1, Int>)> for Images {
        fn batch(&self, items: Vec<usize>, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
            let b = items.len();
            let x: Vec<f32> = items.iter().flat_map(|&i| [i as f32; 16]).collect();
            let y: Vec<i64> = items.iter().map(|&i| (i % 3) as i64).collect();
            (
                Tensor::from_data(TensorData::new(x, [b, 1, 4, 4]), device),
                Tensor::from_data(TensorData::new(y, [b]), device),
            )
        }
    }

    fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    #[test]
    fn batches_follow_an_own_loops_epochs_and_steps() {
        let dev = Device::flex();
        let cfg = MixerConfig::mixup_cutmix(0.8, 1.0);
        let mixing = MixingBatcher::new(Images, BatchMixer::new(cfg.clone(), 3, 5).unwrap())
            .with_epoch_length(2);
        let mut own = BatchMixer::new(cfg, 3, 5).unwrap();
        for epoch in 0..2 {
            own.set_epoch(epoch);
            for step in 0..2 {
                let items: Vec<usize> = (0..6).map(|i| i + 6 * step).collect();
                let got: MixedBatch<4> = mixing.batch(items.clone(), &dev);
                let (x, y) = Images.batch(items, &dev);
                let (want_x, want_t) = own.mix(x, y.clone()).unwrap();
                assert_eq!(host(got.inputs), host(want_x));
                assert_eq!(host(got.targets), host(want_t));
                assert_eq!(got.labels.into_data(), y.into_data());
            }
        }
        assert_eq!(mixing.position(), (1, 2));
        assert_eq!(mixing.failure(), None);
    }

    #[test]
    fn a_batch_that_cannot_be_mixed_stops_training_instead_of_panicking() {
        let dev = Device::flex();
        let interrupter = Interrupter::new();
        // Two classes, but the items are labelled 0..3.
        let mixer = BatchMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 2, 0).unwrap();
        let mixing = MixingBatcher::new(Images, mixer).reporting_to(interrupter.clone());
        let got: MixedBatch<4> = mixing.batch(vec![0, 1, 2], &dev);
        assert!(interrupter.should_stop());
        let err = interrupter.error().unwrap().to_string();
        assert!(err.contains("mixlab could not mix a batch"), "{err}");
        assert!(
            mixing.failure().unwrap().contains('2'),
            "{:?}",
            mixing.failure()
        );
        // Unmixed inputs, zero targets: no gradient from this batch.
        assert_eq!(host(got.inputs), host(Images.batch(vec![0, 1, 2], &dev).0));
        assert_eq!(host(got.targets), vec![0.0; 6]);
    }
}
