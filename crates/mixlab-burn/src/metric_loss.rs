//! Metric-learning losses for embedding-level mixup: Metrix (Venkataramanan et al., ICLR'22) with its
//! contrastive and multi-similarity baselines and their mixed terms, and DNABERT-S's stage-I hard
//! contrastive loss with its MI-Mix (i-Mix on hidden states) counterpart.
//!
//! Everything is a batch of tensor ops, differentiable end to end. Masks that depend only on labels or
//! indices are built on the host; the multi-similarity miner works on detached device similarities.
//! Sums of exponentials are evaluated as log-sum-exp with the row maximum taken out, so the large
//! scales these losses use (β ≈ 76, 1/τ = 20) never overflow f32.

use burn::prelude::*;
use burn::tensor::activation::relu;

/// Multi-similarity hyper-parameters (Wang et al., CVPR'19): `alpha` scales positives, `beta`
/// negatives, `base` is the similarity offset λ of the paper, `epsilon` the miner's margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MsParams {
    /// Scale α of the positive term, `(1/α)·log(1 + Σ_pos e^{−α(s − base)})`.
    pub alpha: f64,
    /// Scale β of the negative term, `(1/β)·log(1 + Σ_neg e^{β(s − base)})`.
    pub beta: f64,
    /// Similarity offset λ that both terms are centred on.
    pub base: f64,
    /// Mining margin ε: a positive is kept when `s − ε` is below its row's hardest negative, a negative
    /// when `s + ε` is above its row's hardest positive.
    pub epsilon: f64,
}

impl MsParams {
    /// Metrix's tuned values (its main.py): α 17.97, β 75.66, base 0.77, ε 0.39.
    pub const METRIX: MsParams = MsParams {
        alpha: 17.97,
        beta: 75.66,
        base: 0.77,
        epsilon: 0.39,
    };
    /// The multi-similarity paper's values: α 2, β 50, base 0.5, ε 0.1.
    pub const PAPER: MsParams = MsParams {
        alpha: 2.0,
        beta: 50.0,
        base: 0.5,
        epsilon: 0.1,
    };
}

/// A masked entry's value: far enough below any kept one that its exp is exactly 0 in f32, finite so
/// no inf − inf can appear in the forward or backward pass.
const MASKED: f32 = -1e30;
/// Squared distances at or below this count as 0 (sqrt has no finite gradient at 0).
const TINY_SQ: f64 = 1e-12;

fn bool2(v: Vec<bool>, shape: [usize; 2], dev: &Device) -> Tensor<2, Bool> {
    Tensor::from_data(TensorData::new(v, shape), dev)
}

fn float2(v: Vec<f32>, shape: [usize; 2], dev: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, shape), dev)
}

fn index1(v: &[usize], dev: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = v.iter().map(|&i| i as i64).collect();
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), dev)
}

/// Rows scaled to unit length (norm floored at 1e-12, as `F.normalize`).
fn normalize_rows(x: Tensor<2>) -> Tensor<2> {
    // Clamped before the square root, so a zero row gets a zero (not NaN) gradient.
    let norm = x.clone().square().sum_dim(1).clamp_min(1e-24).sqrt();
    x / norm
}

/// `sqrt` of squared distances, exactly 0 (with zero gradient) where the square is (numerically) 0.
fn sqrt_dist<const D: usize>(sq: Tensor<D>) -> Tensor<D> {
    let zero = sq.clone().lower_equal_elem(TINY_SQ);
    sq.clamp_min(TINY_SQ).sqrt().mask_fill(zero, 0.0)
}

/// pytorch-metric-learning's `AvgNonZeroReducer`: the mean of the entries > 0, or 0 if there are none.
/// The count is a constant for autodiff, as in the reference.
fn avg_nonzero<const D: usize>(losses: Tensor<D>) -> Tensor<1> {
    let count = losses
        .clone()
        .greater_elem(0.0)
        .float()
        .sum()
        .clamp_min(1.0);
    losses.sum() / count
}

/// `log(1 + Σ_{kept j} e^{x_ij})` per row ([R, 1]); a row with nothing kept gives exactly 0. The shift
/// max(0, max kept) is detached: the value and the gradient do not depend on it.
fn log1p_sum_exp(x: Tensor<2>, keep: Tensor<2, Bool>) -> Tensor<2> {
    let x = x.mask_fill(keep.bool_not(), MASKED);
    let shift = x.clone().detach().max_dim(1).clamp_min(0.0);
    let sum = (x - shift.clone()).exp().sum_dim(1) + shift.clone().neg().exp();
    sum.log() + shift
}

