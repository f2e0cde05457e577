//! PuzzleMix (Kim, Choo, Song, ICML'20): block masks by graph cut over saliency, then saliency-preserving
//! block transport. Reference: `snu-mllab/PuzzleMix @ e2dbf3a2 : mixup.py` (`mixup_graph`, `graphcut_multi`,
//! `neigh_penalty`, `mask_transport`, `transport_image`), defaults from its `main.py`.
//!
//! The core draws the prior λ ~ Beta(α, α) like any method; the saliency (`sqrt(mean_c (∂L/∂x)²)`, from the
//! model) comes from the trainer, which then calls [`PuzzlemixConfig::mix`] with the plan and one block count
//! for the batch. Per sample i with partner j:
//! 1. unaries: the saliency average-pooled to a `b × b` block grid and normalised to sum 1; the seam terms
//!    from the de-normalised images pooled by `neigh_size` (`neigh_penalty`), scaled by `β/b/16 · γ` and
//!    re-parameterised into unary additions plus one symmetric edge weight, literally as the reference does;
//! 2. labels: alpha-beta swap ([`crate::solvers::swap`]) over `n_labels` levels `t_l = l/(n − 1)` with unary
//!    `(1 − t_l)·u_partner + t_l·u_self + η/b²·prior_l(λ)` and pair cost `(l − l')²/(n − 1)²` times
//!    `pw + β/b/16`; every term is quantised exactly as the reference hands it to `gco` (×`1000·b²`, truncated,
//!    and `gco`'s own float rescaling of the pair table), so the energies are the reference's up to one
//!    common factor; mask = `1 − l/(n − 1)`;
//! 3. transport ([`crate::solvers::transport`]) of image i's blocks under its mask and of j's under `1 − mask`;
//! 4. `x̃ = mask·x_i' + (1 − mask)·x_j'`; the label weight is the realised mask mean, not λ.
//!
//! Differences from the reference, on purpose:
//! - Block counts: the reference draws `2^randint(1, 5)` ∈ {2, 4, 8, 16} and fails when one does not divide
//!   the image side. Here `blocks` lists the counts to draw from uniformly; by default the reference's set,
//!   keeping the counts that divide the side (28×28 Fashion-MNIST: {2, 4}; 8×8 digits: {2, 4, 8}); a count
//!   given explicitly that does not divide the side is refused.
//! - A seam pool (`neigh_size`) that does not divide the block side is lowered to the largest divisor that
//!   does (the reference fails on such shapes).
//! - Transport grids of any side (the reference only has cost matrices for 2, 4, 8, 16) and any channel
//!   count (its `transport_image` hard-codes 3).
//! - An all-zero saliency map gives uniform unaries (the reference divides by zero).
//! - Unaries are not pushed through int32 a second time: at 16 blocks the reference's `gco` call multiplies
//!   the already scaled unaries by 1e5 and overflows int32 for a block holding more than ~8 % of an image's
//!   saliency; the energies here are exact 64-bit integers.
//! - λ is the plan's per-sample λ (one λ per batch when the mixer draws per batch, as the reference does).
//! - Negative edge weights (only possible for inputs outside the de-normalised [0, 1] range) are clamped to 0,
//!   which the swap needs.

use super::{Draw, DrawCtx, MixMethod, check_alpha, check_range, sample_beta};
use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::solvers::swap::{GridEnergy, alpha_beta_swap};
use crate::solvers::transport::{cost_matrix, mask_transport, transport_image};
use crate::weight::SampleWeight;
use rand::{Rng, RngExt};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The reference's block counts.
const REFERENCE_BLOCKS: [usize; 4] = [2, 4, 8, 16];

