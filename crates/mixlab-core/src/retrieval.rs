//! Retrieval metrics for learned embeddings on host buffers: Recall@K within one set (deep metric
//! learning's standard evaluation, as in Metrix), cross-modal Recall@K from a query set to a gallery, and
//! Wang & Isola's (ICML'20) alignment and uniformity of the hypersphere embedding.
//!
//! Conventions: embeddings are row-major N×dim f32; similarity is the cosine, so rows are normalised
//! here (an all-zero row has similarity 0 to everything, as `F.normalize` with its 1e-12 floor gives);
//! among equal similarities the lower gallery index ranks first. Similarities come from one blocked
//! pass over the gallery per block of queries (in parallel over blocks), and each query keeps only the
//! rank of its first same-label neighbour, so memory stays O(block × N) and nothing is sorted.

use crate::error::{Error, Result};
use rayon::prelude::*;

/// Queries handled together: their similarity rows to the whole gallery fit in a few MB for N = 10 000.
const QUERY_BLOCK: usize = 32;

/// Lanes of the dot-product accumulator (independent partial sums let the compiler vectorise).
const LANES: usize = 8;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// Checks an N×dim buffer (`what` names it in errors) and returns N.
fn check_rows(what: &'static str, x: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 {
        return Err(Error::param("embedding dim", ">= 1", dim));
    }
    if x.is_empty() {
        return Err(Error::param(what, "non-empty", "0 values"));
    }
    if !x.len().is_multiple_of(dim) {
        return Err(Error::SizeMismatch {
            what: "embedding values (a multiple of dim)",
            expected: x.len().div_ceil(dim) * dim,
            got: x.len(),
        });
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::param(
            what,
            "finite",
            format!("{} at index {i}", x[i]),
        ));
    }
    Ok(x.len() / dim)
}

fn check_labels(n: usize, labels: &[usize]) -> Result<()> {
    if labels.len() != n {
        return Err(Error::SizeMismatch {
            what: "labels (one per embedding row)",
            expected: n,
            got: labels.len(),
        });
    }
    Ok(())
}

/// Each k in `ks` must satisfy 1 <= k <= `max_k`; returns the largest.
fn check_ks(ks: &[usize], max_k: usize, rule: &'static str) -> Result<usize> {
    if ks.is_empty() {
        return Err(Error::param("recall ks", "non-empty", "[]"));
    }
    match ks.iter().find(|&&k| k == 0 || k > max_k) {
        Some(&k) => Err(Error::param("recall k", rule, k)),
        None => Ok(ks.iter().copied().max().unwrap_or(1)),
    }
}

/// Rows scaled to unit length (norm floored at 1e-12).
fn normalized(x: &[f32], dim: usize) -> Vec<f32> {
    let mut out = x.to_vec();
    for row in out.chunks_exact_mut(dim) {
        let norm = row
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        for v in row {
            *v = (f64::from(*v) / norm) as f32;
        }
    }
    out
}

/// For every query, the rank (0-based, among the `depth` nearest gallery rows, skipping the query's own
/// index when `skip_self`) of the first gallery row sharing its label; `None` when no such row is in the
/// top `depth`.
fn first_hit_ranks(
    q: &[f32],
    qlabels: &[usize],
    g: &[f32],
    glabels: &[usize],
    dim: usize,
    depth: usize,
    skip_self: bool,
) -> Vec<Option<usize>> {
    let nq = qlabels.len();
    let ng = glabels.len();
    let mut ranks = vec![None; nq];
    ranks
        .par_chunks_mut(QUERY_BLOCK)
        .enumerate()
        .for_each(|(blk, out)| {
            let q0 = blk * QUERY_BLOCK;
            let rows = out.len();
            let mut sims = vec![0f32; rows * ng];
            for (j, grow) in g.chunks_exact(dim).enumerate() {
                for r in 0..rows {
                    let qi = q0 + r;
                    sims[r * ng + j] = dot(&q[qi * dim..(qi + 1) * dim], grow);
                }
            }
            // Top-`depth` per query, best first; a later (higher) index never displaces an equal
            // similarity, which is the lower-index tie rule.
            let mut top: Vec<(f32, usize)> = Vec::with_capacity(depth + 1);
            for (r, slot) in out.iter_mut().enumerate() {
                let qi = q0 + r;
                top.clear();
                for (j, &s) in sims[r * ng..(r + 1) * ng].iter().enumerate() {
                    if skip_self && j == qi {
                        continue;
                    }
                    if top.len() == depth && s <= top[depth - 1].0 {
                        continue;
                    }
                    let at = top.partition_point(|&(t, _)| t >= s);
                    top.insert(at, (s, j));
                    top.truncate(depth);
                }
                *slot = top.iter().position(|&(_, j)| glabels[j] == qlabels[qi]);
            }
        });
    ranks
}

