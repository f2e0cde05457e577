//! SMMix (Chen et al., ICCV'23, self-motivated image mixing for vision transformers): the model's own
//! attention on the clean batch picks, in each image, the r×r token window it attends to least; that
//! window is replaced, token by token, by the r×r window the partner attends to most. The label weight of
//! the image's own label is the share of its tokens it keeps, `(G − r²)/G`.
//!
//! Follows the official code (github.com/ChenMnZ/SMMix @ 14b1edcd, `smmix.py`: `SMMix.__call__`, `smmix`,
//! `index_translate`; `deit.py` `VisionTransformer.forward`; `engine.py` `train_one_epoch`):
//! - with probability `switch_prob` (0.5) SMMix runs, else timm's mixup with λ ~ Beta(0.8, 0.8);
//! - the window side `r` is uniform over `⌊s·min_side_ratio⌋ … ⌊s·max_side_ratio⌋` (`random.choice`), one
//!   per draw, with `s` the side of the token grid;
//! - the attention is the last block's softmax attention among the image tokens averaged over heads
//!   **and** queries, `attn[:, :, 1:, 1:].mean(dim=(1, 2))`, a per-key importance, from a no-grad eval-mode
//!   forward of the model on the clean batch ([`windows`]: sums over every r×r window at stride 1, the
//!   first window of least and of largest sum in row-major order, `torch.argmin`/`argmax`'s rule);
//! - window token `(a, b)` of the image gets the partner's window token `(a, b)`, every pixel of the patch
//!   ([`mix_tokens`]);
//! - the training side (`mixlab-burn`, strategy `smmix`) adds the paper's two extra losses: a token head
//!   on the mean of the final-norm image tokens of each region predicts that region's source label
//!   (`½·(CE(target) + CE(source))`), and `KL(softmax(λ·z_i + (1 − λ)·z_j) ‖ softmax(out))` (batch mean),
//!   with `z` the clean logits of the motivation pass: the target mixes **logits**, not probabilities.
//!
//! Differences:
//! - the reference pairs by `flip` and needs an even batch; mixlab uses the mixer's pairing (any batch size);
//! - the reference draws one window size for the whole batch; mixlab draws one per group of the mixer's
//!   granularity (the default `batch` is the reference's);
//! - a non-square token grid takes its window sides from the shorter side (the reference has square
//!   grids), and the smallest side is at least 1 token (on grids under 4 tokens a side);
//! - OpenMixup's port (`openmixup/models/augments/smmix.py`) reads the class-token attention of the
//!   training-mode model and, as its dispatcher never returns the masks, trains with the mixed CE only:
//!   `fine = 0`, `consistency = 0` switch mixlab's extra losses off (the attention stays the official one).
//!
//! The draw does not know the windows' positions (they come from the model): an SMMix draw is a
//! [`SampleWeight::Paste`] of the r×r window at the top-left token, which the strategy moves to the
//! least and most attended windows before anything is mixed.

use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::{Region, SampleWeight};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// SMMix hyper-parameters (defaults: the official `main.py`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmmixConfig {
    /// Smallest window side as a share of the grid side (default 0.25).
    pub min_side_ratio: f64,
    /// Largest window side as a share of the grid side (default 0.75).
    pub max_side_ratio: f64,
    /// Probability of an SMMix draw; the rest are mixup draws (default 0.5, `--mixup-switch-prob`).
    pub switch_prob: f64,
    /// Beta concentration α of the mixup draws (default 0.8, `--mixup`).
    pub mixup_alpha: f64,
    /// Side of the model's square patches, in pixels (default 4, vit-tiny's); the windows live on this grid.
    pub patch: usize,
    /// Weight of the fine-grained loss `½·(CE(target region) + CE(source region))` (default 1).
    pub fine: f64,
    /// Weight of the consistency loss, KL to the mixed clean logits (default 1).
    pub consistency: f64,
}