/// PuzzleMix's hyper-parameters (defaults: the official `main.py` argparse with the README's α = 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PuzzlemixConfig {
    /// Beta concentration of the prior λ (default 1.0).
    pub alpha: f64,
    /// Mask levels: 2 gives {0, 1}, 3 gives {0, ½, 1} (default 3), 4 gives quarters.
    pub n_labels: usize,
    /// Label smoothness β (default 1.2).
    pub beta: f64,
    /// Seam (data smoothness) weight γ (default 0.5).
    pub gamma: f64,
    /// Prior weight η (default 0.2).
    pub eta: f64,
    /// Pooling side of the seam term (default 4; capped at the block side).
    pub neigh_size: usize,
    /// Whether to transport blocks (default true).
    pub transport: bool,
    /// Transport's distance cost ε (default 0.8).
    pub t_eps: f64,
    /// Transport block side (default `None`: the mask's block grid, the reference's −1; its README CIFAR run
    /// uses 4).
    pub t_size: Option<usize>,
    /// Block counts per side to draw from (default `None`: the reference's {2, 4, 8, 16} that divide the side).
    pub blocks: Option<Vec<usize>>,
}

impl Default for PuzzlemixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            n_labels: 3,
            beta: 1.2,
            gamma: 0.5,
            eta: 0.2,
            neigh_size: 4,
            transport: true,
            t_eps: 0.8,
            t_size: None,
            blocks: None,
        }
    }
}

/// Per channel, how a model input maps back to the raw image: `raw = x·scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Denorm {
    /// Multiplier: the channel's standard deviation under the usual `(raw − mean) / std` normalisation.
    pub scale: f32,
    /// Added after scaling: the channel's mean.
    pub offset: f32,
}

/// The pairing a batch is mixed under: a `MixPlan`'s partner, weight and λ columns (borrowed, so that the
/// method does not depend on the plan type that names every method).
#[derive(Clone, Copy, Debug)]
pub struct Pairs<'a> {
    /// Shape of one sample (2-D, square).
    pub shape: SampleShape,
    /// Partner index of each sample, below the batch size; a sample paired with itself stays unmixed.
    pub partner: &'a [usize],
    /// Samples whose weight is `Keep` stay unmixed.
    pub weights: &'a [SampleWeight],
    /// The prior λ of each sample.
    pub lam: &'a [f32],
}

/// What one PuzzleMix batch gives: the mixed inputs, the masks and the realised mask means (the label
/// weights). With transport on the inputs were moved before masking, so the masks alone do not reproduce
/// `mixed`.
#[derive(Clone, Debug)]
pub struct PuzzleBatch {
    /// The mixed inputs, N × C × H × W like the input.
    pub mixed: Vec<f32>,
    /// Per sample, `Keep` when unmixed, else the upsampled `Mask` (weight of the sample itself).
    pub weights: Vec<SampleWeight>,
    /// Per sample, the realised mask mean: the weight of its own label (1 when unmixed).
    pub lam_label: Vec<f32>,
}

impl PuzzlemixConfig {
    /// The block counts a square image of side `side` can use.
    pub fn block_choices(&self, side: usize) -> Result<Vec<usize>> {
        match &self.blocks {
            Some(b) => {
                if b.is_empty() {
                    return Err(Error::param("blocks", "a non-empty list", "[]"));
                }
                if let Some(&k) = b.iter().find(|&&k| k < 2 || !side.is_multiple_of(k)) {
                    return Err(Error::Incompatible(format!(
                        "puzzlemix blocks: {k} blocks per side do not tile a {side}-pixel side (each count must be \
                         >= 2 and divide it)"
                    )));
                }
                Ok(b.clone())
            }
            None => {
                let b: Vec<usize> = REFERENCE_BLOCKS
                    .into_iter()
                    .filter(|&k| side.is_multiple_of(k))
                    .collect();
                if b.is_empty() {
                    return Err(Error::Incompatible(format!(
                        "puzzlemix: none of the reference's block counts (2, 4, 8, 16) divides a {side}-pixel \
                         side; set blocks"
                    )));
                }
                Ok(b)
            }
        }
    }

    /// One block count for a batch, uniform over [`PuzzlemixConfig::block_choices`].
    pub fn draw_blocks<R: Rng + ?Sized>(&self, side: usize, rng: &mut R) -> Result<usize> {
        let b = self.block_choices(side)?;
        Ok(b[rng.random_range(0..b.len())])
    }