fn recall_from_ranks(ranks: &[Option<usize>], ks: &[usize]) -> Vec<f64> {
    let n = ranks.len() as f64;
    ks.iter()
        .map(|&k| ranks.iter().filter(|r| r.is_some_and(|p| p < k)).count() as f64 / n)
        .collect()
}

/// Recall@K for each k in `ks`: for every row, its k nearest other rows by cosine similarity (rows need
/// not be unit; ties broken by lower index); a hit when any of them has the row's label. Returns the hit
/// fraction per k.
///
/// Errors: no rows, `dim` 0, `emb.len()` not `labels.len()·dim`, a non-finite value, an empty `ks`, or a
/// k that is 0 or not below the number of rows.
pub fn recall_at_k(emb: &[f32], dim: usize, labels: &[usize], ks: &[usize]) -> Result<Vec<f64>> {
    let n = check_rows("embeddings", emb, dim)?;
    check_labels(n, labels)?;
    let depth = check_ks(
        ks,
        n.saturating_sub(1),
        "in 1..rows (other rows to retrieve)",
    )?;
    let x = normalized(emb, dim);
    let ranks = first_hit_ranks(&x, labels, &x, labels, dim, depth, true);
    Ok(recall_from_ranks(&ranks, ks))
}

/// Cross-modal Recall@K: for every query row, its k nearest gallery rows by cosine similarity (ties by
/// lower gallery index); a hit when any of them shares the query's label. Returns the hit fraction per k.
///
/// Errors: as [`recall_at_k`] for each set, or a k that is 0 or larger than the gallery.
pub fn cross_recall_at_k(
    query: &[f32],
    qlabels: &[usize],
    gallery: &[f32],
    glabels: &[usize],
    dim: usize,
    ks: &[usize],
) -> Result<Vec<f64>> {
    let nq = check_rows("query embeddings", query, dim)?;
    check_labels(nq, qlabels)?;
    let ng = check_rows("gallery embeddings", gallery, dim)?;
    check_labels(ng, glabels)?;
    let depth = check_ks(ks, ng, "in 1..=gallery rows")?;
    let q = normalized(query, dim);
    let g = normalized(gallery, dim);
    let ranks = first_hit_ranks(&q, qlabels, &g, glabels, dim, depth, false);
    Ok(recall_from_ranks(&ranks, ks))
}

/// Alignment (Wang & Isola 2020, α = 2): the mean over paired rows of ‖x_i − y_i‖² after normalising
/// every row. 0 for identical directions, 4 for opposite ones.
///
/// Errors: empty, `dim` 0, lengths not a multiple of `dim` or different, non-finite values.
pub fn alignment(x: &[f32], y: &[f32], dim: usize) -> Result<f64> {
    let n = check_rows("alignment x", x, dim)?;
    let m = check_rows("alignment y", y, dim)?;
    if n != m {
        return Err(Error::SizeMismatch {
            what: "alignment rows (x and y pair up)",
            expected: n,
            got: m,
        });
    }
    let (x, y) = (normalized(x, dim), normalized(y, dim));
    let total: f64 = x
        .chunks_exact(dim)
        .zip(y.chunks_exact(dim))
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(&u, &v)| {
                    let d = f64::from(u) - f64::from(v);
                    d * d
                })
                .sum::<f64>()
        })
        .sum();
    Ok(total / n as f64)
}

