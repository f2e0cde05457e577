//! Mixed Autoencoder, MixedAE (Chen et al., CVPR'23, arXiv 2303.17152), at toy scale. No official code exists and
//! the one public attempt (`Natyren/MixedAE @ 0ec9f5c5`) is incomplete (its homologous attention aggregates no
//! values), so this is our reading of `../shared/methods-dynamic.md` §10.3, each open choice named:
//!
//! - MAE-style pre-training of a vision transformer, where instead of masking, each group of `r` images is
//!   mixed patch-wise into `r` outputs: at every patch position the `r` sources go to the `r` outputs in some
//!   order (a Latin square over positions: each output holds each source once per position) and every output
//!   holds exactly `positions / r` patches of each source when `r` divides the positions ([`assign`]), the
//!   share MAE's 75 % masking leaves visible at r = 4.
//! - A learned segment embedding per source rank (0..r) is added to each patch token.
//! - The encoder's attention is homologous: each query keeps only its `topk` share of the highest scores
//!   (25 % of the tokens by default) before the softmax, and aggregates the values (what the public attempt
//!   leaves out).
//! - Decoding: from each output, every source is reconstructed from its own tokens there plus mask tokens at
//!   the other positions; the pixel MSE counts the positions the output does not show of that source
//!   (MAE's loss on masked patches).
//! - The homologous contrastive term: per output, each token's positives are the other tokens of its source
//!   (supervised-contrastive form, temperature `temperature`), weight `contrastive_weight` (0.5, as the
//!   public attempt).
//! - The control, `mixing = false`, is plain MAE: a random `1 − 1/r` of each image's patches is masked, the
//!   encoder sees the rest (no segment embedding, full attention, no contrastive term).
//!
//! Pre-training is judged by a linear probe: a ridge classifier on the frozen encoder's class token.

use super::{Draw, DrawCtx, MixMethod};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// MixedAE's settings (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixedaeConfig {
    /// Images per group (default 4); the batch size must be a multiple of it.
    pub r: usize,
    /// Mix the group (default true); false is plain MAE masking of the same share.
    pub mixing: bool,
    /// Share of the tokens each query attends to in the encoder (default 0.25; 1 is full attention).
    pub topk: f64,
    /// Add the segment embedding (default true).
    pub segment: bool,
    /// Weight of the homologous contrastive term (default 0.5; 0 drops it).
    pub contrastive_weight: f64,
    /// Its temperature (default 0.1).
    pub temperature: f64,
    /// Decoder width (default 32).
    pub decoder_dim: usize,
    /// The ridge penalty of the linear probe (default 1e-2).
    pub probe_ridge: f64,
}

impl Default for MixedaeConfig {
    fn default() -> Self {
        Self {
            r: 4,
            mixing: true,
            topk: 0.25,
            segment: true,
            contrastive_weight: 0.5,
            temperature: 0.1,
            decoder_dim: 32,
            probe_ridge: 1e-2,
        }
    }
}

impl MixMethod for MixedaeConfig {
    const NAME: &'static str = "mixedae";

    fn validate(&self, _shape: &SampleShape) -> Result<()> {
        if !(2..=16).contains(&self.r) {
            return Err(Error::param("r", "a group of 2..=16 images", self.r));
        }
        super::check_range("topk", self.topk, 1e-9, 1.0, "a share in (0, 1]")?;
        if !(self.contrastive_weight.is_finite() && self.contrastive_weight >= 0.0) {
            return Err(Error::param(
                "contrastive_weight",
                "a finite number >= 0",
                self.contrastive_weight,
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::param(
                "temperature",
                "a finite number > 0",
                self.temperature,
            ));
        }
        super::embedding::check_dim(self.decoder_dim)?;
        if !(self.probe_ridge.is_finite() && self.probe_ridge > 0.0) {
            return Err(Error::param(
                "probe_ridge",
                "a finite number > 0",
                self.probe_ridge,
            ));
        }
        Ok(())
    }

    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, _rng: &mut R) -> Result<Draw> {
        // MixedAE mixes tokens inside its own task; no input-level plan.
        Ok(Draw {
            weight: SampleWeight::Keep,
            lam_label: 1.0,
        })
    }
}

