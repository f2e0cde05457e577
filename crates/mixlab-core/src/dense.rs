//! Dense targets through a mix: where each position of a mixed sample comes from (its source map), a
//! segmentation mask mixed with the same plan, and bounding boxes carried into the mix. No peer library
//! mixes these; MixReorg's transferable idea is that a patch mix's source map is itself a dense target.
//!
//! Rules:
//! - a position's own weight is the plan's (1 kept, λ blended, 0 inside a pasted box, the mask's value);
//!   its partner position is the same position, except inside a `PasteResized` region, where it is the
//!   nearest-neighbour source of the resize (PyTorch's `floor(dst · in / out)`, the rule the image
//!   apply uses for `Nearest`);
//! - masks are mixed by nearest neighbour: a position shows the label of the sample with the larger weight
//!   there (its own on a tie), at that sample's source position;
//! - a box of either sample is mapped into the mix (a partner box in a `PasteResized` region becomes the
//!   bounding box of the positions that show it), its visibility is the mean weight of its source over the mapped box, and a box below
//!   `min_visible` (or not visible at all) is dropped; a kept box is clipped to the bounding box of the positions where its source
//!   dominates (unclipped where the source dominates nowhere, as in a blend with λ < ½, so that mixup-style
//!   detection keeps both samples' boxes with their weights).

use crate::apply::taps;
use crate::error::{Error, Result};
use crate::plan::MixPlan;
use crate::weight::{Interp, Region, SampleWeight};

/// Mixed sample `i`'s weight of itself at every spatial position (row-major `[d, h, w]`), and the
/// position of its partner that shows at each.
pub fn source_map(plan: &MixPlan, i: usize) -> Result<(Vec<f32>, Vec<usize>)> {
    plan.validate()?;
    if i >= plan.len() {
        return Err(Error::SizeMismatch {
            what: "sample index (below the batch size)",
            expected: plan.len(),
            got: i,
        });
    }
    let shape = plan.shape;
    let n = shape.spatial_len();
    let [d, h, w] = shape.dims;
    let mut from = (0..n).collect::<Vec<usize>>();
    let own = match &plan.weights[i] {
        SampleWeight::Keep => vec![1.0; n],
        SampleWeight::Blend { lam } => vec![*lam; n],
        SampleWeight::Mask { mask } => mask.to_vec(),
        SampleWeight::Paste { region } => inside(region, shape.dims, 0.0, 1.0),
        SampleWeight::PasteResized { region, .. } => {
            if region.volume() > 0 {
                let ext = region.extent();
                let (tz, ty, tx) = (
                    taps(d, ext[0], Interp::Nearest),
                    taps(h, ext[1], Interp::Nearest),
                    taps(w, ext[2], Interp::Nearest),
                );
                for (oz, &(z, _, _)) in tz.iter().enumerate() {
                    for (oy, &(y, _, _)) in ty.iter().enumerate() {
                        for (ox, &(x, _, _)) in tx.iter().enumerate() {
                            let at = ((region.start[0] + oz) * h + region.start[1] + oy) * w
                                + region.start[2]
                                + ox;
                            from[at] = (z * h + y) * w + x;
                        }
                    }
                }
            }
            inside(region, shape.dims, 0.0, 1.0)
        }
    };
    Ok((own, from))
}

/// `a` inside the region, `b` outside.
fn inside(r: &Region, [d, h, w]: [usize; 3], a: f32, b: f32) -> Vec<f32> {
    let mut v = vec![b; d * h * w];
    for z in r.start[0]..r.end[0] {
        for y in r.start[1]..r.end[1] {
            for x in r.start[2]..r.end[2] {
                v[(z * h + y) * w + x] = a;
            }
        }
    }
    v
}

/// The batch's segmentation masks (B × spatial labels of any type) mixed as the plan mixes the inputs.
pub fn mix_masks<T: Copy>(plan: &MixPlan, masks: &[T]) -> Result<Vec<T>> {
    let n = plan.shape.spatial_len();
    if masks.len() != plan.len() * n {
        return Err(Error::SizeMismatch {
            what: "masks (one label per position of every sample)",
            expected: plan.len() * n,
            got: masks.len(),
        });
    }
    let mut out = Vec::with_capacity(masks.len());
    for i in 0..plan.len() {
        let (own, from) = source_map(plan, i)?;
        let j = plan.partner[i];
        out.extend((0..n).map(|p| {
            if own[p] >= 0.5 {
                masks[i * n + p]
            } else {
                masks[j * n + from[p]]
            }
        }));
    }
    Ok(out)
}