/// `log Σ_{kept j} e^{x_ij}` per row ([R, 1]); every row must keep at least one entry.
fn log_sum_exp(x: Tensor<2>, keep: Tensor<2, Bool>) -> Tensor<2> {
    let x = x.mask_fill(keep.bool_not(), MASKED);
    let shift = x.clone().detach().max_dim(1);
    (x - shift.clone()).exp().sum_dim(1).log() + shift
}

/// `log(e^x + e^y)` elementwise.
fn log_add_exp(x: Tensor<2>, y: Tensor<2>) -> Tensor<2> {
    let m = x.clone().detach().max_pair(y.clone().detach());
    ((x - m.clone()).exp() + (y - m.clone()).exp()).log() + m
}

/// Same-label and different-label masks over ordered pairs i ≠ j (`lmu.get_all_pairs_indices`).
fn pair_masks(labels: &[usize]) -> (Vec<bool>, Vec<bool>) {
    let b = labels.len();
    let mut pos = vec![false; b * b];
    let mut neg = vec![false; b * b];
    for (i, &yi) in labels.iter().enumerate() {
        for (j, &yj) in labels.iter().enumerate() {
            if i != j {
                if yi == yj {
                    pos[i * b + j] = true;
                } else {
                    neg[i * b + j] = true;
                }
            }
        }
    }
    (pos, neg)
}

/// Contrastive loss as Metrix's `baseline_contrastive` (pytorch-metric-learning's `ContrastiveLoss`
/// with pos_margin 0, `LpDistance`, `AvgNonZeroReducer`): Euclidean distances d_ij between the
/// (re-normalised) rows over all ordered pairs i ≠ j; positives relu(d), negatives relu(neg_margin − d);
/// each averaged over its entries > 0 (0 if none) and the two summed.
///
/// `labels.len()` must equal the number of rows.
pub fn contrastive(emb: Tensor<2>, labels: &[usize], neg_margin: f64) -> Tensor<1> {
    let b = emb.dims()[0];
    debug_assert_eq!(labels.len(), b, "one label per embedding row");
    let dev = emb.device();
    let e = normalize_rows(emb);
    let sq = e.clone().square().sum_dim(1);
    let gram = e.clone().matmul(e.transpose());
    let d2 = (sq.clone() + sq.transpose() - gram.mul_scalar(2.0)).clamp_min(0.0);
    let d = sqrt_dist(d2);
    let (pos, neg) = pair_masks(labels);
    let pos = bool2(pos, [b, b], &dev).bool_not();
    let neg = bool2(neg, [b, b], &dev).bool_not();
    let pos_loss = relu(d.clone()).mask_fill(pos, 0.0);
    let neg_loss = relu(d.neg().add_scalar(neg_margin)).mask_fill(neg, 0.0);
    avg_nonzero(pos_loss) + avg_nonzero(neg_loss)
}

/// Metrix's mixed contrastive term (`loss_posneg_mixup` with one λ per row): mixed row r is
/// λ_r·(a positive) + (1 − λ_r)·(a negative) of anchor row r; both rows are normalised here (Metrix's
/// `LpDistance` does so, and an embedding mix is not unit length); d_r = ‖anchor_r − mixed_r‖;
/// λ_r·relu(d_r) averaged over entries > 0 plus (1 − λ_r)·relu(neg_margin − d_r) averaged over entries > 0.
///
/// `anchor` and `mixed` must have the same shape and `lam` one entry per row.
pub fn metrix_contrastive_mixed(
    anchor: Tensor<2>,
    mixed: Tensor<2>,
    lam: &[f32],
    neg_margin: f64,
) -> Tensor<1> {
    let r = anchor.dims()[0];
    debug_assert_eq!(anchor.dims(), mixed.dims(), "anchor and mixed rows pair up");
    debug_assert_eq!(lam.len(), r, "one lambda per mixed row");
    let dev = anchor.device();
    let diff = normalize_rows(anchor) - normalize_rows(mixed);
    let d = sqrt_dist(diff.square().sum_dim(1));
    let w = float2(lam.to_vec(), [r, 1], &dev);
    let w1 = w.clone().neg().add_scalar(1.0);
    let pos = w * relu(d.clone());
    let neg = w1 * relu(d.neg().add_scalar(neg_margin));
    avg_nonzero(pos) + avg_nonzero(neg)
}