    /// The transport grid (blocks per side, block side) for `blocks` blocks per side of `side` pixels.
    fn transport_grid(&self, side: usize, blocks: usize) -> (usize, usize) {
        let block = side / blocks;
        match self.t_size {
            Some(t) if t < block => (side / t, t),
            _ => (blocks, block),
        }
    }

    /// Mixes a batch under `plan` (partners and prior λ; kept samples stay unmixed) with per-sample saliency
    /// maps (N×H×W), `blocks` blocks per side and, when given, one [`Denorm`] per channel for the seam term.
    pub fn mix(
        &self,
        plan: &Pairs<'_>,
        x: &[f32],
        saliency: &[f32],
        blocks: usize,
        denorm: Option<&[Denorm]>,
    ) -> Result<PuzzleBatch> {
        let shape = plan.shape;
        self.validate(&shape)?;
        let (c, side) = (shape.channels, shape.dims[2]);
        let (n, len, plane) = (plan.partner.len(), shape.sample_len(), side * side);
        if let Some(&j) = plan.partner.iter().find(|&&j| j >= n) {
            return Err(Error::param("partner index", "below the batch size", j));
        }
        for (what, expected, got) in [
            ("puzzlemix sample weights", n, plan.weights.len()),
            ("puzzlemix prior λ", n, plan.lam.len()),
            ("puzzlemix inputs", n * len, x.len()),
            ("puzzlemix saliency maps", n * plane, saliency.len()),
            (
                "puzzlemix de-normalisation (one per channel)",
                c,
                denorm.map_or(c, <[_]>::len),
            ),
        ] {
            if expected != got {
                return Err(Error::SizeMismatch {
                    what,
                    expected,
                    got,
                });
            }
        }
        if !self.block_choices(side)?.contains(&blocks) {
            return Err(Error::param(
                "puzzlemix block count",
                "one of the configured block counts",
                blocks,
            ));
        }
        let block = side / blocks;
        let neigh = seam_pool(self.neigh_size, block);
        let (t_blocks, t_side) = self.transport_grid(side, blocks);
        let unary: Vec<Vec<f32>> = saliency
            .chunks_exact(plane)
            .map(|s| normalised_pool(s, side, block))
            .collect();
        let t_unary: Vec<Vec<f32>> = if t_blocks == blocks {
            unary.clone()
        } else {
            saliency
                .chunks_exact(plane)
                .map(|s| normalised_pool(s, side, t_side))
                .collect()
        };
        let pooled: Vec<Vec<f32>> = x
            .chunks_exact(len)
            .map(|xi| {
                let raw: Vec<f32> = match denorm {
                    Some(d) => xi
                        .chunks_exact(plane)
                        .zip(d)
                        .flat_map(|(p, d)| p.iter().map(move |&v| v * d.scale + d.offset))
                        .collect(),
                    None => xi.to_vec(),
                };
                (0..c)
                    .flat_map(|ch| avg_pool(&raw[ch * plane..(ch + 1) * plane], side, neigh))
                    .collect()
            })
            .collect();
        let costs = cost_matrix(t_blocks.max(2));
        let geo = Geometry {
            channels: c,
            side,
            blocks,
            k: block / neigh,
            t_blocks,
            t_side,
        };
        let per_sample: Vec<Result<(Vec<f32>, SampleWeight, f32)>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let j = plan.partner[i];
                let xi = &x[i * len..(i + 1) * len];
                if j == i || matches!(plan.weights[i], SampleWeight::Keep) {
                    return Ok((xi.to_vec(), SampleWeight::Keep, 1.0));
                }
                let pair = Pair {
                    u_self: &unary[i],
                    u_partner: &unary[j],
                    p_self: &pooled[i],
                    p_partner: &pooled[j],
                };
                let mask = self.block_mask(&geo, &pair, f64::from(plan.lam[i]))?;
                self.mix_pair(
                    &geo,
                    &mask,
                    (xi, &x[j * len..(j + 1) * len]),
                    (&t_unary[i], &t_unary[j]),
                    &costs,
                )
            })
            .collect();
        let mut out = PuzzleBatch {
            mixed: Vec::with_capacity(x.len()),
            weights: Vec::with_capacity(n),
            lam_label: Vec::with_capacity(n),
        };
        for r in per_sample {
            let (xi, w, ratio) = r?;
            out.mixed.extend_from_slice(&xi);
            out.weights.push(w);
            out.lam_label.push(ratio);
        }
        Ok(out)
    }

    /// The `blocks × blocks` mask (self weight per block) of one pair: unaries, seam terms, swap.
    fn block_mask(&self, g: &Geometry, p: &Pair<'_>, lam: f64) -> Result<Vec<f32>> {
        let b = g.blocks;
        // β is normalised in f64 and meets the f32 terms as an f32, as in the reference.
        let beta_n = self.beta / b as f64 / 16.0;
        let scale = (beta_n * self.gamma) as f32;
        let k = g.k;
        let pooled_side = b * k;
        // pw[a][c]: top/left block from source a, bottom/right from c; 0 = partner, 1 = self.
        let srcs = [p.p_partner, p.p_self];
        let mut pw_x = [[vec![], vec![]], [vec![], vec![]]];
        let mut pw_y = [[vec![], vec![]], [vec![], vec![]]];
        for a in 0..2 {
            for cc in 0..2 {
                let (vx, vy) = neigh_penalty(srcs[a], srcs[cc], g.channels, pooled_side, k);
                pw_x[a][cc] = vx.into_iter().map(|v| scale * v).collect();
                pw_y[a][cc] = vy.into_iter().map(|v| scale * v).collect();
            }
        }
        let mut u_self = p.u_self.to_vec();
        let mut u_partner = p.u_partner.to_vec();
        // The reference adds its terms array-wise: to every top node, then every bottom node, then left,
        // then right. f32 sums depend on that order, so it is kept. Vertical edges join (r, col) and
        // (r + 1, col), index r·b + col; horizontal ones (r, col) and (r, col + 1), index r·(b − 1) + col.
        let vertical_edges = || (0..(b - 1) * b).map(move |e| (e, e, e + b));
        let horizontal_edges = || {
            (0..b * (b - 1)).map(move |e| {
                (
                    e,
                    e / (b - 1) * b + e % (b - 1),
                    e / (b - 1) * b + e % (b - 1) + 1,
                )
            })
        };
        for (pw, edges) in [
            (&pw_x, vertical_edges().collect::<Vec<_>>()),
            (&pw_y, horizontal_edges().collect()),
        ] {
            for &(e, first, _) in &edges {
                u_partner[first] += (pw[1][0][e] + pw[1][1][e]) / 2.0;
                u_self[first] += (pw[0][1][e] + pw[0][0][e]) / 2.0;
            }
            for &(e, _, second) in &edges {
                u_partner[second] += (pw[0][1][e] + pw[1][1][e]) / 2.0;
                u_self[second] += (pw[1][0][e] + pw[0][0][e]) / 2.0;
            }
        }
        let edge = |pw: &[[Vec<f32>; 2]; 2], e: usize| {
            (pw[1][0][e] + pw[0][1][e] - pw[1][1][e] - pw[0][0][e]) / 2.0
        };
        let vertical: Vec<f32> = (0..(b - 1) * b).map(|e| edge(&pw_x, e)).collect();
        let horizontal: Vec<f32> = (0..b * (b - 1)).map(|e| edge(&pw_y, e)).collect();
        graphcut_mask(
            &GraphcutTerms {
                u_partner: &u_partner,
                u_self: &u_self,
                vertical: &vertical,
                horizontal: &horizontal,
            },
            b,
            lam,
            beta_n,
            self.eta,
            self.n_labels,
        )
    }

    /// Transport (when on), masking and the realised self weight of one pair.
    fn mix_pair(
        &self,
        g: &Geometry,
        block_mask: &[f32],
        (xi, xj): (&[f32], &[f32]),
        (si, sj): (&[f32], &[f32]),
        costs: &[f32],
    ) -> Result<(Vec<f32>, SampleWeight, f32)> {
        let (side, c) = (g.side, g.channels);
        let tb = g.t_blocks;
        // Nearest resize of the block mask to the transport grid (an integer repeat: tb is a multiple of b).
        let t_mask: Vec<f32> = (0..tb * tb)
            .map(|q| block_mask[(q / tb * g.blocks / tb) * g.blocks + (q % tb) * g.blocks / tb])
            .collect();
        let (xi, xj) = if self.transport {
            let eps = self.t_eps as f32;
            let inv: Vec<f32> = t_mask.iter().map(|m| 1.0 - m).collect();
            let plan_i = mask_transport(&t_mask, si, tb, eps, costs)?;
            let plan_j = mask_transport(&inv, sj, tb, eps, costs)?;
            (
                transport_image(xi, c, tb, g.t_side, &plan_i),
                transport_image(xj, c, tb, g.t_side, &plan_j),
            )
        } else {
            (xi.to_vec(), xj.to_vec())
        };
        let plane = side * side;
        let mask: Vec<f32> = (0..plane)
            .map(|q| t_mask[(q / side * tb / side) * tb + (q % side) * tb / side])
            .collect();
        let mut out = vec![0f32; xi.len()];
        for ((o, a), b) in out
            .chunks_exact_mut(plane)
            .zip(xi.chunks_exact(plane))
            .zip(xj.chunks_exact(plane))
        {
            for (((o, &a), &b), &m) in o.iter_mut().zip(a).zip(b).zip(&mask) {
                *o = m * a + (1.0 - m) * b;
            }
        }
        let ratio = mask.iter().sum::<f32>() / plane as f32;
        Ok((
            out,
            SampleWeight::Mask {
                mask: Arc::from(mask),
            },
            ratio,
        ))
    }
}