impl Default for SmmixConfig {
    fn default() -> Self {
        Self {
            min_side_ratio: 0.25,
            max_side_ratio: 0.75,
            switch_prob: 0.5,
            mixup_alpha: 0.8,
            patch: 4,
            fine: 1.0,
            consistency: 1.0,
        }
    }
}

impl SmmixConfig {
    /// The token grid `[g_h, g_w]` of a sample of `shape`.
    pub fn grid(&self, shape: &SampleShape) -> [usize; 2] {
        [shape.dims[1] / self.patch, shape.dims[2] / self.patch]
    }

    /// The window sides drawn from, `(min, max)`, both inclusive: `int(side·ratio)` with `side` the
    /// grid's shorter side, the smallest at least one token (a grid under 4 tokens a side would
    /// otherwise draw empty windows).
    pub fn sides(&self, grid: [usize; 2]) -> (usize, usize) {
        let s = grid[0].min(grid[1]) as f64;
        (
            ((s * self.min_side_ratio) as usize).max(1),
            (s * self.max_side_ratio) as usize,
        )
    }
}

impl MixMethod for SmmixConfig {
    const NAME: &'static str = "smmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        check_range(
            "smmix min_side_ratio",
            self.min_side_ratio,
            0.0,
            1.0,
            "in [0, 1]",
        )?;
        check_range(
            "smmix max_side_ratio",
            self.max_side_ratio,
            0.0,
            1.0,
            "in [0, 1]",
        )?;
        check_range("smmix switch_prob", self.switch_prob, 0.0, 1.0, "in [0, 1]")?;
        check_alpha("smmix mixup_alpha", self.mixup_alpha)?;
        for (name, v) in [
            ("smmix fine", self.fine),
            ("smmix consistency", self.consistency),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::param(name, "a finite number >= 0", v));
            }
        }
        if self.patch == 0
            || !shape.dims[1].is_multiple_of(self.patch)
            || !shape.dims[2].is_multiple_of(self.patch)
        {
            return Err(Error::Incompatible(format!(
                "smmix patch {} must be >= 1 and divide H and W of {shape}",
                self.patch
            )));
        }
        let (lo, hi) = self.sides(self.grid(shape));
        if lo > hi {
            return Err(Error::Incompatible(format!(
                "smmix windows of {lo}..={hi} tokens on a {:?} token grid: max_side_ratio must give a side \
                 of at least 1 and of at least the smallest",
                self.grid(shape)
            )));
        }
        Ok(())
    }

    /// With probability `switch_prob` an r×r window at the top-left token (the strategy moves it), label
    /// weight `(G − r²)/G`; else a mixup blend.
    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        if rng.random::<f64>() < self.switch_prob {
            let grid = self.grid(ctx.shape);
            let (lo, hi) = self.sides(grid);
            let r = rng.random_range(lo..=hi);
            let tokens = grid[0] * grid[1];
            let px = r * self.patch;
            Ok(Draw {
                weight: SampleWeight::Paste {
                    region: Region {
                        start: [0, 0, 0],
                        end: [1, px, px],
                    },
                },
                lam_label: ((tokens - r * r) as f64 / tokens as f64) as f32,
            })
        } else {
            let lam = sample_beta(self.mixup_alpha, self.mixup_alpha, rng)? as f32;
            Ok(Draw {
                weight: SampleWeight::Blend { lam },
                lam_label: lam,
            })
        }
    }
}

/// The window side (in tokens) of an SMMix draw's placeholder paste.
pub fn window_side(region: &Region, patch: usize) -> usize {
    (region.end[1] - region.start[1]) / patch.max(1)
}

