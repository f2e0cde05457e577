//! SnapMix (Huang et al., AAAI'21): an asymmetric CutMix whose label weights are the shares of each
//! image's class activation map that the cut removes or brings, so the two weights need not sum to 1.
//!
//! Follows the official code (github.com/Shaoli-Huang/SnapMix @ 245bda4, `utils/mixmethod.py`
//! `get_spm` / `snapmix`, `utils/custom_ops.py` `rand_bbox`):
//! - **semantic percent map**: `CAM = conv1×1(relu(last conv map), W_fc, b_fc)` at each image's own
//!   label, upsampled bilinearly (`align_corners=False`) to the image size, minus its minimum, divided
//!   by its sum ([`class_activation_maps`], [`percent_maps`]);
//! - λ, λ₁ ~ Beta(β, β); box 1 on the image from λ, box 2 on the partner from λ₁ (CutMix's
//!   `[c − ⌊cut/2⌋, c + ⌊cut/2⌋)` boxes, centres uniform, rows first); the partner's box 2 is resized
//!   bilinearly (`align_corners=True`) into box 1;
//! - `λ_a = 1 − Σ_box1 SPM_a / (Σ SPM_a + 1e-8)`, `λ_b = Σ_box2 SPM_b / (Σ SPM_b + 1e-8)`; a pair of equal
//!   labels gets `λ_a + λ_b` on both; a NaN weight (a constant CAM, whose map is 0/0) falls back to the
//!   area λ = 1 − |box1|/HW for `λ_a` and 1 − λ for `λ_b`; if either box is empty nothing is mixed;
//! - loss `mean(λ_a·CE(y_a) + λ_b·CE(y_b))`, which is soft-target cross-entropy against
//!   `λ_a·e_{y_a} + λ_b·e_{y_b}`.
//!
//! The CAM pass in the reference runs the training model in train mode under `no_grad` (BatchNorm uses
//! batch statistics and moves its running statistics); mixlab's trainer does the same. OpenMixup's port
//! indexes the head's weights as if they were CAMs and never upsamples them; it is not followed.

use super::{Draw, DrawCtx, MixMethod, check_alpha, sample_beta};
use crate::boxes::{BoxRule, cut_extents, side_ratio, uniform_centre};
use crate::error::{Error, Result};
use crate::methods::cutmix::rand_bbox;
use crate::shape::SampleShape;
use crate::weight::{Region, SampleWeight};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// SnapMix hyper-parameters (the official defaults: `--beta 1`, `--prob 1` as the mixer's `prob`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapmixConfig {
    /// Beta concentration β of both box λs (default 1; the README uses 5 with pretrained backbones).
    pub beta: f64,
}

impl Default for SnapmixConfig {
    fn default() -> Self {
        Self { beta: 1.0 }
    }
}

/// The random choices of one SnapMix batch besides the partners: both λs and both box centres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SnapDraw {
    /// The plan's λ: sets the size of box 1, on the image.
    pub lam: f64,
    /// λ₁ ~ Beta(β, β): sets the size of box 2, on the partner.
    pub lam1: f64,
    /// Centre of box 1 (on the image), `[0, row, col]`.
    pub centre: [usize; 3],
    /// Centre of box 2 (on the partner), `[0, row, col]`.
    pub centre1: [usize; 3],
}

/// One mixed SnapMix batch: the inputs and both label weights per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapBatch {
    /// The mixed images, n × C × H × W like the input.
    pub mixed: Vec<f32>,
    /// Per sample, the weight `λ_a` of its own label (1 when nothing was mixed).
    pub lam_a: Vec<f32>,
    /// Per sample, the weight `λ_b` of its partner's label (0 when nothing was mixed); `λ_a + λ_b` need not
    /// be 1.
    pub lam_b: Vec<f32>,
}