/// The re-parameterised terms of one pair on a `b × b` block grid (the arguments of the reference's
/// `graphcut_multi`, partner first).
#[derive(Clone, Copy, Debug)]
pub struct GraphcutTerms<'a> {
    /// The cost of giving each block to the sample itself (the partner's saliency it loses, plus seams).
    pub u_partner: &'a [f32],
    /// The cost of giving each block to the partner.
    pub u_self: &'a [f32],
    /// Symmetric seam weights of the `(b − 1) × b` vertical edges, before the smoothness `β_n` is added.
    pub vertical: &'a [f32],
    /// The same for the `b × (b − 1)` horizontal edges.
    pub horizontal: &'a [f32],
}

/// `graphcut_multi`: the block mask (self weight per block, row-major) for prior λ, normalised smoothness
/// `beta_n` (= β/b/16), prior weight η and `n_labels` levels, by alpha-beta swap on the reference's quantised
/// energies.
pub fn graphcut_mask(
    t: &GraphcutTerms<'_>,
    b: usize,
    lam: f64,
    beta_n: f64,
    eta: f64,
    n_labels: usize,
) -> Result<Vec<f32>> {
    let n = n_labels;
    if !(2..=4).contains(&n) {
        return Err(Error::param("n_labels", "2, 3 or 4", n));
    }
    for (what, expected, got) in [
        ("graph-cut unaries (self)", b * b, t.u_self.len()),
        ("graph-cut unaries (partner)", b * b, t.u_partner.len()),
        ("graph-cut vertical weights", (b - 1) * b, t.vertical.len()),
        (
            "graph-cut horizontal weights",
            b * (b - 1),
            t.horizontal.len(),
        ),
    ] {
        if expected != got {
            return Err(Error::SizeMismatch {
                what,
                expected,
                got,
            });
        }
    }
    let large = (1000 * b * b) as f64;
    let (large32, beta32) = (large as f32, beta_n as f32);
    let weight = |v: &f32| -> i64 { ((large32 * (v + beta32)) as i64).max(0) };
    let vertical: Vec<i64> = t.vertical.iter().map(weight).collect();
    let horizontal: Vec<i64> = t.horizontal.iter().map(weight).collect();
    let prior = prior(n, lam);
    // The reference's `gco` call rescales unaries by 1e5 and the f32 pair table by 1e2 (edge weights by 1e3):
    // unary·100 against w·trunc(100·V) reproduces its energies up to one common factor 1000.
    let mut unary = Vec::with_capacity(b * b * n);
    for q in 0..b * b {
        for (l, &pl) in prior.iter().enumerate() {
            let tl = l as f64 / (n - 1) as f64;
            let v = (1.0 - tl) * f64::from(t.u_partner[q])
                + tl * f64::from(t.u_self[q])
                + eta * pl / (b * b) as f64;
            unary.push(i64::from((large * v) as i32) * 100);
        }
    }
    let smooth: Vec<i64> = (0..n * n)
        .map(|k| {
            let d = (k / n).abs_diff(k % n) as f32;
            ((d * d / ((n - 1) * (n - 1)) as f32) * 100.0) as i64
        })
        .collect();
    let labels = alpha_beta_swap(&GridEnergy {
        rows: b,
        cols: b,
        labels: n,
        unary: &unary,
        smooth: &smooth,
        vertical: &vertical,
        horizontal: &horizontal,
    })?;
    Ok(labels
        .into_iter()
        .map(|l| (1.0 - l as f64 / (n - 1) as f64) as f32)
        .collect())
}