/// Multi-similarity loss on the pairs kept by pytorch-metric-learning's `MultiSimilarityMiner`, as
/// Metrix's `baseline_multisimilarity`. With s the cosine similarities of the (re-normalised) rows, a
/// positive pair (i, j) is kept when s_ij − ε < max_{neg k} s_ik, a negative when s_ij + ε > min_{pos k} s_ik
/// (nothing is kept for an anchor lacking either side). Per anchor
/// (1/α)·log(1 + Σ_pos e^{−α(s−base)}) + (1/β)·log(1 + Σ_neg e^{β(s−base)}), mean over ALL anchors.
///
/// Unlike pytorch-metric-learning's own `MultiSimilarityLoss`, a batch whose miner keeps a single pair on
/// each side is not zeroed (the library returns 0 when every index list has length ≤ 1; Metrix does not).
pub fn multi_similarity(emb: Tensor<2>, labels: &[usize], p: MsParams) -> Tensor<1> {
    let b = emb.dims()[0];
    debug_assert_eq!(labels.len(), b, "one label per embedding row");
    let dev = emb.device();
    let e = normalize_rows(emb);
    let s = e.clone().matmul(e.transpose());
    let (pos, neg) = pair_masks(labels);
    let pos = bool2(pos, [b, b], &dev);
    let neg = bool2(neg, [b, b], &dev);
    // The miner only selects indices: no gradient flows through it.
    let sd = s.clone().detach();
    let hardest_neg = sd
        .clone()
        .mask_fill(neg.clone().bool_not(), MASKED)
        .max_dim(1)
        .expand([b, b]);
    let hardest_pos = sd
        .clone()
        .mask_fill(pos.clone().bool_not(), -MASKED)
        .min_dim(1)
        .expand([b, b]);
    let keep_pos = pos.bool_and(sd.clone().sub_scalar(p.epsilon).lower(hardest_neg));
    let keep_neg = neg.bool_and(sd.add_scalar(p.epsilon).greater(hardest_pos));
    let centred = s.sub_scalar(p.base);
    let pos_term = log1p_sum_exp(centred.clone().mul_scalar(-p.alpha), keep_pos);
    let neg_term = log1p_sum_exp(centred.mul_scalar(p.beta), keep_neg);
    (pos_term.div_scalar(p.alpha) + neg_term.div_scalar(p.beta))
        .mean()
        .reshape([1])
}