/// Raw class activation maps `Σ_c relu(f[i, c]) · W[c, y_i] + b[y_i]`, `n` maps of `h·w` values, from a
/// feature map `n × c × h × w` and a linear head stored as `[c, classes]` (Burn's layout) with its bias.
pub fn class_activation_maps(
    features: &[f32],
    dims: [usize; 4],
    weight: &[f32],
    bias: &[f32],
    labels: &[usize],
) -> Result<Vec<f64>> {
    let [n, c, h, w] = dims;
    let hw = h * w;
    let classes = bias.len();
    for (what, expected, got) in [
        ("snapmix features", n * c * hw, features.len()),
        ("snapmix head weight", c * classes, weight.len()),
        ("snapmix labels", n, labels.len()),
    ] {
        if expected != got {
            return Err(Error::SizeMismatch {
                what,
                expected,
                got,
            });
        }
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(Error::LabelOutOfRange {
            label,
            index,
            classes,
        });
    }
    let mut out = vec![0.0f64; n * hw];
    for (i, &y) in labels.iter().enumerate() {
        let map = &mut out[i * hw..(i + 1) * hw];
        map.iter_mut().for_each(|v| *v = f64::from(bias[y]));
        for ch in 0..c {
            let wc = f64::from(weight[ch * classes + y]);
            let f = &features[(i * c + ch) * hw..(i * c + ch + 1) * hw];
            for (m, &v) in map.iter_mut().zip(f) {
                *m += wc * f64::from(v.max(0.0));
            }
        }
    }
    Ok(out)
}