/// Which source each output shows at each position of a group of `r`: `out[o * positions + p]` is the source
/// (0..r) output `o` holds at patch `p`. Every position is a permutation of the sources over the outputs;
/// when `r` divides `positions`, each output holds each source at exactly `positions / r` positions (the
/// positions are dealt to `r` random blocks, block `b` gives output `o` the source `(o + b) mod r`, and the
/// sources are relabelled at random); otherwise each position draws its own permutation.
pub fn assign<R: Rng + ?Sized>(r: usize, positions: usize, rng: &mut R) -> Vec<usize> {
    let mut out = vec![0; r * positions];
    if positions.is_multiple_of(r) {
        let mut order: Vec<usize> = (0..positions).collect();
        order.shuffle(rng);
        let mut label: Vec<usize> = (0..r).collect();
        label.shuffle(rng);
        for (k, &p) in order.iter().enumerate() {
            let block = k / (positions / r);
            for o in 0..r {
                out[o * positions + p] = label[(o + block) % r];
            }
        }
    } else {
        for p in 0..positions {
            let mut perm: Vec<usize> = (0..r).collect();
            perm.shuffle(rng);
            for o in 0..r {
                out[o * positions + p] = perm[o];
            }
        }
    }
    out
}

/// Plain MAE's visible positions of one image: `positions / r` (at least one) drawn without replacement,
/// ascending.
pub fn mae_visible<R: Rng + ?Sized>(r: usize, positions: usize, rng: &mut R) -> Vec<usize> {
    let keep = (positions / r).max(1);
    let mut order: Vec<usize> = (0..positions).collect();
    for i in 0..keep {
        let j = rng.random_range(i..positions);
        order.swap(i, j);
    }
    let mut v = order[..keep].to_vec();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn groups_are_latin_squares_and_balanced() {
        let mut rng = stream(5, Purpose::Mix, 0, 0);
        for (r, positions) in [(4, 16), (4, 64), (2, 9), (3, 10), (4, 4)] {
            for _ in 0..20 {
                let a = assign(r, positions, &mut rng);
                // Latin: at every position the outputs show every source once.
                for p in 0..positions {
                    let mut col: Vec<usize> = (0..r).map(|o| a[o * positions + p]).collect();
                    col.sort_unstable();
                    assert_eq!(col, (0..r).collect::<Vec<_>>(), "r {r} position {p}");
                }
                if positions % r == 0 {
                    for o in 0..r {
                        for s in 0..r {
                            let n = (0..positions)
                                .filter(|&p| a[o * positions + p] == s)
                                .count();
                            assert_eq!(n, positions / r, "output {o} source {s}");
                        }
                    }
                }
            }
        }
        // Not always the same square.
        assert_ne!(assign(4, 16, &mut rng), assign(4, 16, &mut rng));
    }

    #[test]
    fn mae_keeps_one_in_r_positions() {
        let mut rng = stream(6, Purpose::Mix, 0, 0);
        let v = mae_visible(4, 16, &mut rng);
        assert_eq!(v.len(), 4);
        assert!(v.windows(2).all(|w| w[0] < w[1]) && v[3] < 16);
        assert_eq!(mae_visible(4, 3, &mut rng).len(), 1);
    }

    #[test]
    fn bad_settings_are_refused() {
        let s = SampleShape::new(1, &[28, 28]).unwrap();
        assert!(MixedaeConfig::default().validate(&s).is_ok());
        for bad in [
            MixedaeConfig {
                r: 1,
                ..Default::default()
            },
            MixedaeConfig {
                topk: 0.0,
                ..Default::default()
            },
            MixedaeConfig {
                temperature: -1.0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate(&s).is_err(), "{bad:?}");
        }
    }
}