/// Uniformity (Wang & Isola 2020, t = 2): `log mean_{i<j} exp(−2‖x_i − x_j‖²)` over all distinct pairs of
/// the normalised rows; from 0 (all rows equal) down to about −4 for antipodal pairs, lower is more uniform.
///
/// Errors: fewer than two rows, `dim` 0, a length not a multiple of `dim`, non-finite values.
pub fn uniformity(x: &[f32], dim: usize) -> Result<f64> {
    let n = check_rows("uniformity x", x, dim)?;
    if n < 2 {
        return Err(Error::param("uniformity rows", ">= 2", n));
    }
    let x = normalized(x, dim);
    // ‖a − b‖² = 2 − 2 a·b for unit rows; the kernel is at most 1, so a plain f64 sum cannot overflow.
    let sum: f64 = (0..n)
        .into_par_iter()
        .map(|i| {
            let a = &x[i * dim..(i + 1) * dim];
            x[(i + 1) * dim..]
                .chunks_exact(dim)
                .map(|b| {
                    let sq = (2.0 - 2.0 * f64::from(dot(a, b))).max(0.0);
                    (-2.0 * sq).exp()
                })
                .sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    let pairs = (n * (n - 1) / 2) as f64;
    Ok((sum / pairs).ln())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::ChaCha8Rng;
    use rand::{RngExt, SeedableRng};

    /// Four points on the unit circle at 0°, 10°, 85°, 180° (scaled, to check normalisation):
    /// nearest other rows — 0: [1, 2, 3], 1: [0, 2, 3], 2: [1, 0, 3], 3: [2, 1, 0].
    fn circle() -> Vec<f32> {
        let deg = [0f32, 10.0, 85.0, 180.0];
        let scale = [1.0f32, 3.0, 0.5, 2.0];
        deg.iter()
            .zip(scale)
            .flat_map(|(d, s)| [s * d.to_radians().cos(), s * d.to_radians().sin()])
            .collect()
    }

    #[test]
    fn recall_by_hand() {
        let x = circle();
        // labels a a b b: 0 hits at rank 0, 1 at 0, 2 at rank 2 (row 3), 3 at rank 0 (row 2).
        let r = recall_at_k(&x, 2, &[0, 0, 1, 1], &[1, 2, 3]).unwrap();
        assert_eq!(r, vec![0.75, 0.75, 1.0]);
        // labels a b a b: 0 finds 2 at rank 1, 1 finds 3 at rank 2, 2 finds 0 at rank 1, 3 finds 1 at 1.
        let r = recall_at_k(&x, 2, &[0, 1, 0, 1], &[1, 2, 3]).unwrap();
        assert_eq!(r, vec![0.0, 0.75, 1.0]);
    }

    #[test]
    fn ties_go_to_the_lower_index() {
        // Query 0 sits between 1 and 2 at equal similarity; only the lower index (1) is within k = 1.
        let x = [1.0f32, 0.0, 0.0, 1.0, 0.0, -1.0];
        let r = recall_at_k(&x, 2, &[7, 7, 8], &[1]).unwrap();
        let r2 = recall_at_k(&x, 2, &[7, 8, 7], &[1]).unwrap();
        // Row 0: with [7, 7, 8] its first neighbour is row 1 (hit); with [7, 8, 7] it is row 1 (miss).
        // Rows 1 and 2 are antipodal: each one's nearest other row is row 0.
        assert_eq!(r, vec![2.0 / 3.0]);
        assert_eq!(r2, vec![1.0 / 3.0]);
    }

    /// The blocked, top-k path agrees with a full sort of every similarity row on random data larger
    /// than one query block, with clustered labels so recall is neither 0 nor 1.
    #[test]
    fn recall_matches_full_sort() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, dim, classes) = (101, 5, 7);
        let labels: Vec<usize> = (0..n).map(|_| rng.random_range(0..classes)).collect();
        let emb: Vec<f32> = labels
            .iter()
            .flat_map(|&y| (0..dim).map(move |d| if d == y % dim { 1.0 } else { 0.0 }))
            .map(|c: f32| c + rng.random_range(-0.8f32..0.8))
            .collect();
        let ks = [1, 2, 5, 10, 100];
        let got = recall_at_k(&emb, dim, &labels, &ks).unwrap();
        let x = normalized(&emb, dim);
        let mut want = vec![0f64; ks.len()];
        for i in 0..n {
            let mut order: Vec<(f32, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (dot(&x[i * dim..][..dim], &x[j * dim..][..dim]), j))
                .collect();
            order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for (w, &k) in want.iter_mut().zip(&ks) {
                if order[..k].iter().any(|&(_, j)| labels[j] == labels[i]) {
                    *w += 1.0 / n as f64;
                }
            }
        }
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        assert!(got[0] > 0.2 && got[0] < 1.0, "{got:?}");
        assert_eq!(got[4], 1.0);
    }

    #[test]
    fn cross_recall_by_hand() {
        // Queries at 0° and 90°; gallery at 10° (label 1), 80° (label 0), 180° (label 0).
        let q = [1.0f32, 0.0, 0.0, 1.0];
        let deg = [10f32, 80.0, 180.0];
        let g: Vec<f32> = deg
            .iter()
            .flat_map(|d| [d.to_radians().cos(), d.to_radians().sin()])
            .collect();
        // Query 0 (label 0): order [10°, 80°, 180°] → first hit rank 1. Query 1 (label 1): order
        // [80°, 10°, 180°] → first hit rank 1.
        let r = cross_recall_at_k(&q, &[0, 1], &g, &[1, 0, 0], 2, &[1, 2, 3]).unwrap();
        assert_eq!(r, vec![0.0, 1.0, 1.0]);
        let r = cross_recall_at_k(&q, &[0, 0], &g, &[1, 0, 0], 2, &[1]).unwrap();
        assert_eq!(r, vec![0.5]);
    }

    #[test]
    fn alignment_and_uniformity_by_hand() {
        // x along +e1 (scaled), y at 90° and 180°: ‖·‖² = 2 and 4 → mean 3.
        let x = [2.0f32, 0.0, 0.5, 0.0];
        let y = [0.0f32, 1.0, -3.0, 0.0];
        assert!((alignment(&x, &y, 2).unwrap() - 3.0).abs() < 1e-12);
        assert!(alignment(&x, &x, 2).unwrap().abs() < 1e-12);
        // Three rows at 0°, 90°, 180°: squared distances 2, 4, 2 → log((2e^-4 + e^-8)/3).
        let u = uniformity(&[1.0, 0.0, 0.0, 1.0, -1.0, 0.0], 2).unwrap();
        let want = ((2.0 * (-4f64).exp() + (-8f64).exp()) / 3.0).ln();
        assert!((u - want).abs() < 1e-6, "{u} vs {want}");
        assert!(uniformity(&[1.0, 1.0, 2.0, 2.0], 2).unwrap().abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_inputs() {
        let x = circle();
        let l = [0, 0, 1, 1];
        assert!(recall_at_k(&[], 2, &[], &[1]).is_err());
        assert!(recall_at_k(&x, 0, &l, &[1]).is_err());
        assert!(recall_at_k(&x[..7], 2, &l, &[1]).is_err());
        assert!(recall_at_k(&x, 2, &l[..3], &[1]).is_err());
        assert!(recall_at_k(&x, 2, &l, &[0]).is_err());
        assert!(recall_at_k(&x, 2, &l, &[4]).is_err());
        assert!(recall_at_k(&x, 2, &l, &[]).is_err());
        let mut bad = x.clone();
        bad[3] = f32::NAN;
        assert!(recall_at_k(&bad, 2, &l, &[1]).is_err());
        assert!(cross_recall_at_k(&x, &l, &x[..4], &[0, 1], 2, &[3]).is_err());
        assert!(cross_recall_at_k(&x, &l, &x[..4], &[0, 1], 2, &[2]).is_ok());
        assert!(cross_recall_at_k(&x, &l, &x[..4], &[0], 2, &[1]).is_err());
        assert!(alignment(&x, &x[..4], 2).is_err());
        assert!(uniformity(&x[..2], 2).is_err());
        bad[3] = f32::INFINITY;
        assert!(uniformity(&bad, 2).is_err());
    }
}
