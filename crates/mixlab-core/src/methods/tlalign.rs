//! TL-Align (Xiao et al., ICCV'23, token-label alignment): CutMix on the token grid, where every token
//! carries its source image's label and the class token the area-mixed label; the labels travel through
//! the network with each block's (detached, head-mean) attention, and the class token's final label is
//! the target.
//!
//! Follows the official code (github.com/Euphoria16/TL-Align @ 4da06219):
//! - `tla.py` `rand_token_bbox`: λ ~ Beta(α, α), a box of `⌊g·√(1 − λ)⌋` tokens per side around a uniform
//!   centre, `[c − ⌊cut/2⌋, c + ⌊cut/2⌋)` clipped to the grid (torchvision's rule, on tokens), λ corrected
//!   to the box's token share; the box's tokens (all their pixels) come from the partner;
//! - `mixup_target` / `token_label`: the class token's label is `λ·ẏ_a + (1 − λ)·ẏ_b`, a token's label the
//!   smoothed one-hot `ẏ` of the image it shows (smoothing as timm: off = s/C, on = 1 − s + off);
//! - `timm/models/vision_transformer.py` `Attention.forward` / `Block.forward` with `label_embed`: in each
//!   block `L ← (Ā·L + L)/2` with `Ā` the block's softmax attention averaged over heads, detached (the MLP
//!   leaves labels unchanged); the target is `L[:, 0]` after the last block.
//!
//! Differences: the official recipe switches per batch between this and mixup (`--mixup 0 --cutmix 1`
//! by default, so always this) and pairs by `flip`; mixlab's `tlalign` is the token CutMix on its own, at
//! any granularity and pairing. The token grid is the model's: `patch` must equal the ViT's patch side.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::boxes::{BoxRule, centred_box, cut_extents, side_ratio, uniform_centre};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::{Region, SampleWeight};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// TL-Align hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlalignConfig {
    /// Beta concentration α of λ (default 1, the official `--cutmix 1.0`).
    pub alpha: f64,
    /// Side of the model's square patches, in pixels (default 4, vit-tiny's); the box lives on this grid.
    pub patch: usize,
}

impl Default for TlalignConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            patch: 4,
        }
    }
}

impl TlalignConfig {
    fn grid(&self, shape: &SampleShape) -> [usize; 2] {
        [shape.dims[1] / self.patch, shape.dims[2] / self.patch]
    }
}

/// The labels every token starts with (n × T × C, T = 1 + tokens, the class token first): the class
/// token's is `λ·ẏ_i + (1 − λ)·ẏ_partner`, a patch token's the smoothed one-hot of the image it shows.
/// `boxes[i]` is sample i's pasted region in **pixels** (aligned to `patch`), `None` when kept whole.
#[allow(clippy::too_many_arguments)]
pub fn initial_labels(
    labels: &[usize],
    partner: &[usize],
    lam: &[f32],
    boxes: &[Option<Region>],
    grid: [usize; 2],
    patch: usize,
    classes: usize,
    smoothing: f32,
) -> Result<Vec<f32>> {
    let n = labels.len();
    for (what, got) in [
        ("tlalign partners", partner.len()),
        ("tlalign label weights", lam.len()),
        ("tlalign boxes", boxes.len()),
    ] {
        if got != n {
            return Err(Error::SizeMismatch {
                what,
                expected: n,
                got,
            });
        }
    }
    if let Some(&y) = labels.iter().find(|&&y| y >= classes) {
        return Err(Error::LabelOutOfRange {
            label: y,
            index: labels.iter().position(|&l| l == y).unwrap_or(0),
            classes,
        });
    }
    if partner.iter().any(|&j| j >= n) {
        return Err(Error::Incompatible(
            "tlalign partner index out of the batch".into(),
        ));
    }
    let [gh, gw] = grid;
    let t = 1 + gh * gw;
    let off = smoothing / classes as f32;
    let on = 1.0 - smoothing + off;
    let mut out = vec![off; n * t * classes];
    for i in 0..n {
        let (ya, yb) = (labels[i], labels[partner[i]]);
        let cls = &mut out[i * t * classes..(i * t + 1) * classes];
        for (k, v) in cls.iter_mut().enumerate() {
            let a = if k == ya { on } else { off };
            let b = if k == yb { on } else { off };
            *v = lam[i] * a + (1.0 - lam[i]) * b;
        }
        for r in 0..gh {
            for c in 0..gw {
                let from_partner = boxes[i].is_some_and(|b| {
                    (b.start[1]..b.end[1]).contains(&(r * patch))
                        && (b.start[2]..b.end[2]).contains(&(c * patch))
                });
                let y = if from_partner { yb } else { ya };
                out[(i * t + 1 + r * gw + c) * classes + y] = on;
            }
        }
    }
    Ok(out)
}