/// PyTorch's bilinear resize of one `h × w` map to `oh × ow`; `align_corners` as PyTorch's flag.
pub fn resize_bilinear(
    map: &[f64],
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    align_corners: bool,
) -> Vec<f64> {
    let taps = |inp: usize, out: usize| -> Vec<(usize, usize, f64)> {
        (0..out)
            .map(|o| {
                let src = if align_corners {
                    if out > 1 {
                        o as f64 * (inp as f64 - 1.0) / (out as f64 - 1.0)
                    } else {
                        0.0
                    }
                } else {
                    ((o as f64 + 0.5) * inp as f64 / out as f64 - 0.5).max(0.0)
                };
                let i0 = (src.floor() as usize).min(inp - 1);
                let i1 = (i0 + 1).min(inp - 1);
                (i0, i1, src - i0 as f64)
            })
            .collect()
    };
    let (ty, tx) = (taps(h, oh), taps(w, ow));
    let mut out = Vec::with_capacity(oh * ow);
    for &(y0, y1, fy) in &ty {
        for &(x0, x1, fx) in &tx {
            let top = map[y0 * w + x0] * (1.0 - fx) + map[y0 * w + x1] * fx;
            let bottom = map[y1 * w + x0] * (1.0 - fx) + map[y1 * w + x1] * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

/// The reference's semantic percent maps: each raw CAM (`h × w`) upsampled to `oh × ow`
/// (`align_corners=False`), minus its minimum, divided by its sum. A constant CAM gives `None` (the
/// reference's 0/0 map, which turns its label weights into NaN).
pub fn percent_maps(
    cams: &[f64],
    n: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
) -> Vec<Option<Vec<f64>>> {
    cams.chunks_exact(h * w)
        .take(n)
        .map(|cam| {
            let mut m = resize_bilinear(cam, h, w, oh, ow, false);
            let min = m.iter().copied().fold(f64::INFINITY, f64::min);
            m.iter_mut().for_each(|v| *v -= min);
            let total: f64 = m.iter().sum();
            if total > 0.0 && total.is_finite() {
                m.iter_mut().for_each(|v| *v /= total);
                Some(m)
            } else {
                None
            }
        })
        .collect()
}

fn box_sum(map: &[f64], w: usize, r: &Region) -> f64 {
    let mut s = 0.0;
    for y in r.start[1]..r.end[1] {
        s += map[y * w + r.start[2]..y * w + r.end[2]]
            .iter()
            .sum::<f64>();
    }
    s
}

impl SnapmixConfig {
    /// Draws λ₁ and both centres after the plan's λ, in the reference's order (box 1's centre, then box 2's).
    pub fn draw_boxes<R: Rng + ?Sized>(
        &self,
        shape: &SampleShape,
        lam: f64,
        rng: &mut R,
    ) -> Result<SnapDraw> {
        let lam1 = sample_beta(self.beta, self.beta, rng)?;
        let cut = |l: f64| cut_extents(shape, side_ratio(l, shape.rank));
        let centre = uniform_centre(shape, cut(lam), 0.0, rng);
        let centre1 = uniform_centre(shape, cut(lam1), 0.0, rng);
        Ok(SnapDraw {
            lam,
            lam1,
            centre,
            centre1,
        })
    }

    /// Mixes a batch: `images` (n × C × H × W), each image's percent map ([`percent_maps`]), its partner
    /// and label, and the batch's draw.
    pub fn mix(
        &self,
        images: &[f32],
        shape: &SampleShape,
        maps: &[Option<Vec<f64>>],
        partner: &[usize],
        labels: &[usize],
        draw: &SnapDraw,
    ) -> Result<SnapBatch> {
        let (c, h, w) = (shape.channels, shape.dims[1], shape.dims[2]);
        let (hw, per) = (h * w, shape.sample_len());
        let n = partner.len();
        if shape.rank != 2 || images.len() != n * per || maps.len() != n || labels.len() != n {
            return Err(Error::Incompatible(format!(
                "snapmix: {} images of {shape}, {} maps, {n} partners and {} labels do not fit together",
                images.len() / per.max(1),
                maps.len(),
                labels.len()
            )));
        }
        if let Some(m) = maps.iter().flatten().find(|m| m.len() != hw) {
            return Err(Error::SizeMismatch {
                what: "snapmix percent map",
                expected: hw,
                got: m.len(),
            });
        }
        let b1 = rand_bbox(shape, draw.lam, draw.centre, BoxRule::Torchvision);
        let b2 = rand_bbox(shape, draw.lam1, draw.centre1, BoxRule::Torchvision);
        let (e1, e2) = (b1.extent(), b2.extent());
        let mut mixed = images.to_vec();
        if b1.volume() == 0 || b2.volume() == 0 {
            return Ok(SnapBatch {
                mixed,
                lam_a: vec![1.0; n],
                lam_b: vec![0.0; n],
            });
        }
        for (i, &j) in partner.iter().enumerate() {
            for ch in 0..c {
                let src = &images[j * per + ch * hw..j * per + (ch + 1) * hw];
                let region: Vec<f64> = (b2.start[1]..b2.end[1])
                    .flat_map(|y| {
                        src[y * w + b2.start[2]..y * w + b2.end[2]]
                            .iter()
                            .map(|&v| f64::from(v))
                    })
                    .collect();
                let resized = resize_bilinear(&region, e2[1], e2[2], e1[1], e1[2], true);
                let dst = &mut mixed[i * per + ch * hw..i * per + (ch + 1) * hw];
                for (k, y) in (b1.start[1]..b1.end[1]).enumerate() {
                    for (l, x) in (b1.start[2]..b1.end[2]).enumerate() {
                        dst[y * w + x] = resized[k * e1[2] + l] as f32;
                    }
                }
            }
        }
        let area_lam = 1.0 - b1.volume() as f64 / hw as f64;
        let (mut lam_a, mut lam_b) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (i, &j) in partner.iter().enumerate() {
            let a = maps[i]
                .as_ref()
                .map(|m| 1.0 - box_sum(m, w, &b1) / (m.iter().sum::<f64>() + 1e-8));
            let b = maps[j]
                .as_ref()
                .map(|m| box_sum(m, w, &b2) / (m.iter().sum::<f64>() + 1e-8));
            let (a, b) = if labels[i] == labels[j] {
                // NaN propagates through the sum in the reference: either missing map voids both.
                let both = a.zip(b).map(|(a, b)| a + b);
                (both, both)
            } else {
                (a, b)
            };
            lam_a.push(a.unwrap_or(area_lam) as f32);
            lam_b.push(b.unwrap_or(1.0 - area_lam) as f32);
        }
        Ok(SnapBatch {
            mixed,
            lam_a,
            lam_b,
        })
    }
}

impl MixMethod for SnapmixConfig {
    const NAME: &'static str = "snapmix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        check_alpha("beta", self.beta)
    }

    /// Box 1's λ ~ Beta(β, β); box 2, the centres and the label weights come from the batch's CAMs.
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let lam = sample_beta(self.beta, self.beta, rng)? as f32;
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn uniform_maps_give_the_area_weights_and_equal_labels_share_them() {
        let shape = SampleShape::d2(1, 10, 10).unwrap();
        let uniform = Some(vec![0.01; 100]);
        let images: Vec<f32> = (0..300).map(|i| i as f32).collect();
        let draw = SnapDraw {
            lam: 0.64,  // side int(10 · 0.6) = 6: box rows/cols 2..8
            lam1: 0.84, // side 4: box 3..7 around (5, 5)
            centre: [0, 5, 5],
            centre1: [0, 5, 5],
        };
        let cfg = SnapmixConfig::default();
        let b = cfg
            .mix(
                &images,
                &shape,
                &[uniform.clone(), uniform.clone(), uniform.clone()],
                &[1, 2, 0],
                &[0, 1, 1],
                &draw,
            )
            .unwrap();
        // Sample 0 (label 0) and its partner 1 (label 1): 1 − 36/100 and 16/100.
        assert!((b.lam_a[0] - 0.64).abs() < 1e-6 && (b.lam_b[0] - 0.16).abs() < 1e-6);
        // Sample 1 and partner 2 share label 1: both weights are the sum.
        assert!((b.lam_a[1] - 0.80).abs() < 1e-6 && (b.lam_b[1] - 0.80).abs() < 1e-6);
        // Pixels outside box 1 are the image's own; inside, the partner's resized box 2.
        assert_eq!(b.mixed[0], images[0]);
        assert_eq!(
            b.mixed[2 * 10 + 2],
            images[100 + 3 * 10 + 3],
            "corner to corner (align_corners)"
        );
        assert_eq!(b.mixed[7 * 10 + 7], images[100 + 6 * 10 + 6]);
        // A missing map falls back to the area weights.
        let b = cfg
            .mix(
                &images,
                &shape,
                &[None, uniform.clone(), uniform],
                &[1, 2, 0],
                &[0, 1, 2],
                &draw,
            )
            .unwrap();
        assert!((b.lam_a[0] - 0.64).abs() < 1e-6 && (b.lam_b[2] - 0.36).abs() < 1e-6);
    }

    #[test]
    fn cams_use_the_label_column_and_rectified_features() {
        // Two channels, 1×2 map, two classes; head [c, k].
        let f = [1.0f32, -2.0, 3.0, 4.0];
        let w = [0.5f32, -1.0, 2.0, 0.25];
        let cam = class_activation_maps(&f, [1, 2, 1, 2], &w, &[0.1, -0.1], &[1]).unwrap();
        // class 1: relu(f0)·(−1) + relu(f1)·0.25 − 0.1 → [−1 + 0.75 − 0.1, 0 + 1 − 0.1]
        assert!((cam[0] + 0.35).abs() < 1e-6 && (cam[1] - 0.9).abs() < 1e-6);
        assert!(class_activation_maps(&f, [1, 2, 1, 2], &w, &[0.1, -0.1], &[2]).is_err());
        assert!(class_activation_maps(&f[..3], [1, 2, 1, 2], &w, &[0.1, -0.1], &[1]).is_err());
    }

    #[test]
    fn draws_are_seeded_and_bad_configs_refused() {
        let shape = SampleShape::d2(3, 32, 32).unwrap();
        let cfg = SnapmixConfig::default();
        let a = cfg
            .draw_boxes(&shape, 0.4, &mut stream(1, Purpose::Mix, 0, 0))
            .unwrap();
        let b = cfg
            .draw_boxes(&shape, 0.4, &mut stream(1, Purpose::Mix, 0, 0))
            .unwrap();
        assert_eq!(a, b);
        assert!((0.0..=1.0).contains(&a.lam1) && a.centre[1] < 32 && a.centre1[2] < 32);
        assert!(SnapmixConfig { beta: 0.0 }.validate(&shape).is_err());
        assert!(cfg.validate(&SampleShape::d1(1, 32).unwrap()).is_err());
    }
}