/// Top-left tokens `(row, col)` of the least and of the most attended r×r window of one image's
/// importance map `attn` (`g_h·g_w`, row-major): sums over every window at stride 1, the first minimum
/// and the first maximum in row-major window order.
pub fn windows(attn: &[f32], grid: [usize; 2], r: usize) -> Result<([usize; 2], [usize; 2])> {
    let [gh, gw] = grid;
    if attn.len() != gh * gw {
        return Err(Error::SizeMismatch {
            what: "smmix attention map",
            expected: gh * gw,
            got: attn.len(),
        });
    }
    if r == 0 || r > gh || r > gw {
        return Err(Error::Incompatible(format!(
            "smmix window of {r} tokens on a {gh}x{gw} grid"
        )));
    }
    if let Some(p) = attn.iter().position(|v| !v.is_finite()) {
        return Err(Error::Incompatible(format!(
            "smmix attention holds a non-finite value at token {p}"
        )));
    }
    let (mut lo, mut hi) = ((f64::INFINITY, [0, 0]), (f64::NEG_INFINITY, [0, 0]));
    for y in 0..=gh - r {
        for x in 0..=gw - r {
            let s: f64 = (y..y + r)
                .flat_map(|t| (x..x + r).map(move |u| f64::from(attn[t * gw + u])))
                .sum();
            if s < lo.0 {
                lo = (s, [y, x]);
            }
            if s > hi.0 {
                hi = (s, [y, x]);
            }
        }
    }
    Ok((lo.1, hi.1))
}