/// Metrix's mixed multi-similarity term in the paper's form (the released `multisimilarity_*_loss`
/// instead add 0.4-weighted mixed sums to λ-scaled clean sums inside one log and write the mixed
/// negatives' weights into the clean mask): mixed row m belongs to anchor row `owner[m]`; s_m is the
/// cosine similarity of that anchor and the (normalised) mixed row;
/// per anchor a owning at least one mix
/// (1/α)·log(1 + Σ_{m∈U(a)} λ_m e^{−α(s_m−base)}) + (1/β)·log(1 + Σ_{m∈U(a)} (1−λ_m) e^{β(s_m−base)}),
/// the mean over anchors that own mixes (0 when there are no mixes). No mining on mixes.
///
/// `owner` and `lam` have one entry per mixed row, each owner below the number of anchor rows.
pub fn metrix_ms_mixed(
    anchors: Tensor<2>,
    mixed: Tensor<2>,
    owner: &[usize],
    lam: &[f32],
    p: MsParams,
) -> Tensor<1> {
    let (a, m) = (anchors.dims()[0], mixed.dims()[0]);
    debug_assert_eq!(owner.len(), m, "one owner per mixed row");
    debug_assert_eq!(lam.len(), m, "one lambda per mixed row");
    debug_assert!(owner.iter().all(|&o| o < a), "owners index anchor rows");
    let dev = anchors.device();
    if m == 0 {
        return Tensor::zeros([1], &dev);
    }
    let sel = normalize_rows(anchors).select(0, index1(owner, &dev));
    let s = (sel * normalize_rows(mixed)).sum_dim(1).reshape([m]);
    // Each owning anchor gets one row of slots holding its mixes (padding points at an extra entry),
    // so the per-anchor sums are plain masked row reductions.
    let mut slots: Vec<Vec<usize>> = vec![Vec::new(); a];
    for (k, &o) in owner.iter().enumerate() {
        slots[o].push(k);
    }
    slots.retain(|v| !v.is_empty());
    let rows = slots.len();
    let width = slots.iter().map(Vec::len).max().unwrap_or(0);
    let mut gather = vec![m; rows * width];
    let (mut log_lam, mut log_lam1) = (vec![0f32; rows * width], vec![0f32; rows * width]);
    let (mut keep_pos, mut keep_neg) = (vec![false; rows * width], vec![false; rows * width]);
    for (r, mixes) in slots.iter().enumerate() {
        for (c, &k) in mixes.iter().enumerate() {
            let at = r * width + c;
            gather[at] = k;
            // A zero weight removes the term (the reference's mask is the weight itself).
            if lam[k] > 0.0 {
                log_lam[at] = lam[k].ln();
                keep_pos[at] = true;
            }
            if lam[k] < 1.0 {
                log_lam1[at] = (1.0 - lam[k]).ln();
                keep_neg[at] = true;
            }
        }
    }
    let s_ext = Tensor::cat(vec![s, Tensor::zeros([1], &dev)], 0);
    let centred = s_ext
        .select(0, index1(&gather, &dev))
        .reshape([rows, width])
        .sub_scalar(p.base);
    let shape = [rows, width];
    let pos = centred.clone().mul_scalar(-p.alpha) + float2(log_lam, shape, &dev);
    let neg = centred.mul_scalar(p.beta) + float2(log_lam1, shape, &dev);
    let pos = log1p_sum_exp(pos, bool2(keep_pos, shape, &dev));
    let neg = log1p_sum_exp(neg, bool2(keep_neg, shape, &dev));
    (pos.div_scalar(p.alpha) + neg.div_scalar(p.beta))
        .mean()
        .reshape([1])
}

/// `log Ng` of DNABERT-S (from HCL): Ng = Σ neg² / mean(neg) = K·Σ e^{2x} / Σ e^{x} over the K kept
/// logits x of each row.
fn log_hard_negatives(logits: Tensor<2>, keep: Tensor<2, Bool>, k: usize) -> Tensor<2> {
    let lse2 = log_sum_exp(logits.clone().mul_scalar(2.0), keep.clone());
    let lse1 = log_sum_exp(logits, keep);
    (lse2 - lse1).add_scalar((k as f64).ln())
}

/// DNABERT-S stage-I `HardConLoss` with every pair similar (as its trainer calls it). f1, f2 (B×D, unit
/// rows) are the two views; over the 2B rows of [f1; f2], the positive logit of row r is
/// p_r = f1_i·f2_i/τ for pair i, the negatives are its other 2B − 2 logits x (itself and its pair
/// excluded), Ng_r = Σ e^{2x} / mean e^{x}; loss = mean_r −log(e^{p_r} / (Ng_r + e^{p_r})).
///
/// Needs B ≥ 2 (with one pair there are no negatives; the reference divides 0 by 0).
pub fn hard_contrastive(f1: Tensor<2>, f2: Tensor<2>, temperature: f64) -> Tensor<1> {
    let b = f1.dims()[0];
    debug_assert_eq!(f1.dims(), f2.dims(), "two views of the same batch");
    debug_assert!(b >= 2, "a contrastive batch needs two pairs");
    let dev = f1.device();
    let pos = (f1.clone() * f2.clone()).sum_dim(1).div_scalar(temperature);
    let pos = Tensor::cat(vec![pos.clone(), pos], 0);
    let f = Tensor::cat(vec![f1, f2], 0);
    let logits = f.clone().matmul(f.transpose()).div_scalar(temperature);
    let n = 2 * b;
    let keep: Vec<bool> = (0..n * n).map(|k| (k / n) % b != (k % n) % b).collect();
    let log_ng = log_hard_negatives(logits, bool2(keep, [n, n], &dev), n - 2);
    let log_ratio = pos.clone() - log_add_exp(log_ng, pos);
    log_ratio.mean().neg().reshape([1])
}

