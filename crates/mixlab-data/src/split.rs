//! Deterministic shuffles and splits.
//!
//! A permutation is Fisher–Yates driven by `ChaCha8Rng::seed_from_u64(seed)` with Lemire's unbiased bounded
//! draw written out here, so the result depends only on the ChaCha8 stream (stable by specification) and not on
//! how a `rand` version implements `shuffle` or `random_range`.

use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};

/// Default fraction of the training set held out for validation when a dataset has no official validation split.
pub const DEFAULT_VALIDATION_FRACTION: f64 = 0.1;

/// Uniform integer in `0..bound` (`bound > 0`), Lemire's multiply-and-reject method.
fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    debug_assert!(bound > 0);
    let mut m = u128::from(rng.next_u64()) * u128::from(bound);
    if (m as u64) < bound {
        let threshold = bound.wrapping_neg() % bound;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(bound);
        }
    }
    (m >> 64) as u64
}

/// A permutation of `0..n`, fixed by `seed`.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = below(&mut rng, i as u64 + 1) as usize;
        p.swap(i, j);
    }
    p
}

/// Holds out `round(n × frac)` of `0..n` for validation, chosen by `seed`.
///
/// Returns `(train, valid)` index lists, each in ascending order (the original record order is kept inside
/// each part). `frac` must be in [0, 1) and leave at least one training record.
pub fn split_validation(n: usize, frac: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(0.0..1.0).contains(&frac) {
        return Err(Error::param("validation fraction", "in [0, 1)", frac));
    }
    let n_valid = (n as f64 * frac).round() as usize;
    if n_valid >= n && n > 0 {
        return Err(Error::param(
            "validation fraction",
            "small enough to leave a training record",
            format!("{frac} of {n} records"),
        ));
    }
    let perm = permutation(n, seed);
    let mut valid = perm[..n_valid].to_vec();
    let mut train = perm[n_valid..].to_vec();
    valid.sort_unstable();
    train.sort_unstable();
    Ok((train, valid))
}

/// Shuffles `0..n` with `seed` and cuts it into consecutive parts of the given sizes (which must sum to `n`).
pub(crate) fn shuffled_parts(n: usize, sizes: &[usize], seed: u64) -> Vec<Vec<usize>> {
    debug_assert_eq!(sizes.iter().sum::<usize>(), n);
    let perm = permutation(n, seed);
    let mut out = Vec::with_capacity(sizes.len());
    let mut at = 0;
    for &s in sizes {
        out.push(perm[at..at + s].to_vec());
        at += s;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap (house rule)
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_permutation_and_seeded() {
        for n in [0, 1, 2, 7, 100] {
            let mut p = permutation(n, 3);
            assert_eq!(p, permutation(n, 3));
            p.sort_unstable();
            assert_eq!(p, (0..n).collect::<Vec<_>>());
        }
        assert_ne!(permutation(50, 1), permutation(50, 2));
    }

    #[test]
    fn permutation_is_close_to_uniform() {
        // Position of element 0 over many seeds: each of 4 slots should get ~1/4.
        let mut counts = [0usize; 4];
        for seed in 0..4000 {
            let p = permutation(4, seed);
            counts[p.iter().position(|&v| v == 0).unwrap()] += 1;
        }
        for c in counts {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn split_validation_is_disjoint_complete_and_seeded() {
        let (t, v) = split_validation(1437, 0.1, 9).unwrap();
        assert_eq!(v.len(), 144);
        assert_eq!(t.len() + v.len(), 1437);
        let mut all: Vec<usize> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1437).collect::<Vec<_>>());
        assert_eq!(split_validation(1437, 0.1, 9).unwrap().1, v);
        assert_ne!(split_validation(1437, 0.1, 10).unwrap().1, v);
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn split_validation_rejects_bad_fractions() {
        for f in [-0.1, 1.0, f64::NAN, 2.0] {
            assert!(split_validation(10, f, 0).is_err(), "{f}");
        }
        assert!(split_validation(1, 0.6, 0).is_err());
        assert_eq!(split_validation(10, 0.0, 0).unwrap().1.len(), 0);
    }
}
