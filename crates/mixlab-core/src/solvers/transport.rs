//! PuzzleMix's greedy block transport (`mask_transport` in `snu-mllab/PuzzleMix @ e2dbf3a2 : mixup.py`):
//! move an image's salient blocks into the region its mask keeps, with a cost for moving far.
//!
//! Blocks lie on a `w × w` grid (row-major). With `C[i][j] = ‖pos_i − pos_j‖² / (w − 1)²`, `z_j = [mask_j > 0]`
//! and saliency `s_i`, the cost of sending block i to place j is `eps·C[i][j] − s_i·z_j`. Each of `w`
//! rounds lets every source pick its cheapest place; each place keeps the source with the lowest cost
//! among *all* sources, counting the ones that did not pick it at 0 (ties: lowest index), and every
//! other source that picked it pays 1 more in later rounds. Only places where some picking source has a
//! negative cost can therefore be won; the others end empty, which the mask hides. The reference's order
//! of operations and f32 arithmetic are kept, so plans agree with it bit for bit.

use crate::error::{Error, Result};

/// `C[i][j]` for a `w × w` grid in f32, computed as the reference does (integer squared distance, then one
/// division by `(w − 1)²`); `w ≥ 2`.
pub fn cost_matrix(w: usize) -> Vec<f32> {
    let n = w * w;
    let denom = ((w - 1) * (w - 1)) as f32;
    let mut c = vec![0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            let (di, dj) = ((i / w).abs_diff(j / w), (i % w).abs_diff(j % w));
            c[i * n + j] = (di * di + dj * dj) as f32 / denom;
        }
    }
    c
}

/// The transport plan for one image: for every place j, the source block that moves there (`None`: the
/// place is left empty). `mask` and `saliency` are `w·w` values; `cost` is [`cost_matrix`]`(w)`.
pub fn mask_transport(
    mask: &[f32],
    saliency: &[f32],
    w: usize,
    eps: f32,
    cost: &[f32],
) -> Result<Vec<Option<usize>>> {
    let n = w * w;
    for (what, got) in [
        ("transport mask", mask.len()),
        ("transport saliency", saliency.len()),
    ] {
        if got != n {
            return Err(Error::SizeMismatch {
                what,
                expected: n,
                got,
            });
        }
    }
    if cost.len() != n * n {
        return Err(Error::SizeMismatch {
            what: "transport cost matrix",
            expected: n * n,
            got: cost.len(),
        });
    }
    if w < 2 {
        return Ok(vec![Some(0); n]);
    }
    let mut c: Vec<f32> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            let z = if mask[j] > 0.0 { 1.0f32 } else { 0.0 };
            eps * cost[k] - saliency[i] * z
        })
        .collect();
    let mut winner = vec![None; n];
    for _ in 0..w {
        // Every source's cheapest place (first on ties).
        let pick: Vec<usize> = (0..n)
            .map(|i| {
                let row = &c[i * n..(i + 1) * n];
                let mut best = 0;
                for (j, &v) in row.iter().enumerate() {
                    if v < row[best] {
                        best = j;
                    }
                }
                best
            })
            .collect();
        // Each place's lowest entry of plan ∘ cost over all sources (0 for those that did not pick it).
        for (j, win) in winner.iter_mut().enumerate() {
            let entry = |i: usize| if pick[i] == j { c[i * n + j] } else { 0.0 };
            let mut best = 0;
            for i in 1..n {
                if entry(i) < entry(best) {
                    best = i;
                }
            }
            *win = (pick[best] == j).then_some(best);
        }
        for (i, &j) in pick.iter().enumerate() {
            if winner[j] != Some(i) {
                c[i * n + j] += 1.0;
            }
        }
    }
    Ok(winner)
}

/// Moves blocks of one C×(w·b)×(w·b) image (b = block side) by a plan: place j gets source block
/// `plan[j]`, or zeros.
pub fn transport_image(
    image: &[f32],
    channels: usize,
    w: usize,
    b: usize,
    plan: &[Option<usize>],
) -> Vec<f32> {
    let side = w * b;
    let mut out = vec![0f32; image.len()];
    for (j, src) in plan.iter().enumerate() {
        let Some(i) = *src else { continue };
        let (ri, ci, rj, cj) = (i / w * b, i % w * b, j / w * b, j % w * b);
        for ch in 0..channels {
            let plane = ch * side * side;
            for y in 0..b {
                let from = plane + (ri + y) * side + ci;
                let to = plane + (rj + y) * side + cj;
                out[to..to + b].copy_from_slice(&image[from..from + b]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_matrix_has_the_documented_entries() {
        let c2 = cost_matrix(2);
        assert_eq!(
            c2,
            [
                0., 1., 1., 2., 1., 0., 2., 1., 1., 2., 0., 1., 2., 1., 1., 0.
            ]
        );
        let c4 = cost_matrix(4);
        assert_eq!(c4[15], 2.0);
        assert_eq!(c4[1], 1.0 / 9.0);
    }

    #[test]
    fn the_documented_two_by_two_plans() {
        let s = [0.1, 0.2, 0.3, 0.4];
        let c = cost_matrix(2);
        let plan = |mask: [f32; 4], eps| mask_transport(&mask, &s, 2, eps, &c).unwrap();
        assert_eq!(plan([1., 0., 0., 0.], 0.8), [Some(0), None, None, None]);
        assert_eq!(plan([1., 1., 0., 0.], 0.8), [Some(0), Some(1), None, None]);
        assert_eq!(plan([1., 1., 0., 0.], 0.1), [Some(2), Some(3), None, None]);
    }

    #[test]
    fn every_masked_place_gets_one_distinct_source() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        for w in [2usize, 4, 8] {
            let c = cost_matrix(w);
            for _ in 0..50 {
                let n = w * w;
                let mask: Vec<f32> = (0..n)
                    .map(|_| [0.0, 0.5, 1.0][rng.random_range(0..3)])
                    .collect();
                let mut s: Vec<f32> = (0..n).map(|_| rng.random::<f32>() + 1e-3).collect();
                let total: f32 = s.iter().sum();
                s.iter_mut().for_each(|v| *v /= total);
                let plan = mask_transport(&mask, &s, w, 0.8, &c).unwrap();
                let mut used = vec![false; n];
                for (j, src) in plan.iter().enumerate() {
                    if mask[j] > 0.0 {
                        let i = src.expect("a masked place is filled");
                        assert!(!used[i], "source {i} used twice");
                        used[i] = true;
                    }
                }
            }
        }
    }

    #[test]
    fn transport_moves_whole_blocks() {
        // 1 channel, 2×2 blocks of side 2: place 0 takes block 3, place 1 stays empty, 2 and 3 keep theirs.
        let img: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let out = transport_image(&img, 1, 2, 2, &[Some(3), None, Some(2), Some(3)]);
        assert_eq!(out[..8], [10., 11., 0., 0., 14., 15., 0., 0.]);
        assert_eq!(out[8..], [8., 9., 10., 11., 12., 13., 14., 15.]);
    }
}