/// Mixes a batch in place: sample i with a window side `sides[i] = Some(r)` gets, in its least attended
/// r×r window, the tokens of partner j's most attended r×r window (every channel and pixel of each
/// patch), read from `clean`. `attn` holds each sample's importance map (n × g_h·g_w). Returns each
/// sample's source mask over the tokens (n × g_h·g_w, 1 where the token came from the partner).
pub fn mix_tokens(
    x: &mut [f32],
    clean: &[f32],
    shape: &SampleShape,
    patch: usize,
    attn: &[f32],
    partner: &[usize],
    sides: &[Option<usize>],
) -> Result<Vec<f32>> {
    let n = sides.len();
    let (c, h, w) = (shape.channels, shape.dims[1], shape.dims[2]);
    if shape.rank != 2 || patch == 0 || !h.is_multiple_of(patch) || !w.is_multiple_of(patch) {
        return Err(Error::Incompatible(format!(
            "smmix needs 2-D samples whose sides the patch {patch} divides, got {shape}"
        )));
    }
    let grid = [h / patch, w / patch];
    let tokens = grid[0] * grid[1];
    let len = shape.sample_len();
    for (what, got, expected) in [
        ("smmix batch", x.len(), n * len),
        ("smmix clean batch", clean.len(), n * len),
        ("smmix attention maps", attn.len(), n * tokens),
        ("smmix partners", partner.len(), n),
    ] {
        if got != expected {
            return Err(Error::SizeMismatch {
                what,
                expected,
                got,
            });
        }
    }
    if let Some(&j) = partner.iter().find(|&&j| j >= n) {
        return Err(Error::Incompatible(format!(
            "smmix partner {j} outside a batch of {n}"
        )));
    }
    let map = |i: usize| &attn[i * tokens..(i + 1) * tokens];
    let mut source = vec![0f32; n * tokens];
    for (i, side) in sides.iter().enumerate() {
        let Some(r) = *side else { continue };
        let j = partner[i];
        let (least, _) = windows(map(i), grid, r)?;
        let (_, most) = windows(map(j), grid, r)?;
        for a in 0..r {
            for b in 0..r {
                let (ty, tx) = (least[0] + a, least[1] + b);
                let (sy, sx) = (most[0] + a, most[1] + b);
                source[i * tokens + ty * grid[1] + tx] = 1.0;
                for ch in 0..c {
                    for p in 0..patch {
                        let dst = i * len + (ch * h + ty * patch + p) * w + tx * patch;
                        let src = j * len + (ch * h + sy * patch + p) * w + sx * patch;
                        x[dst..dst + patch].copy_from_slice(&clean[src..src + patch]);
                    }
                }
            }
        }
    }
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn windows_take_the_first_extreme_and_mixing_moves_whole_patches() {
        // 3×3 grid, r = 2: window sums (0,0)=4 (0,1)=4 (1,0)=12 (1,1)=12 → first min (0,0), first max (1,0).
        let attn = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 1.0];
        assert_eq!(windows(&attn, [3, 3], 2).unwrap(), ([0, 0], [1, 0]));
        assert!(windows(&attn, [3, 3], 4).is_err());
        assert!(windows(&attn[..8], [3, 3], 2).is_err());
        let mut nan = attn;
        nan[4] = f32::NAN;
        assert!(windows(&nan, [3, 3], 2).is_err());

        // Two 1×4×4 images with patch 2 (2×2 grid), r = 1; image 0 attends least to token (1, 1), image 1
        // most to token (0, 1).
        let shape = SampleShape::d2(1, 4, 4).unwrap();
        let clean: Vec<f32> = (0..32).map(|v| v as f32).collect();
        let attn = [0.4, 0.3, 0.2, 0.1, 0.1, 0.6, 0.2, 0.1];
        let mut x = clean.clone();
        let src = mix_tokens(&mut x, &clean, &shape, 2, &attn, &[1, 0], &[Some(1), None]).unwrap();
        assert_eq!(src, [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        // Image 0's bottom-right patch (rows 2-3, cols 2-3) is image 1's top-right patch (rows 0-1, cols 2-3).
        let want0 = [
            0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 18.0, 19.0, 12.0, 13.0, 22.0, 23.0,
        ];
        assert_eq!(&x[..16], &want0);
        assert_eq!(&x[16..], &clean[16..]);
        assert!(mix_tokens(&mut x, &clean, &shape, 3, &attn, &[1, 0], &[None, None]).is_err());
        assert!(mix_tokens(&mut x, &clean, &shape, 2, &attn, &[2, 0], &[None, None]).is_err());
    }

    #[test]
    fn draws_cover_the_official_sides_and_the_mixup_branch() {
        let cfg = SmmixConfig::default();
        let shape = SampleShape::d2(3, 32, 32).unwrap();
        cfg.validate(&shape).unwrap();
        // An 8×8 grid: sides int(2) … int(6).
        assert_eq!(cfg.sides(cfg.grid(&shape)), (2, 6));
        // The reference's 14×14 grid: 3 … 10; a 3×5 grid: 1 … 2.
        assert_eq!(cfg.sides([14, 14]), (3, 10));
        assert_eq!(cfg.sides([3, 5]), (1, 2));
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        let mut rng = stream(7, Purpose::Mix, 0, 0);
        let (mut seen, mut blends) = (std::collections::BTreeSet::new(), 0);
        for _ in 0..400 {
            let d = cfg.draw(&ctx, &mut rng).unwrap();
            match d.weight {
                SampleWeight::Paste { region } => {
                    let r = window_side(&region, 4);
                    assert_eq!(d.lam_label, ((64 - r * r) as f32) / 64.0);
                    seen.insert(r);
                }
                SampleWeight::Blend { lam } => {
                    assert_eq!(lam, d.lam_label);
                    blends += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
        assert!((150..250).contains(&blends), "{blends}");
        for bad in [
            SmmixConfig {
                patch: 3,
                ..SmmixConfig::default()
            },
            SmmixConfig {
                max_side_ratio: 0.1,
                ..SmmixConfig::default()
            },
            SmmixConfig {
                fine: -1.0,
                ..SmmixConfig::default()
            },
            SmmixConfig {
                mixup_alpha: 0.0,
                ..SmmixConfig::default()
            },
        ] {
            assert!(bad.validate(&shape).is_err(), "{bad:?}");
        }
        assert!(cfg.validate(&SampleShape::d1(1, 8).unwrap()).is_err());
    }
}