struct Geometry {
    channels: usize,
    side: usize,
    blocks: usize,
    /// Seam pools per block side.
    k: usize,
    t_blocks: usize,
    t_side: usize,
}

struct Pair<'a> {
    u_self: &'a [f32],
    u_partner: &'a [f32],
    p_self: &'a [f32],
    p_partner: &'a [f32],
}

/// The seam term's pool side: `neigh_size` capped at the block side, as the reference does, and lowered to
/// the largest divisor of the block side when it does not divide it (the reference fails there; 28-pixel
/// images with 2 blocks pool by 2, with 4 blocks of 7 pixels by 1).
fn seam_pool(neigh_size: usize, block: usize) -> usize {
    let cap = neigh_size.min(block);
    (1..=cap)
        .rev()
        .find(|d| block.is_multiple_of(*d))
        .unwrap_or(1)
}

/// `graphcut_multi`'s prior over label levels for the self weight λ.
fn prior(n: usize, lam: f64) -> Vec<f64> {
    let eps = 1e-8;
    let (a, b) = (lam, 1.0 - lam);
    let p: Vec<f64> = match n {
        2 => vec![a, b],
        // `alpha**2` etc. as the reference writes them (pow, not repeated products).
        3 => vec![a.powf(2.0), 2.0 * a * b, b.powf(2.0)],
        _ => vec![
            a.powf(3.0),
            3.0 * a.powf(2.0) * b,
            3.0 * a * b.powf(2.0),
            b.powf(3.0),
        ],
    };
    p.into_iter().map(|v| -(v + eps).ln()).collect()
}