/// The class token's label after the blocks: for each block's head-mean attention `attn[b]`
/// (n × T × T, rows = queries), `L ← (Ā·L + L)/2`, starting from `labels` (n × T × C). Returns n × C.
pub fn propagate(
    attn: &[Vec<f32>],
    labels: &[f32],
    n: usize,
    t: usize,
    classes: usize,
) -> Result<Vec<f32>> {
    if labels.len() != n * t * classes {
        return Err(Error::SizeMismatch {
            what: "tlalign token labels",
            expected: n * t * classes,
            got: labels.len(),
        });
    }
    let mut l = labels.to_vec();
    let mut next = vec![0f32; l.len()];
    for a in attn {
        if a.len() != n * t * t {
            return Err(Error::SizeMismatch {
                what: "tlalign block attention",
                expected: n * t * t,
                got: a.len(),
            });
        }
        for i in 0..n {
            let li = &l[i * t * classes..(i + 1) * t * classes];
            for q in 0..t {
                let row = &a[(i * t + q) * t..(i * t + q + 1) * t];
                let dst = &mut next[(i * t + q) * classes..(i * t + q + 1) * classes];
                dst.fill(0.0);
                for (k, &w) in row.iter().enumerate() {
                    for (d, &v) in dst.iter_mut().zip(&li[k * classes..(k + 1) * classes]) {
                        *d += w * v;
                    }
                }
                for (d, &v) in dst.iter_mut().zip(&li[q * classes..(q + 1) * classes]) {
                    *d = (*d + v) / 2.0;
                }
            }
        }
        std::mem::swap(&mut l, &mut next);
    }
    Ok((0..n)
        .flat_map(|i| l[i * t * classes..(i * t + 1) * classes].to_vec())
        .collect())
}

impl MixMethod for TlalignConfig {
    const NAME: &'static str = "tlalign";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        check_alpha("tlalign alpha", self.alpha)?;
        let [gh, gw] = if self.patch == 0 {
            [0, 0]
        } else {
            self.grid(shape)
        };
        if gh == 0 || gw == 0 {
            return Err(Error::param(
                "tlalign patch",
                "between 1 and the image side",
                self.patch,
            ));
        }
        Ok(())
    }

    /// λ ~ Beta(α, α), a box on the token grid (`rand_token_bbox`), pasted in pixels; the label weight is
    /// the box-corrected λ.
    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let [gh, gw] = self.grid(ctx.shape);
        let tokens = SampleShape::d2(1, gh, gw)?;
        let lam = sample_beta(self.alpha, self.alpha, rng)?;
        let cut = cut_extents(&tokens, side_ratio(lam, 2));
        let centre = uniform_centre(&tokens, cut, 0.0, rng);
        let b = centred_box(&tokens, cut, centre, BoxRule::Torchvision);
        let p = self.patch;
        let region = Region {
            start: [0, b.start[1] * p, b.start[2] * p],
            end: [1, b.end[1] * p, b.end[2] * p],
        };
        let lam_label = 1.0 - b.volume() as f32 / (gh * gw) as f32;
        Ok(Draw {
            weight: SampleWeight::Paste { region },
            lam_label,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn labels_travel_by_the_attention_as_the_derived_case_says() {
        // methods-dynamic.md §3.5(f): cls [.5, .5], tokens [1, 0] and [0, 1],
        // A = [[.2, .5, .3], [0, 1, 0], [0, 0, 1]] → cls [.55, .45] after one block.
        let l = [0.5, 0.5, 1.0, 0.0, 0.0, 1.0];
        let a = vec![vec![0.2, 0.5, 0.3, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]];
        let out = propagate(&a, &l, 1, 3, 2).unwrap();
        assert!(
            (out[0] - 0.55).abs() < 1e-6 && (out[1] - 0.45).abs() < 1e-6,
            "{out:?}"
        );
        // The identity attention leaves the labels as they are.
        let eye = vec![vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]; 3];
        assert_eq!(propagate(&eye, &l, 1, 3, 2).unwrap(), vec![0.5, 0.5]);
        assert!(propagate(&a, &l[..5], 1, 3, 2).is_err());
    }

    #[test]
    fn boxes_lie_on_the_token_grid_and_the_weight_is_the_token_share() {
        let cfg = TlalignConfig::default();
        let shape = SampleShape::d2(3, 32, 32).unwrap();
        cfg.validate(&shape).unwrap();
        let ctx = DrawCtx {
            shape: &shape,
            partner_data: None,
        };
        let mut rng = stream(3, Purpose::Mix, 0, 0);
        for _ in 0..200 {
            let d = cfg.draw(&ctx, &mut rng).unwrap();
            let SampleWeight::Paste { region } = d.weight else {
                panic!("{d:?}")
            };
            assert!(
                region
                    .start
                    .iter()
                    .chain(&region.end)
                    .skip(1)
                    .all(|v| v % 4 == 0 || *v == 1)
            );
            let area = region.volume() as f32 / 1024.0;
            assert!((d.lam_label - (1.0 - area)).abs() < 1e-6);
        }
        assert!(
            TlalignConfig {
                patch: 0,
                ..cfg.clone()
            }
            .validate(&shape)
            .is_err()
        );
        assert!(TlalignConfig { patch: 64, ..cfg }.validate(&shape).is_err());
    }
}
