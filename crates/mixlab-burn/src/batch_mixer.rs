//! The three-line entry for an own Burn training loop: a [`BatchMixer`] takes a device batch and its
//! integer labels and returns the mixed batch and soft targets on the same device, drawing every plan from
//! its own `(seed, epoch, step)` stream, so a loop that calls it in the same order gets the same batches
//! on every run and after a resume ([`BatchMixer::position`] / [`BatchMixer::resume_at`]).
//!
//! ```
//! use mixlab_burn::burn::prelude::*;
//! use mixlab_burn::{BatchMixer, soft_cross_entropy};
//! use mixlab_core::mixer::MixerConfig;
//!
//! # fn main() -> mixlab_burn::Result<()> {
//! let dev = Device::flex();
//! let images = Tensor::<4>::ones([8, 1, 28, 28], &dev);
//! let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 3, 4, 5, 6, 7], [8]), &dev);
//! // timm: Mixup(mixup_alpha=.8, cutmix_alpha=1., num_classes=10)
//! let mut mixer = BatchMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 10, 42)?;
//! let (x, y) = mixer.mix(images, labels)?;
//! # let logits = x.reshape([8, 784]).slice([0..8, 0..10]);
//! let loss = soft_cross_entropy(logits, y);
//! # assert_eq!(loss.dims(), [1]);
//! # Ok(())
//! # }
//! ```
//!
//! Only input-level methods work here (mixup, cutmix, fmix, resizemix, gridmix, smoothmix, saliencymix,
//! maskmix); the methods that need the model, other training rows or a loss of their own live in
//! mixlab's trainer. For manifold mixup inside an own model, sample a plan with
//! [`BatchMixer::plan`] and mix the hidden features with [`crate::apply::apply_flat`].

use crate::apply::apply_plan;
use crate::error::{Error, Result};
use burn::prelude::*;
use mixlab_core::mixer::MixerConfig;
use mixlab_core::plan::MixPlan;
use mixlab_core::shape::SampleShape;
use mixlab_core::stream_mixer::StreamMixer;

/// Mixes device batches for an own training loop (see the module docs).
#[derive(Clone, Debug)]
pub struct BatchMixer {
    mixer: StreamMixer,
    classes: usize,
}

impl BatchMixer {
    /// A mixer for `classes` classes whose plans come from `seed`; it starts at epoch 0, step 0.
    /// Refuses a method that is not input-level and options that are invalid for every shape.
    pub fn new(config: MixerConfig, classes: usize, seed: u64) -> Result<Self> {
        if classes == 0 {
            return Err(Error::Incompatible(
                "a BatchMixer needs at least one class".into(),
            ));
        }
        Ok(Self {
            mixer: StreamMixer::new(config, seed)?,
            classes,
        })
    }

    /// The number of classes the soft targets have.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Starts an epoch: later plans come from `(seed, epoch, step 0, 1, …)`.
    pub fn set_epoch(&mut self, epoch: u64) {
        self.mixer.set_epoch(epoch);
    }

    /// The `(epoch, step)` of the next plan, to store in a checkpoint.
    pub fn position(&self) -> (u64, u64) {
        self.mixer.position()
    }

    /// Continues from a stored [`position`](Self::position).
    pub fn resume_at(&mut self, epoch: u64, step: u64) {
        self.mixer.resume_at(epoch, step);
    }

    /// Samples the next plan for a batch of `batch` samples of `shape` (`data`, B×C×spatial on the host,
    /// only for methods that look at it: saliencymix) and advances the step.
    pub fn plan(
        &mut self,
        batch: usize,
        shape: SampleShape,
        data: Option<&[f32]>,
    ) -> Result<MixPlan> {
        Ok(self.mixer.next_plan(batch, shape, data)?)
    }

    /// Mixes a batch `x` (B×F tabular rows, or B×C×L, B×C×H×W, B×C×D×H×W) with integer `labels` (B) and
    /// returns the mixed batch and the soft targets (B×classes, label smoothing applied once) on `x`'s
    /// device.
    pub fn mix<const D: usize>(
        &mut self,
        x: Tensor<D>,
        labels: Tensor<1, Int>,
    ) -> Result<(Tensor<D>, Tensor<2>)> {
        let dims = x.dims();
        let shape = sample_shape(&dims)?;
        let b = dims[0];
        let labels: Vec<i64> = labels
            .into_data()
            .try_into_vec_as::<i64>()
            .map_err(|e| Error::Data(format!("labels: {e:?}")))?;
        if labels.len() != b {
            return Err(Error::SizeMismatch {
                what: "labels",
                expected: b,
                got: labels.len(),
            });
        }
        let labels: Vec<usize> = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                usize::try_from(l)
                    .map_err(|_| Error::Data(format!("label {l} of sample {i} is negative")))
            })
            .collect::<Result<_>>()?;
        let host = if self.mixer.needs_data() {
            Some(
                x.clone()
                    .into_data()
                    .try_into_vec_as::<f32>()
                    .map_err(|e| Error::Data(format!("batch: {e:?}")))?,
            )
        } else {
            None
        };
        let device = x.device();
        let plan = self.plan(b, shape, host.as_deref())?;
        let smoothing = self.mixer.config().label_smoothing;
        let soft = plan.soft_targets(&labels, self.classes, smoothing)?;
        let mixed = if D == 2 {
            // Tabular rows are 1-D samples of one channel: mix them as B×1×F.
            let flat: Tensor<3> = x.reshape([b, 1, dims[1]]);
            apply_plan(&plan, flat)?.reshape(dims)
        } else {
            apply_plan(&plan, x)?
        };
        let targets = Tensor::<2>::from_data(TensorData::new(soft, [b, self.classes]), &device);
        Ok((mixed, targets))
    }
}