/// DNABERT-S `iMIXConLoss` (MI-Mix): f1 holds the features of view-1 inputs whose hidden states were
/// mixed as λ_i·h_i + (1 − λ_i)·h_{partner[i]}, f2 the unmixed view-2 features (unit rows). With logits
/// x_ij = f1_i·f2_j/τ, p_i = x_ii, p̃_i = x_{i,partner[i]}, negatives the B − 1 off-diagonal logits of row
/// i and Ng_i as in [`hard_contrastive`]:
/// loss = −mean_i [λ_i log(e^{p_i}/(Ng_i + e^{p_i})) + (1 − λ_i) log(e^{p̃_i}/(Ng_i + e^{p_i}))].
///
/// Needs B ≥ 2; `partner` and `lam` have one entry per row, each partner below B.
pub fn imix(
    f1: Tensor<2>,
    f2: Tensor<2>,
    partner: &[usize],
    lam: &[f32],
    temperature: f64,
) -> Tensor<1> {
    let b = f1.dims()[0];
    debug_assert_eq!(f1.dims(), f2.dims(), "two views of the same batch");
    debug_assert!(b >= 2, "a contrastive batch needs two samples");
    debug_assert_eq!(partner.len(), b, "one partner per row");
    debug_assert_eq!(lam.len(), b, "one lambda per row");
    debug_assert!(partner.iter().all(|&j| j < b), "partners index rows");
    let dev = f1.device();
    let pos = (f1.clone() * f2.clone()).sum_dim(1).div_scalar(temperature);
    let pos_rand = (f1.clone() * f2.clone().select(0, index1(partner, &dev)))
        .sum_dim(1)
        .div_scalar(temperature);
    let logits = f1.matmul(f2.transpose()).div_scalar(temperature);
    let keep: Vec<bool> = (0..b * b).map(|k| k / b != k % b).collect();
    let log_ng = log_hard_negatives(logits, bool2(keep, [b, b], &dev), b - 1);
    let log_denom = log_add_exp(log_ng, pos.clone());
    let w = float2(lam.to_vec(), [b, 1], &dev);
    let w1 = w.clone().neg().add_scalar(1.0);
    let per = w * (pos - log_denom.clone()) + w1 * (pos_rand - log_denom);
    per.mean().neg().reshape([1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn floats(v: &Value) -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    }

    fn indices(v: &Value) -> Vec<usize> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    }

    fn rows(v: &Value, dim: usize, dev: &Device) -> Tensor<2> {
        let x = floats(v);
        let n = x.len() / dim;
        Tensor::from_data(TensorData::new(x, [n, dim]), dev)
    }

    fn dim(case: &Value) -> usize {
        case["dim"].as_u64().unwrap() as usize
    }

    fn params(v: &Value) -> MsParams {
        let f = |k: &str| v[k].as_f64().unwrap();
        MsParams {
            alpha: f("alpha"),
            beta: f("beta"),
            base: f("base"),
            epsilon: f("epsilon"),
        }
    }

    fn close(got: f32, want: f64, what: &str) {
        let tol = 2e-5 * want.abs().max(1.0);
        assert!(
            (f64::from(got) - want).abs() <= tol,
            "{what}: got {got}, want {want}"
        );
    }

    fn metrix() -> Value {
        fixture(include_str!("../tests/fixtures/metrix.json"))
    }

    /// Against pytorch-metric-learning's `ContrastiveLoss` / Metrix's `baseline_contrastive`
    /// (tools/golden/metrix.py): a singleton class, no non-zero negatives, all labels distinct.
    #[test]
    fn contrastive_matches_pytorch_metric_learning() {
        let dev = Device::flex();
        let fx = metrix();
        let cases = fx["contrastive"].as_array().unwrap();
        assert_eq!(cases.len(), 6);
        for case in cases {
            let emb = rows(&case["emb"], dim(case), &dev);
            let labels = indices(&case["labels"]);
            let m = case["neg_margin"].as_f64().unwrap();
            let got: f32 = contrastive(emb, &labels, m).into_scalar();
            close(
                got,
                case["loss"].as_f64().unwrap(),
                case["name"].as_str().unwrap(),
            );
        }
    }

    /// Against Metrix's `loss_posneg_mixup` with the library's `AvgNonZeroReducer`: λ from Beta(2, 2),
    /// λ = 0.5, λ at 0.01 / 0.99, a margin no mix falls inside.
    #[test]
    fn contrastive_mixed_matches_metrix() {
        let dev = Device::flex();
        let fx = metrix();
        let cases = fx["contrastive_mixed"].as_array().unwrap();
        assert_eq!(cases.len(), 5);
        for case in cases {
            let d = dim(case);
            let got: f32 = metrix_contrastive_mixed(
                rows(&case["anchor"], d, &dev),
                rows(&case["mixed"], d, &dev),
                &floats(&case["lam"]),
                case["neg_margin"].as_f64().unwrap(),
            )
            .into_scalar();
            close(
                got,
                case["loss"].as_f64().unwrap(),
                case["name"].as_str().unwrap(),
            );
        }
    }

    /// Against Metrix's `baseline_multisimilarity` (real `MultiSimilarityMiner`, `CosineSimilarity`,
    /// `lmu.logsumexp`) with Metrix's tuned and the paper's parameters, singleton classes and a batch
    /// where nothing is mined.
    #[test]
    fn multi_similarity_matches_metrix_baseline() {
        let dev = Device::flex();
        let fx = metrix();
        let cases = fx["multi_similarity"].as_array().unwrap();
        assert_eq!(cases.len(), 8);
        for case in cases {
            let emb = rows(&case["emb"], dim(case), &dev);
            let labels = indices(&case["labels"]);
            let got: f32 = multi_similarity(emb, &labels, params(&case["params"])).into_scalar();
            close(
                got,
                case["loss"].as_f64().unwrap(),
                case["name"].as_str().unwrap(),
            );
        }
    }

    /// Against the paper's mixed MS term computed in float64 (tools/golden/metrix.py): anchors without
    /// mixes, λ = 0.5, λ at 0.005 / 0.995 and exactly 0 / 1.
    #[test]
    fn ms_mixed_matches_paper_formula() {
        let dev = Device::flex();
        let fx = metrix();
        let cases = fx["ms_mixed"].as_array().unwrap();
        assert_eq!(cases.len(), 5);
        for case in cases {
            let d = dim(case);
            let got: f32 = metrix_ms_mixed(
                rows(&case["anchors"], d, &dev),
                rows(&case["mixed"], d, &dev),
                &indices(&case["owner"]),
                &floats(&case["lam"]),
                params(&case["params"]),
            )
            .into_scalar();
            close(
                got,
                case["loss"].as_f64().unwrap(),
                case["name"].as_str().unwrap(),
            );
        }
    }

    /// Against DNABERT-S's `HardConLoss` and `iMIXConLoss` (tools/golden/mimix.py, checked there
    /// against the reference classes): τ 0.05 / 0.1 / 0.5, λ = 0.5, λ at 0.002 / 0.998, self partners.
    #[test]
    fn dnabert_losses_match_reference() {
        let dev = Device::flex();
        let fx = fixture(include_str!("../tests/fixtures/mimix.json"));
        let cases = fx["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 5);
        for case in cases {
            let d = dim(case);
            let name = case["name"].as_str().unwrap();
            let t = case["temperature"].as_f64().unwrap();
            let (f1, f2) = (rows(&case["f1"], d, &dev), rows(&case["f2"], d, &dev));
            let hard: f32 = hard_contrastive(f1.clone(), f2.clone(), t).into_scalar();
            close(hard, case["hard"].as_f64().unwrap(), name);
            let got: f32 =
                imix(f1, f2, &indices(&case["partner"]), &floats(&case["lam"]), t).into_scalar();
            close(got, case["imix"].as_f64().unwrap(), name);
        }
    }

    /// `(loss tensor, inputs)` back-propagated and compared with the fixture's `grad_*` vectors: each
    /// element within 1e-4 of the vector's largest magnitude (at least 1).
    fn check_grads(loss: Tensor<1>, inputs: &[(&Tensor<2>, &Value)], what: &str) {
        let grads = loss.backward();
        for (k, (x, want)) in inputs.iter().enumerate() {
            let got = x
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let want = floats(want);
            assert_eq!(got.len(), want.len(), "{what}: input {k}");
            let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-4 * scale,
                    "{what}: input {k}: {got:?} vs {want:?}"
                );
            }
        }
    }

    /// Gradients against torch autograd through the same reference code paths as the values (the
    /// library's normalisation, distances, miner and reducers; DNABERT-S's formulas in float64).
    #[test]
    fn gradients_match_reference_autograd() {
        let dev = Device::flex().autodiff();
        let fx = metrix();
        for case in fx["contrastive"].as_array().unwrap() {
            let e = rows(&case["emb"], dim(case), &dev).require_grad();
            let m = case["neg_margin"].as_f64().unwrap();
            let loss = contrastive(e.clone(), &indices(&case["labels"]), m);
            check_grads(
                loss,
                &[(&e, &case["grad_emb"])],
                case["name"].as_str().unwrap(),
            );
        }
        for case in fx["contrastive_mixed"].as_array().unwrap() {
            let d = dim(case);
            let a = rows(&case["anchor"], d, &dev).require_grad();
            let x = rows(&case["mixed"], d, &dev).require_grad();
            let m = case["neg_margin"].as_f64().unwrap();
            let loss = metrix_contrastive_mixed(a.clone(), x.clone(), &floats(&case["lam"]), m);
            let inputs = [(&a, &case["grad_anchor"]), (&x, &case["grad_mixed"])];
            check_grads(loss, &inputs, case["name"].as_str().unwrap());
        }
        for case in fx["multi_similarity"].as_array().unwrap() {
            let e = rows(&case["emb"], dim(case), &dev).require_grad();
            let p = params(&case["params"]);
            let loss = multi_similarity(e.clone(), &indices(&case["labels"]), p);
            check_grads(
                loss,
                &[(&e, &case["grad_emb"])],
                case["name"].as_str().unwrap(),
            );
        }
        for case in fx["ms_mixed"].as_array().unwrap() {
            let d = dim(case);
            let a = rows(&case["anchors"], d, &dev).require_grad();
            let x = rows(&case["mixed"], d, &dev).require_grad();
            let (owner, lam) = (indices(&case["owner"]), floats(&case["lam"]));
            let loss = metrix_ms_mixed(a.clone(), x.clone(), &owner, &lam, params(&case["params"]));
            let inputs = [(&a, &case["grad_anchors"]), (&x, &case["grad_mixed"])];
            check_grads(loss, &inputs, case["name"].as_str().unwrap());
        }
        let fx = fixture(include_str!("../tests/fixtures/mimix.json"));
        for case in fx["cases"].as_array().unwrap() {
            let d = dim(case);
            let name = case["name"].as_str().unwrap();
            let t = case["temperature"].as_f64().unwrap();
            let f1 = rows(&case["f1"], d, &dev).require_grad();
            let f2 = rows(&case["f2"], d, &dev).require_grad();
            let loss = hard_contrastive(f1.clone(), f2.clone(), t);
            let inputs = [(&f1, &case["hard_grad_f1"]), (&f2, &case["hard_grad_f2"])];
            check_grads(loss, &inputs, name);
            let (partner, lam) = (indices(&case["partner"]), floats(&case["lam"]));
            let loss = imix(f1.clone(), f2.clone(), &partner, &lam, t);
            let inputs = [(&f1, &case["imix_grad_f1"]), (&f2, &case["imix_grad_f2"])];
            check_grads(loss, &inputs, name);
        }
    }

    /// Hand numbers: two unit rows at 90° (d = √2) of different labels and margin 2 give a negative
    /// loss 2 − √2 and no positives; with one label both pairs are positives with loss √2.
    #[test]
    fn contrastive_hand_numbers() {
        let dev = Device::flex();
        let e = Tensor::<2>::from_data(TensorData::new(vec![1f32, 0.0, 0.0, 3.0], [2, 2]), &dev);
        let neg: f32 = contrastive(e.clone(), &[0, 1], 2.0).into_scalar();
        assert!((neg - (2.0 - 2f32.sqrt())).abs() < 1e-6, "{neg}");
        let pos: f32 = contrastive(e, &[4, 4], 2.0).into_scalar();
        assert!((pos - 2f32.sqrt()).abs() < 1e-6, "{pos}");
    }

    /// Scales far beyond f32's exp range stay finite: β = 500 (e^{500·1.5} overflows naively) and
    /// τ = 0.005 (e^{2/τ} = e^{400}).
    #[test]
    fn large_scales_stay_finite() {
        let dev = Device::flex();
        let fx = metrix();
        let case = &fx["multi_similarity"][0];
        let p = MsParams {
            alpha: 400.0,
            beta: 500.0,
            base: -0.5,
            epsilon: 0.39,
        };
        let emb = rows(&case["emb"], dim(case), &dev);
        let ms: f32 = multi_similarity(emb.clone(), &indices(&case["labels"]), p).into_scalar();
        assert!(ms.is_finite() && ms > 0.0, "{ms}");
        let owner: Vec<usize> = (0..emb.dims()[0]).map(|i| i % 3).collect();
        let lam = vec![0.3f32; owner.len()];
        let mixed: f32 =
            metrix_ms_mixed(emb.clone().slice(0..3), emb.clone(), &owner, &lam, p).into_scalar();
        assert!(mixed.is_finite() && mixed > 0.0, "{mixed}");
        let fx = fixture(include_str!("../tests/fixtures/mimix.json"));
        let c = &fx["cases"][0];
        let (f1, f2) = (rows(&c["f1"], dim(c), &dev), rows(&c["f2"], dim(c), &dev));
        let h: f32 = hard_contrastive(f1.clone(), f2.clone(), 0.005).into_scalar();
        let partner = indices(&c["partner"]);
        let i: f32 = imix(f1, f2, &partner, &floats(&c["lam"]), 0.005).into_scalar();
        assert!(h.is_finite() && i.is_finite(), "{h} {i}");
    }

    /// Every loss back-propagates finite, non-zero gradients to its embeddings, including through the
    /// zero-distance diagonal and the masked entries.
    #[test]
    fn gradients_are_finite() {
        let dev = Device::flex().autodiff();
        let fx = metrix();
        let case = &fx["multi_similarity"][0];
        let d = dim(case);
        let labels = indices(&case["labels"]);
        let emb = rows(&case["emb"], d, &dev).require_grad();
        let n = emb.dims()[0];
        let owner: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let lam: Vec<f32> = (0..n).map(|i| [0.0, 0.5, 1.0, 0.2][i % 4]).collect();
        let partner: Vec<usize> = (0..n).map(|i| (i + 1) % n).collect();
        let losses = [
            contrastive(emb.clone(), &labels, 0.5),
            metrix_contrastive_mixed(emb.clone(), emb.clone().flip([0]), &lam, 0.5),
            multi_similarity(emb.clone(), &labels, MsParams::METRIX),
            metrix_ms_mixed(
                emb.clone().slice(0..3),
                emb.clone(),
                &owner,
                &lam,
                MsParams::PAPER,
            ),
            hard_contrastive(emb.clone(), emb.clone().flip([0]), 0.05),
            imix(emb.clone(), emb.clone().flip([0]), &partner, &lam, 0.05),
        ];
        for (k, loss) in losses.into_iter().enumerate() {
            let grads = loss.backward();
            let g = emb.grad(&grads).unwrap();
            let total: f32 = g.clone().abs().sum().into_scalar();
            let finite = g
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
                .iter()
                .all(|v| v.is_finite());
            assert!(finite && total > 0.0, "loss {k}: {total}");
        }
    }

    /// An empty mix set is 0, and an anchor's loss ignores other anchors' mixes: the mean over anchors
    /// of single-anchor runs equals the joint run.
    #[test]
    fn ms_mixed_is_a_mean_over_owning_anchors() {
        let dev = Device::flex();
        let fx = metrix();
        let case = &fx["ms_mixed"][0];
        let d = dim(case);
        let anchors = rows(&case["anchors"], d, &dev);
        let mixed = rows(&case["mixed"], d, &dev);
        let owner = indices(&case["owner"]);
        let lam = floats(&case["lam"]);
        let p = params(&case["params"]);
        let empty: f32 =
            metrix_ms_mixed(anchors.clone(), mixed.clone().slice(0..0), &[], &[], p).into_scalar();
        assert_eq!(empty, 0.0);
        let joint: f32 =
            metrix_ms_mixed(anchors.clone(), mixed.clone(), &owner, &lam, p).into_scalar();
        let mut owners: Vec<usize> = owner.clone();
        owners.sort_unstable();
        owners.dedup();
        let mut sum = 0f32;
        for &a in &owners {
            let ks: Vec<usize> = (0..owner.len()).filter(|&k| owner[k] == a).collect();
            let sub = mixed.clone().select(0, index1(&ks, &dev));
            let l: Vec<f32> = ks.iter().map(|&k| lam[k]).collect();
            let v: f32 =
                metrix_ms_mixed(anchors.clone(), sub, &vec![a; ks.len()], &l, p).into_scalar();
            sum += v;
        }
        close(
            joint,
            f64::from(sum / owners.len() as f32),
            "mean over anchors",
        );
    }
}