/// Average pooling of a `side × side` plane by `k × k` windows (`side % k == 0`).
fn avg_pool(x: &[f32], side: usize, k: usize) -> Vec<f32> {
    let m = side / k;
    let area = (k * k) as f32;
    (0..m * m)
        .map(|q| {
            let (r, c) = (q / m * k, q % m * k);
            let mut s = 0f32;
            for y in r..r + k {
                for v in &x[y * side + c..y * side + c + k] {
                    s += v;
                }
            }
            s / area
        })
        .collect()
}

/// A saliency plane pooled to blocks of side `k` and normalised to sum 1 (uniform when it sums to 0).
fn normalised_pool(s: &[f32], side: usize, k: usize) -> Vec<f32> {
    let mut p = avg_pool(s, side, k);
    let total: f32 = p.iter().sum();
    if total > 0.0 && total.is_finite() {
        p.iter_mut().for_each(|v| *v /= total);
    } else {
        let u = 1.0 / p.len() as f32;
        p.iter_mut().for_each(|v| *v = u);
    }
    p
}

/// `neigh_penalty(a, c, k)` on C×P×P pools (P = b·k): the channel-mean absolute difference across every
/// block boundary, averaged over the k pools along it. Returns (vertical (b − 1)×b, horizontal b×(b − 1)).
fn neigh_penalty(
    a: &[f32],
    c: &[f32],
    channels: usize,
    p: usize,
    k: usize,
) -> (Vec<f32>, Vec<f32>) {
    let b = p / k;
    let at = |src: &[f32], ch: usize, r: usize, col: usize| src[ch * p * p + r * p + col];
    let chan_mean = |f: &dyn Fn(usize) -> f32| {
        let mut s = 0f32;
        for ch in 0..channels {
            s += f(ch);
        }
        s / channels as f32
    };
    let mut vx = Vec::with_capacity((b - 1) * b);
    for r in 0..b - 1 {
        let row = k - 1 + r * k;
        for bc in 0..b {
            let mut s = 0f32;
            for col in bc * k..(bc + 1) * k {
                s += chan_mean(&|ch| (at(a, ch, row, col) - at(c, ch, row + 1, col)).abs());
            }
            vx.push(s / k as f32);
        }
    }
    let mut vy = Vec::with_capacity(b * (b - 1));
    for br in 0..b {
        for cb in 0..b - 1 {
            let col = k - 1 + cb * k;
            let mut s = 0f32;
            for row in br * k..(br + 1) * k {
                s += chan_mean(&|ch| (at(a, ch, row, col) - at(c, ch, row, col + 1)).abs());
            }
            vy.push(s / k as f32);
        }
    }
    (vx, vy)
}