/// The sample shape of a batch tensor's dims.
fn sample_shape(dims: &[usize]) -> Result<SampleShape> {
    let shape = match *dims {
        [_, f] => SampleShape::d1(1, f),
        [_, c, l] => SampleShape::d1(c, l),
        [_, c, h, w] => SampleShape::d2(c, h, w),
        [_, c, d, h, w] => SampleShape::d3(c, d, h, w),
        _ => {
            return Err(Error::Incompatible(format!(
                "a batch must be B×F, B×C×L, B×C×H×W or B×C×D×H×W, got {dims:?}"
            )));
        }
    };
    if dims[0] == 0 {
        return Err(Error::Incompatible("an empty batch cannot be mixed".into()));
    }
    Ok(shape?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mixlab_core::methods::{MethodConfig, PuzzlemixConfig};

    fn labels(v: &[i64], dev: &Device) -> Tensor<1, Int> {
        Tensor::<1, Int>::from_data(TensorData::new(v.to_vec(), [v.len()]), dev)
    }

    #[test]
    fn the_same_seed_and_step_give_the_same_batch_and_targets_sum_to_one() {
        let dev = Device::flex();
        let x = Tensor::<4>::from_data(
            TensorData::new(
                (0..4 * 3 * 8 * 8)
                    .map(|i| i as f32 * 0.01)
                    .collect::<Vec<_>>(),
                [4, 3, 8, 8],
            ),
            &dev,
        );
        let y = [0i64, 1, 2, 1];
        let cfg = MixerConfig::mixup_cutmix(0.8, 1.0).with_label_smoothing(0.1);
        let mut a = BatchMixer::new(cfg.clone(), 3, 7).unwrap();
        let mut b = BatchMixer::new(cfg, 3, 7).unwrap();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (xa, ta) = a.mix(x.clone(), labels(&y, &dev)).unwrap();
            let (xb, tb) = b.mix(x.clone(), labels(&y, &dev)).unwrap();
            let va: Vec<f32> = xa.into_data().try_into_vec_as().unwrap();
            assert_eq!(va, xb.into_data().try_into_vec_as::<f32>().unwrap());
            let ta: Vec<f32> = ta.into_data().try_into_vec_as().unwrap();
            assert_eq!(ta, tb.into_data().try_into_vec_as::<f32>().unwrap());
            for row in ta.chunks(3) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
                // Smoothing 0.1 over 3 classes: no entry below 0.1 / 3.
                assert!(row.iter().all(|&v| v >= 0.1 / 3.0 - 1e-6));
            }
            seen.push(va);
        }
        assert_ne!(seen[0], seen[1], "steps advance");
        assert_eq!(a.position(), (0, 3));
        // Resuming at step 1 replays the second batch.
        let mut c = BatchMixer::new(MixerConfig::mixup_cutmix(0.8, 1.0), 3, 7).unwrap();
        c.resume_at(0, 1);
        let (xc, _) = c.mix(x.clone(), labels(&y, &dev)).unwrap();
        assert_eq!(xc.into_data().try_into_vec_as::<f32>().unwrap(), seen[1]);
    }

    #[test]
    fn the_top_level_readme_shows_the_tested_snippet() {
        let tested = include_str!("../README.md");
        let start = tested.find("```rust").unwrap();
        let end = start + 7 + tested[start + 7..].find("```").unwrap();
        let root = include_str!("../../../README.md");
        assert!(
            root.contains(&tested[start..end]),
            "README.md's own-loop snippet drifted from crates/mixlab-burn/README.md"
        );
    }

    #[test]
    fn tabular_rows_mix_and_bad_input_is_refused() {
        let dev = Device::flex();
        let x = Tensor::<2>::ones([3, 5], &dev);
        let mut m = BatchMixer::new(
            MixerConfig::single(MethodConfig::Mixup(Default::default())),
            2,
            0,
        )
        .unwrap();
        let (xm, t) = m.mix(x.clone(), labels(&[0, 1, 1], &dev)).unwrap();
        assert_eq!(xm.dims(), [3, 5]);
        assert_eq!(t.dims(), [3, 2]);
        assert!(m.mix(x.clone(), labels(&[0, 1], &dev)).is_err());
        assert!(m.mix(x.clone(), labels(&[0, 2, 1], &dev)).is_err());
        assert!(m.mix(x, labels(&[0, -1, 1], &dev)).is_err());
        let err = BatchMixer::new(
            MixerConfig::single(MethodConfig::Puzzlemix(PuzzlemixConfig::default())),
            2,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("puzzlemix"), "{err}");
        assert!(BatchMixer::new(MixerConfig::default(), 2, 0).is_err());
        // A negative α is refused when the mixer is built, not at its first batch.
        let err = BatchMixer::new(MixerConfig::mixup_cutmix(-1.0, 1.0), 2, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("alpha"), "{err}");
    }
}