/// A labelled box in the spatial `[d, h, w]` convention (half-open), with the weight it carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelledBox {
    /// Where the object is.
    pub region: Region,
    /// Its class.
    pub class: u32,
    /// How much of it the mix shows (1 for an input box).
    pub weight: f32,
}

/// Each mixed sample's boxes: its own and its partner's, mapped, weighed and clipped (module docs); a box
/// whose visibility is below `min_visible` is dropped.
pub fn mix_boxes(
    plan: &MixPlan,
    boxes: &[Vec<LabelledBox>],
    min_visible: f32,
) -> Result<Vec<Vec<LabelledBox>>> {
    if boxes.len() != plan.len() {
        return Err(Error::SizeMismatch {
            what: "box lists (one per sample)",
            expected: plan.len(),
            got: boxes.len(),
        });
    }
    if !(0.0..=1.0).contains(&min_visible) {
        return Err(Error::param("min_visible", "in [0, 1]", min_visible));
    }
    let dims = plan.shape.dims;
    if let Some(b) = boxes.iter().flatten().find(|b| !b.region.fits(dims)) {
        return Err(Error::param(
            "box",
            "inside the sample",
            format!("{:?} for {}", b.region, plan.shape),
        ));
    }
    let mut out = Vec::with_capacity(plan.len());
    for i in 0..plan.len() {
        let (own, from) = source_map(plan, i)?;
        let j = plan.partner[i];
        let resized = match &plan.weights[i] {
            SampleWeight::PasteResized { region, .. } => Some(*region),
            _ => None,
        };
        let mut kept = Vec::new();
        for (src, is_own) in [(&boxes[i], true), (&boxes[j], false)] {
            if !is_own && j == i {
                continue;
            }
            for b in src {
                let region = match (is_own, resized) {
                    (false, Some(r)) => mapped_by_source(&b.region, &r, &from, dims),
                    _ => b.region,
                };
                let weight_at = |p: usize| if is_own { own[p] } else { 1.0 - own[p] };
                let (mut sum, mut count) = (0f64, 0usize);
                let mut lo = [usize::MAX; 3];
                let mut hi = [0usize; 3];
                for z in region.start[0]..region.end[0] {
                    for y in region.start[1]..region.end[1] {
                        for x in region.start[2]..region.end[2] {
                            let p = (z * dims[1] + y) * dims[2] + x;
                            let wgt = weight_at(p);
                            sum += f64::from(wgt);
                            count += 1;
                            if wgt > 0.5 || (is_own && wgt == 0.5) {
                                for (a, v) in [z, y, x].into_iter().enumerate() {
                                    lo[a] = lo[a].min(v);
                                    hi[a] = hi[a].max(v + 1);
                                }
                            }
                        }
                    }
                }
                let visible = if count == 0 {
                    0.0
                } else {
                    (sum / count as f64) as f32
                };
                if visible <= 0.0 || visible < min_visible {
                    continue;
                }
                let region = if lo[0] == usize::MAX {
                    region
                } else {
                    Region { start: lo, end: hi }
                };
                kept.push(LabelledBox {
                    region,
                    class: b.class,
                    weight: visible * b.weight,
                });
            }
        }
        out.push(kept);
    }
    Ok(out)
}

/// Where a partner box lands inside a resized paste: the bounding box of the region's positions whose
/// nearest-neighbour source lies in the box (empty when the resize skips the box entirely).
fn mapped_by_source(b: &Region, r: &Region, from: &[usize], [_, h, w]: [usize; 3]) -> Region {
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    for z in r.start[0]..r.end[0] {
        for y in r.start[1]..r.end[1] {
            for x in r.start[2]..r.end[2] {
                let src = from[(z * h + y) * w + x];
                let (sz, sy, sx) = (src / (h * w), (src / w) % h, src % w);
                let inside = (b.start[0]..b.end[0]).contains(&sz)
                    && (b.start[1]..b.end[1]).contains(&sy)
                    && (b.start[2]..b.end[2]).contains(&sx);
                if inside {
                    for (a, v) in [z, y, x].into_iter().enumerate() {
                        lo[a] = lo[a].min(v);
                        hi[a] = hi[a].max(v + 1);
                    }
                }
            }
        }
    }
    if lo[0] == usize::MAX {
        Region {
            start: r.start,
            end: r.start,
        }
    } else {
        Region { start: lo, end: hi }
    }
}