impl MixMethod for PuzzlemixConfig {
    const NAME: &'static str = "puzzlemix";

    fn validate(&self, shape: &SampleShape) -> Result<()> {
        if shape.rank != 2 {
            return Err(Error::UnsupportedRank {
                method: Self::NAME,
                rank: shape.rank,
            });
        }
        let (h, w) = (shape.dims[1], shape.dims[2]);
        if h != w {
            return Err(Error::UnsupportedLayout {
                method: Self::NAME,
                shape: shape.to_string(),
                why: "it needs square images (its block grid is b × b, as in the reference)",
            });
        }
        check_alpha("alpha", self.alpha)?;
        if !(2..=4).contains(&self.n_labels) {
            return Err(Error::param("n_labels", "2, 3 or 4", self.n_labels));
        }
        for (name, v) in [
            ("beta", self.beta),
            ("gamma", self.gamma),
            ("eta", self.eta),
            ("t_eps", self.t_eps),
        ] {
            check_range(name, v, 0.0, f64::MAX, "a finite number >= 0")?;
        }
        if self.neigh_size == 0 {
            return Err(Error::param("neigh_size", ">= 1", 0));
        }
        if self.t_size == Some(0) {
            return Err(Error::param("t_size", ">= 1", 0));
        }
        for b in self.block_choices(w)? {
            let block = w / b;
            if let Some(t) = self.t_size
                && t < block
                && !block.is_multiple_of(t)
            {
                return Err(Error::Incompatible(format!(
                    "puzzlemix: t_size {t} does not divide the {block}-pixel blocks of a {b}-block grid"
                )));
            }
        }
        Ok(())
    }

