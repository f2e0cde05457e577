//! Synthetic label noise for robustness benchmarks (the "mixup resists label noise" regime of Zhang et
//! al., ICLR'18, §3.4): each label is kept, or with probability `rate` replaced by a class drawn uniformly
//! from the *other* classes ("symmetric" noise as in the co-teaching / DivideMix literature, where the
//! replacement never equals the true class).
//!
//! The draws come from a stream of their own (ChaCha8 seeded with the data seed, stream
//! [`LABEL_NOISE_STREAM`]), one pair of draws per record in record order, so every method of one data
//! seed sees the same noisy labels, and the noise of record i does not depend on how the records are
//! later split into training and validation.

use crate::error::{Error, Result};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// The ChaCha stream number of label-noise draws (the split permutations use stream 0).
pub const LABEL_NOISE_STREAM: u64 = 0x6c61_6265_6c6e; // "labeln"

/// How a wrong label is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// Uniformly from the other classes.
    #[default]
    Symmetric,
}

/// Label noise of a run's training and validation labels (test labels stay clean).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelNoise {
    /// Probability that a label is replaced, in [0, 1).
    pub rate: f64,
    /// How the replacement is drawn (default symmetric).
    #[serde(default)]
    pub kind: NoiseKind,
}

impl LabelNoise {
    /// Symmetric noise at `rate`.
    pub fn symmetric(rate: f64) -> Self {
        Self {
            rate,
            kind: NoiseKind::Symmetric,
        }
    }

    /// Checks the rate.
    pub fn validate(&self) -> Result<()> {
        if !(self.rate.is_finite() && (0.0..1.0).contains(&self.rate)) {
            return Err(Error::param("label noise rate", "in [0, 1)", self.rate));
        }
        Ok(())
    }

    /// Replaces labels in place; returns, per record, whether its label was changed. Needs at least two
    /// classes and labels below `classes`.
    pub fn apply(&self, labels: &mut [usize], classes: usize, seed: u64) -> Result<Vec<bool>> {
        self.validate()?;
        if classes < 2 {
            return Err(Error::param(
                "label noise",
                "a classification set with at least 2 classes",
                format!("{classes} classes"),
            ));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
            return Err(Error::param(
                "label",
                "below the number of classes",
                format!("{bad} with {classes} classes"),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(LABEL_NOISE_STREAM);
        Ok(labels
            .iter_mut()
            .map(|l| {
                // Two draws per record whatever happens, so record i's noise is fixed by (seed, i).
                let flip = rng.random::<f64>() < self.rate;
                let other = rng.random_range(0..classes - 1);
                if flip {
                    // 0..classes−1 skipping the true class.
                    *l = if other >= *l { other + 1 } else { other };
                }
                flip
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_about_rate_never_to_the_true_class_and_reproducibly() {
        let clean: Vec<usize> = (0..20_000).map(|i| i % 10).collect();
        let noise = LabelNoise::symmetric(0.4);
        let mut a = clean.clone();
        let fa = noise.apply(&mut a, 10, 3).unwrap();
        let mut b = clean.clone();
        assert_eq!(noise.apply(&mut b, 10, 3).unwrap(), fa);
        assert_eq!(a, b);
        let flipped = fa.iter().filter(|&&f| f).count();
        assert!((7_600..8_400).contains(&flipped), "{flipped}");
        for ((c, n), f) in clean.iter().zip(&a).zip(&fa) {
            assert_eq!(c != n, *f);
        }
        // The replacement is uniform over the 9 other classes.
        let mut counts = [0usize; 10];
        for ((c, n), f) in clean.iter().zip(&a).zip(&fa) {
            if *f && *c == 0 {
                counts[*n] += 1;
            }
        }
        assert_eq!(counts[0], 0);
        let per = flipped as f64 / 10.0 / 9.0;
        for &k in &counts[1..] {
            assert!((k as f64 - per).abs() < 0.25 * per, "{counts:?}");
        }
        // Another seed, other noise; a prefix of the records gets the same noise as the whole set.
        let mut c = clean.clone();
        assert_ne!(noise.apply(&mut c, 10, 4).unwrap(), fa);
        let mut prefix = clean[..100].to_vec();
        noise.apply(&mut prefix, 10, 3).unwrap();
        assert_eq!(prefix, a[..100]);
    }

    #[test]
    fn bad_rates_and_tasks_are_refused() {
        for r in [-0.1, 1.0, f64::NAN] {
            let e = LabelNoise::symmetric(r)
                .apply(&mut [0, 1], 2, 0)
                .unwrap_err();
            assert!(e.to_string().contains("in [0, 1)"), "{e}");
        }
        assert!(LabelNoise::symmetric(0.2).apply(&mut [0], 1, 0).is_err());
        assert!(LabelNoise::symmetric(0.2).apply(&mut [5], 3, 0).is_err());
        let mut l = vec![1, 2, 0];
        assert_eq!(
            LabelNoise::symmetric(0.0).apply(&mut l, 3, 9).unwrap(),
            vec![false; 3]
        );
        assert_eq!(l, vec![1, 2, 0]);
    }
}