/// The patches of a `grid` × `grid` split of the `h` × `w` plane (row-major): patch `(r, c)` covers rows
/// `⌊r·h/grid⌋..⌊(r+1)·h/grid⌋` and the columns likewise, so uneven sizes differ by at most one.
fn patch_of(h: usize, w: usize, grid: usize) -> Vec<usize> {
    let mut at = Vec::with_capacity(h * w);
    for y in 0..h {
        for x in 0..w {
            at.push((y * grid / h) * grid + x * grid / w);
        }
    }
    at
}

/// Mixed sample `i`'s share of itself in each patch of a `grid` × `grid` split of its plane: the mean of its
/// own weight ([`source_map`]) over the patch's positions, row-major. The rest of each patch is its partner's.
/// Needs a 2-D plan (`d = 1`) with `grid` ≤ its height and width.
pub fn patch_shares(plan: &MixPlan, i: usize, grid: usize) -> Result<Vec<f32>> {
    let [d, h, w] = plan.shape.dims;
    if d != 1 || grid == 0 || grid > h || grid > w {
        return Err(Error::Incompatible(format!(
            "a {grid}×{grid} patch grid needs 2-D samples at least that large (these are {d}×{h}×{w})"
        )));
    }
    let (own, _) = source_map(plan, i)?;
    let at = patch_of(h, w, grid);
    let (mut sum, mut count) = (vec![0f64; grid * grid], vec![0usize; grid * grid]);
    for (k, &p) in at.iter().enumerate() {
        sum[p] += own[k] as f64;
        count[p] += 1;
    }
    Ok(sum
        .iter()
        .zip(&count)
        .map(|(s, &c)| (s / c as f64) as f32)
        .collect())
}

/// Per-patch soft class targets of a mixed batch, `[batch, grid², classes]` row-major: patch p of sample i
/// is `s·onehot(y_i) + (1 − s)·onehot(y_partner)` with `s` its [`patch_shares`] (`by_source`), or the
/// sample's image-level mixed label in every patch (`!by_source`: what a label-only mix can teach).
pub fn patch_targets(
    plan: &MixPlan,
    labels: &[usize],
    classes: usize,
    grid: usize,
    by_source: bool,
) -> Result<Vec<f32>> {
    let image = plan.soft_targets(labels, classes, 0.0)?;
    let p = grid * grid;
    let mut t = vec![0f32; plan.len() * p * classes];
    for i in 0..plan.len() {
        let (yi, yj) = (labels[i], labels[plan.partner[i]]);
        let shares = match by_source {
            true => patch_shares(plan, i, grid)?,
            false => Vec::new(),
        };
        for k in 0..p {
            let row = &mut t[(i * p + k) * classes..(i * p + k + 1) * classes];
            match by_source {
                true => {
                    row[yi] += shares[k];
                    row[yj] += 1.0 - shares[k];
                }
                false => row.copy_from_slice(&image[i * classes..(i + 1) * classes]),
            }
        }
    }
    Ok(t)
}

/// The hard class of each patch of a mixed batch (`[batch, grid²]`): the sample's own label where its share
/// of the patch is at least ½, else its partner's.
pub fn patch_classes(plan: &MixPlan, labels: &[usize], grid: usize) -> Result<Vec<usize>> {
    if labels.len() != plan.len() {
        return Err(Error::SizeMismatch {
            what: "labels",
            expected: plan.len(),
            got: labels.len(),
        });
    }
    let mut out = Vec::with_capacity(plan.len() * grid * grid);
    for i in 0..plan.len() {
        let (yi, yj) = (labels[i], labels[plan.partner[i]]);
        out.extend(
            patch_shares(plan, i, grid)?
                .into_iter()
                .map(|s| if s >= 0.5 { yi } else { yj }),
        );
    }
    Ok(out)
}