    /// The prior λ ~ Beta(α, α); the mask comes later, from [`PuzzlemixConfig::mix`].
    fn draw<R: Rng + ?Sized>(&self, _ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        let lam = sample_beta(self.alpha, self.alpha, rng)? as f32;
        Ok(Draw {
            weight: SampleWeight::Blend { lam },
            lam_label: lam,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Owned {
        shape: SampleShape,
        partner: Vec<usize>,
        weights: Vec<SampleWeight>,
        lam: Vec<f32>,
    }

    impl Owned {
        fn pairs(&self) -> Pairs<'_> {
            Pairs {
                shape: self.shape,
                partner: &self.partner,
                weights: &self.weights,
                lam: &self.lam,
            }
        }
    }

    fn plan(n: usize, shape: SampleShape, lam: f32) -> Owned {
        Owned {
            shape,
            partner: (0..n).map(|i| (i + 1) % n).collect(),
            weights: vec![SampleWeight::Blend { lam }; n],
            lam: vec![lam; n],
        }
    }

    #[test]
    fn block_counts_follow_the_image_side() {
        let c = PuzzlemixConfig::default();
        assert_eq!(c.block_choices(28).unwrap(), [2, 4]);
        assert_eq!(c.block_choices(8).unwrap(), [2, 4, 8]);
        assert_eq!(c.block_choices(32).unwrap(), [2, 4, 8, 16]);
        assert!(
            c.block_choices(9)
                .unwrap_err()
                .to_string()
                .contains("set blocks")
        );
        let seven = PuzzlemixConfig {
            blocks: Some(vec![7, 8]),
            ..Default::default()
        };
        let e = seven
            .validate(&SampleShape::d2(1, 28, 28).unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("8 blocks per side do not tile a 28-pixel side"),
            "{e}"
        );
    }

    #[test]
    fn bad_hyper_parameters_and_layouts_are_refused() {
        let sq = SampleShape::d2(3, 16, 16).unwrap();
        for (c, needle) in [
            (
                PuzzlemixConfig {
                    alpha: -1.0,
                    ..Default::default()
                },
                "alpha",
            ),
            (
                PuzzlemixConfig {
                    n_labels: 5,
                    ..Default::default()
                },
                "n_labels",
            ),
            (
                PuzzlemixConfig {
                    beta: f64::NAN,
                    ..Default::default()
                },
                "beta",
            ),
            (
                PuzzlemixConfig {
                    t_size: Some(3),
                    ..Default::default()
                },
                "t_size 3",
            ),
        ] {
            let e = c.validate(&sq).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
        let d = PuzzlemixConfig::default();
        assert!(
            d.validate(&SampleShape::d2(1, 16, 8).unwrap())
                .unwrap_err()
                .to_string()
                .contains("square")
        );
        assert!(d.validate(&SampleShape::d1(1, 16).unwrap()).is_err());
    }

    #[test]
    fn masks_have_the_label_levels_and_the_label_weight_is_their_mean() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(2);
        let shape = SampleShape::d2(1, 28, 28).unwrap();
        let n = 4;
        let x: Vec<f32> = (0..n * 784).map(|_| rng.random()).collect();
        let s: Vec<f32> = (0..n * 784).map(|_| rng.random::<f32>().powi(4)).collect();
        let c = PuzzlemixConfig::default();
        let mut means = Vec::new();
        for lam in [0.1f32, 0.5, 0.9] {
            let out = c
                .mix(&plan(n, shape, lam).pairs(), &x, &s, 4, None)
                .unwrap();
            for (w, &r) in out.weights.iter().zip(&out.lam_label) {
                let SampleWeight::Mask { mask } = w else {
                    panic!("a mask")
                };
                assert!(mask.iter().all(|&m| m == 0.0 || m == 0.5 || m == 1.0));
                assert_eq!(r, mask.iter().sum::<f32>() / 784.0);
            }
            means.push(out.lam_label.iter().sum::<f32>());
        }
        // A larger prior λ never gives the sample itself less of the image (on this batch).
        assert!(means.windows(2).all(|p| p[0] <= p[1]), "{means:?}");
        // One channel works, and kept samples pass through.
        let mut p = plan(n, shape, 0.5);
        p.weights[1] = SampleWeight::Keep;
        let out = c.mix(&p.pairs(), &x, &s, 2, None).unwrap();
        assert_eq!(&out.mixed[784..1568], &x[784..1568]);
        assert_eq!(out.lam_label[1], 1.0);
        let e = c
            .mix(&p.pairs(), &x[1..], &s, 2, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("puzzlemix inputs"), "{e}");
        assert!(c.mix(&p.pairs(), &x, &s, 8, None).is_err());
    }
}
