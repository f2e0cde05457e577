//! Calibration and evaluation maths on host buffers: accuracy, NLL, Brier, ECE (equal-width and
//! equal-mass), reliability-diagram bins, temperature scaling, and regression errors.
//!
//! Everything here is framework-free so the numbers can be checked by hand and reused by any trainer.
//! Conventions (stated once, used everywhere):
//! - Probabilities are row-major N×K; "confidence" is the max probability of a row and the prediction
//!   is its arg-max (lowest index on ties, like `torch.max`).
//! - NLL is the mean of `−ln p_y`; a probability of exactly 0 is clamped to `f32::MIN_POSITIVE`
//!   (≈1.2e-38) so one confident mistake gives a large but finite loss.
//! - Brier score is the **sum over classes** of the squared error against the one-hot label, averaged
//!   over samples (range 0..2), as in Brier (1950) and the calibration literature.
//! - ECE follows gpleiss/temperature_scaling: bin b covers `(b/B, (b+1)/B]`, i.e. a sample falls in
//!   bin b when `conf > lower && conf <= upper`. A confidence of exactly 0 therefore falls in no bin and
//!   does not contribute (it cannot occur for a softmax output, whose max is at least 1/K). Edges are
//!   `b/B` in f64 and f32 confidences are widened exactly, so f32 0.6 (= 0.60000002) sits just above 0.6.
//!   `ECE = Σ_b (n_b / N)·|acc_b − conf_b|`.
//! - Adaptive ECE (equal mass): samples sorted by confidence (stable, ties keep input order), bin b holds
//!   sorted positions `[⌊bN/B⌋, ⌊(b+1)N/B⌋)`; same weighted gap formula.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Number of bins used by the headline ECE (gpleiss, Guo et al. 2017).
pub const ECE_BINS: usize = 15;

/// Checks an N×K buffer against N labels and returns N.
fn check_rows(values: &[f32], labels: &[usize], classes: usize) -> Result<usize> {
    if classes == 0 {
        return Err(Error::param("classes", ">= 1", classes));
    }
    let n = labels.len();
    if n == 0 {
        return Err(Error::param("number of samples", ">= 1", 0));
    }
    if values.len() != n * classes {
        return Err(Error::SizeMismatch {
            what: "probability/logit buffer (N x K)",
            expected: n * classes,
            got: values.len(),
        });
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(Error::LabelOutOfRange {
            label,
            index,
            classes,
        });
    }
    Ok(n)
}

/// Row-wise softmax of `logits / temperature` (N×K), computed in f64 with the max subtracted.
pub fn softmax(logits: &[f32], classes: usize, temperature: f64) -> Result<Vec<f32>> {
    if classes == 0 || !logits.len().is_multiple_of(classes) {
        return Err(Error::SizeMismatch {
            what: "logit buffer (a multiple of the class count)",
            expected: classes.max(1) * (logits.len() / classes.max(1)),
            got: logits.len(),
        });
    }
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::param(
            "temperature",
            "a finite number > 0",
            temperature,
        ));
    }
    let mut out = vec![0f32; logits.len()];
    for (row, o) in logits
        .chunks_exact(classes)
        .zip(out.chunks_exact_mut(classes))
    {
        let m = row
            .iter()
            .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
        let mut sum = 0.0;
        for (&z, o) in row.iter().zip(o.iter_mut()) {
            let e = ((f64::from(z) - m) / temperature).exp();
            sum += e;
            *o = e as f32;
        }
        let inv = 1.0 / sum;
        for o in o.iter_mut() {
            *o = (f64::from(*o) * inv) as f32;
        }
    }
    Ok(out)
}

/// Index of the largest value (lowest index on ties) and the value itself.
fn argmax(row: &[f32]) -> (usize, f32) {
    let mut best = (0, row[0]);
    for (c, &v) in row.iter().enumerate().skip(1) {
        if v > best.1 {
            best = (c, v);
        }
    }
    best
}

/// Top-k accuracy: the label counts as found when fewer than k classes rank above it, where a class
/// ranks above the label if its probability is larger, or equal with a lower index.
pub fn top_k_accuracy(probs: &[f32], labels: &[usize], classes: usize, k: usize) -> Result<f64> {
    let n = check_rows(probs, labels, classes)?;
    if k == 0 {
        return Err(Error::param("k of top-k", ">= 1", k));
    }
    let hits = probs
        .chunks_exact(classes)
        .zip(labels)
        .filter(|(row, y)| {
            let py = row[**y];
            let above = row
                .iter()
                .enumerate()
                .filter(|&(c, &p)| p > py || (p == py && c < **y))
                .count();
            above < k
        })
        .count();
    Ok(hits as f64 / n as f64)
}

/// Mean negative log-likelihood of the labels (see the module doc for the clamp at 0).
pub fn nll(probs: &[f32], labels: &[usize], classes: usize) -> Result<f64> {
    let n = check_rows(probs, labels, classes)?;
    let total: f64 = probs
        .chunks_exact(classes)
        .zip(labels)
        .map(|(row, &y)| -f64::from(row[y].max(f32::MIN_POSITIVE)).ln())
        .sum();
    Ok(total / n as f64)
}

/// Brier score: Σ_c (p_c − 1[c = y])², averaged over samples.
pub fn brier(probs: &[f32], labels: &[usize], classes: usize) -> Result<f64> {
    let n = check_rows(probs, labels, classes)?;
    let total: f64 = probs
        .chunks_exact(classes)
        .zip(labels)
        .map(|(row, &y)| {
            row.iter()
                .enumerate()
                .map(|(c, &p)| {
                    let d = f64::from(p) - if c == y { 1.0 } else { 0.0 };
                    d * d
                })
                .sum::<f64>()
        })
        .sum();
    Ok(total / n as f64)
}

/// Per-sample confidence (max probability) and correctness of the arg-max.
pub fn confidences(
    probs: &[f32],
    labels: &[usize],
    classes: usize,
) -> Result<(Vec<f64>, Vec<bool>)> {
    check_rows(probs, labels, classes)?;
    Ok(probs
        .chunks_exact(classes)
        .zip(labels)
        .map(|(row, &y)| {
            let (c, p) = argmax(row);
            (f64::from(p), c == y)
        })
        .unzip())
}

/// One bin of a reliability diagram.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lower edge (exclusive for equal-width bins; the smallest member's confidence for equal-mass bins).
    pub lower: f64,
    /// Upper edge (inclusive).
    pub upper: f64,
    /// Samples in the bin.
    pub count: usize,
    /// Mean confidence of the members (0 when empty).
    pub mean_conf: f64,
    /// Fraction of members whose arg-max is right (0 when empty).
    pub accuracy: f64,
}

fn check_bins(bins: usize) -> Result<()> {
    if bins == 0 {
        return Err(Error::param("number of ECE bins", ">= 1", bins));
    }
    Ok(())
}

/// Equal-width reliability bins with the gpleiss edge rule `(b/B, (b+1)/B]`.
pub fn reliability_bins(
    conf: &[f64],
    correct: &[bool],
    bins: usize,
) -> Result<Vec<ReliabilityBin>> {
    check_bins(bins)?;
    if conf.len() != correct.len() {
        return Err(Error::SizeMismatch {
            what: "correctness flags",
            expected: conf.len(),
            got: correct.len(),
        });
    }
    let mut out: Vec<ReliabilityBin> = (0..bins)
        .map(|b| ReliabilityBin {
            lower: b as f64 / bins as f64,
            upper: (b + 1) as f64 / bins as f64,
            count: 0,
            mean_conf: 0.0,
            accuracy: 0.0,
        })
        .collect();
    for (&c, &ok) in conf.iter().zip(correct) {
        // The same comparisons as gpleiss (`gt(lower) * le(upper)`), so edges land identically.
        if let Some(bin) = out.iter_mut().find(|b| c > b.lower && c <= b.upper) {
            bin.count += 1;
            bin.mean_conf += c;
            bin.accuracy += if ok { 1.0 } else { 0.0 };
        }
    }
    for b in &mut out {
        if b.count > 0 {
            b.mean_conf /= b.count as f64;
            b.accuracy /= b.count as f64;
        }
    }
    Ok(out)
}

/// Equal-mass reliability bins: sorted by confidence, `bins` groups of (nearly) equal count.
pub fn adaptive_bins(conf: &[f64], correct: &[bool], bins: usize) -> Result<Vec<ReliabilityBin>> {
    check_bins(bins)?;
    if conf.len() != correct.len() {
        return Err(Error::SizeMismatch {
            what: "correctness flags",
            expected: conf.len(),
            got: correct.len(),
        });
    }
    let n = conf.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| conf[a].total_cmp(&conf[b]));
    Ok((0..bins)
        .map(|b| {
            let members = &order[b * n / bins..(b + 1) * n / bins];
            let count = members.len();
            let (sum_c, hits) = members.iter().fold((0.0, 0usize), |(s, h), &i| {
                (s + conf[i], h + usize::from(correct[i]))
            });
            ReliabilityBin {
                lower: members.first().map_or(0.0, |&i| conf[i]),
                upper: members.last().map_or(0.0, |&i| conf[i]),
                count,
                mean_conf: if count > 0 { sum_c / count as f64 } else { 0.0 },
                accuracy: if count > 0 {
                    hits as f64 / count as f64
                } else {
                    0.0
                },
            }
        })
        .collect())
}

/// `Σ_b (n_b / N)·|acc_b − conf_b|` over the given bins, with N the total number of samples.
pub fn ece_from_bins(bins: &[ReliabilityBin], total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    bins.iter()
        .map(|b| b.count as f64 / total as f64 * (b.accuracy - b.mean_conf).abs())
        .sum()
}

/// Equal-width ECE with `bins` bins from N×K probabilities.
pub fn ece(probs: &[f32], labels: &[usize], classes: usize, bins: usize) -> Result<f64> {
    let (conf, correct) = confidences(probs, labels, classes)?;
    Ok(ece_from_bins(
        &reliability_bins(&conf, &correct, bins)?,
        conf.len(),
    ))
}

/// Equal-mass (adaptive) ECE with `bins` bins from N×K probabilities.
pub fn adaptive_ece(probs: &[f32], labels: &[usize], classes: usize, bins: usize) -> Result<f64> {
    let (conf, correct) = confidences(probs, labels, classes)?;
    Ok(ece_from_bins(
        &adaptive_bins(&conf, &correct, bins)?,
        conf.len(),
    ))
}

/// Equal-width reliability bins and NLL filled batch by batch, for a training loop that sees its
/// evaluation set in pieces (burn-train's metrics, an own loop). Once every batch is added, [`Self::ece`]
/// and [`Self::bins`] equal [`ece`] and [`reliability_bins`] over all samples at once, bit for bit: the
/// same edge comparisons, and sums taken in sample order.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningCalibration {
    bins: usize,
    count: Vec<usize>,
    sum_conf: Vec<f64>,
    hits: Vec<usize>,
    samples: usize,
    nll_sum: f64,
}

impl Default for RunningCalibration {
    /// An empty accumulator with the headline [`ECE_BINS`] bins.
    fn default() -> Self {
        Self::empty(ECE_BINS)
    }
}

impl RunningCalibration {
    /// An empty accumulator with `bins` equal-width bins; refuses zero.
    pub fn new(bins: usize) -> Result<Self> {
        check_bins(bins)?;
        Ok(Self::empty(bins))
    }

    fn empty(bins: usize) -> Self {
        Self {
            bins,
            count: vec![0; bins],
            sum_conf: vec![0.0; bins],
            hits: vec![0; bins],
            samples: 0,
            nll_sum: 0.0,
        }
    }

    /// Adds N×K probabilities and their N labels; a malformed batch is refused and changes nothing.
    pub fn add(&mut self, probs: &[f32], labels: &[usize], classes: usize) -> Result<()> {
        check_rows(probs, labels, classes)?;
        for (row, &y) in probs.chunks_exact(classes).zip(labels) {
            let (c, p) = argmax(row);
            let conf = f64::from(p);
            let edge = |b: usize| b as f64 / self.bins as f64;
            if let Some(b) = (0..self.bins).find(|&b| conf > edge(b) && conf <= edge(b + 1)) {
                self.count[b] += 1;
                self.sum_conf[b] += conf;
                self.hits[b] += usize::from(c == y);
            }
            self.nll_sum += -f64::from(row[y].max(f32::MIN_POSITIVE)).ln();
        }
        self.samples += labels.len();
        Ok(())
    }

    /// Samples added since the last [`Self::clear`].
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The reliability bins of every sample added so far.
    pub fn bins(&self) -> Vec<ReliabilityBin> {
        (0..self.bins)
            .map(|b| {
                let n = self.count[b];
                ReliabilityBin {
                    lower: b as f64 / self.bins as f64,
                    upper: (b + 1) as f64 / self.bins as f64,
                    count: n,
                    mean_conf: if n > 0 {
                        self.sum_conf[b] / n as f64
                    } else {
                        0.0
                    },
                    accuracy: if n > 0 {
                        self.hits[b] as f64 / n as f64
                    } else {
                        0.0
                    },
                }
            })
            .collect()
    }

    /// ECE over every sample added so far (0 before the first batch).
    pub fn ece(&self) -> f64 {
        ece_from_bins(&self.bins(), self.samples)
    }

    /// Mean NLL over every sample added so far (`None` before the first batch).
    pub fn nll(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.nll_sum / self.samples as f64)
    }

    /// Forgets every sample (a new epoch) and keeps the number of bins.
    pub fn clear(&mut self) {
        self.count.fill(0);
        self.sum_conf.fill(0.0);
        self.hits.fill(0);
        self.samples = 0;
        self.nll_sum = 0.0;
    }
}

/// The classification metrics reported for one set of probabilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Top-1 accuracy in [0, 1].
    pub acc: f64,
    /// Top-5 accuracy (only when K ≥ 10, where it means something).
    pub top5: Option<f64>,
    /// Mean NLL (nats).
    pub nll: f64,
    /// Brier score (sum over classes, mean over samples).
    pub brier: f64,
    /// ECE, 15 equal-width bins.
    pub ece15: f64,
    /// ECE, 10 equal-width bins.
    pub ece10: f64,
    /// Adaptive (equal-mass) ECE, 15 bins.
    pub adaptive_ece15: f64,
}

/// Computes every classification metric from N×K probabilities.
pub fn class_metrics(probs: &[f32], labels: &[usize], classes: usize) -> Result<ClassMetrics> {
    let (conf, correct) = confidences(probs, labels, classes)?;
    let n = conf.len();
    Ok(ClassMetrics {
        acc: correct.iter().filter(|&&c| c).count() as f64 / n as f64,
        top5: if classes >= 10 {
            Some(top_k_accuracy(probs, labels, classes, 5)?)
        } else {
            None
        },
        nll: nll(probs, labels, classes)?,
        brier: brier(probs, labels, classes)?,
        ece15: ece_from_bins(&reliability_bins(&conf, &correct, ECE_BINS)?, n),
        ece10: ece_from_bins(&reliability_bins(&conf, &correct, 10)?, n),
        adaptive_ece15: ece_from_bins(&adaptive_bins(&conf, &correct, ECE_BINS)?, n),
    })
}

/// Mean NLL of `softmax(logits · beta)` and its first two derivatives in beta (= 1/T).
///
/// With `s = beta·z`, `f(β) = mean(logsumexp(βz) − βz_y)`, `f' = mean(E_p[z] − z_y)`,
/// `f'' = mean(Var_p[z]) ≥ 0`: the NLL is convex in β, which is why the fit works on 1/T.
fn nll_in_beta(logits: &[f32], labels: &[usize], classes: usize, beta: f64) -> (f64, f64, f64) {
    let (mut f, mut g, mut h) = (0.0, 0.0, 0.0);
    for (row, &y) in logits.chunks_exact(classes).zip(labels) {
        let m = row
            .iter()
            .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &z in row {
            let z = f64::from(z);
            let e = (beta * (z - m)).exp();
            s0 += e;
            s1 += e * z;
            s2 += e * z * z;
        }
        let mean = s1 / s0;
        f += beta * m + s0.ln() - beta * f64::from(row[y]);
        g += mean - f64::from(row[y]);
        h += (s2 / s0 - mean * mean).max(0.0);
    }
    let n = labels.len() as f64;
    (f / n, g / n, h / n)
}

/// Bounds of the fitted temperature; a fit that runs into one is returned clamped.
pub const TEMPERATURE_RANGE: (f64, f64) = (1e-2, 1e2);

/// Fits the temperature T that minimises the validation NLL of `softmax(logits / T)`.
///
/// Starts at T = 1.5 (gpleiss's init) and runs damped Newton on β = 1/T, where the NLL is convex
/// (see [`nll_in_beta`]), with a backtracking line search so every accepted step lowers the NLL; stops
/// when a step changes β by less than 1e-9 relative or the gradient is below 1e-12. T is kept inside
/// [`TEMPERATURE_RANGE`] (a perfectly separable set would otherwise drive T to 0).
pub fn fit_temperature(logits: &[f32], labels: &[usize], classes: usize) -> Result<f64> {
    check_rows(logits, labels, classes)?;
    if logits.iter().any(|v| !v.is_finite()) {
        return Err(Error::param(
            "validation logits",
            "finite",
            "a NaN or infinity",
        ));
    }
    let (lo, hi) = (1.0 / TEMPERATURE_RANGE.1, 1.0 / TEMPERATURE_RANGE.0);
    let mut beta: f64 = 1.0 / 1.5;
    let (mut f, mut g, mut h) = nll_in_beta(logits, labels, classes, beta);
    if h <= 0.0 && g == 0.0 {
        // Every row has equal logits: the NLL does not depend on T; keep T = 1.
        return Ok(1.0);
    }
    for _ in 0..100 {
        if g.abs() < 1e-12 {
            break;
        }
        // Newton direction where curvature exists, otherwise a gradient step scaled to β.
        let mut step = if h > 1e-15 {
            -g / h
        } else {
            -g.signum() * beta
        };
        let mut accepted = false;
        for _ in 0..60 {
            let cand = (beta + step).clamp(lo, hi);
            let (fc, gc, hc) = nll_in_beta(logits, labels, classes, cand);
            if fc <= f {
                let moved = (cand - beta).abs();
                beta = cand;
                (f, g, h) = (fc, gc, hc);
                accepted = moved > 1e-9 * beta;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    Ok(1.0 / beta)
}

/// Regression errors of predictions against targets (same length, one value per output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// `sqrt(mean((ŷ − y)²))`.
    pub rmse: f64,
    /// `mean(|ŷ − y|)`.
    pub mae: f64,
    /// `100 · mean(|ŷ − y| / |y|)` over targets with `|y| ≥ eps` (the others are skipped), in percent.
    pub mape_pct: f64,
    /// Targets skipped by MAPE because `|y| < eps`.
    pub mape_skipped: usize,
}

/// Default threshold below which a target is left out of MAPE.
pub const MAPE_EPS: f64 = 1e-8;

/// RMSE, MAE and MAPE (see [`RegressionMetrics`] for the formulas).
pub fn regression_metrics(pred: &[f32], target: &[f32], eps: f64) -> Result<RegressionMetrics> {
    if pred.len() != target.len() {
        return Err(Error::SizeMismatch {
            what: "predictions",
            expected: target.len(),
            got: pred.len(),
        });
    }
    if target.is_empty() {
        return Err(Error::param("number of targets", ">= 1", 0));
    }
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(Error::param("MAPE eps", "a finite number >= 0", eps));
    }
    let (mut se, mut ae, mut pe, mut used) = (0.0, 0.0, 0.0, 0usize);
    for (&p, &y) in pred.iter().zip(target) {
        let (p, y) = (f64::from(p), f64::from(y));
        let d = (p - y).abs();
        se += d * d;
        ae += d;
        if y.abs() >= eps && y.abs() > 0.0 {
            pe += d / y.abs();
            used += 1;
        }
    }
    let n = target.len() as f64;
    Ok(RegressionMetrics {
        rmse: (se / n).sqrt(),
        mae: ae / n,
        mape_pct: if used > 0 {
            100.0 * pe / used as f64
        } else {
            f64::NAN
        },
        mape_skipped: target.len() - used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    // Four samples, three classes, worked by hand:
    // row 0 [.75 .15 .1] y=0: conf .75 correct, -ln .75 = .287682, brier .0625+.0225+.01 = .095
    // row 1 [.1 .65 .25] y=2: conf .65 wrong,   -ln .25 = 1.386294, brier .01+.4225+.5625 = .995
    // row 2 [.2 .3 .5]   y=2: conf .5 correct,  -ln .5 = .693147,   brier .04+.09+.25 = .38
    // row 3 [.9 .05 .05] y=0: conf .9 correct,  -ln .9 = .105361,   brier .01+.0025+.0025 = .015
    // acc 3/4; NLL = 2.472484/4 = .618121; Brier = 1.485/4 = .37125.
    // ECE 10 bins ((b/10,(b+1)/10]): .5 -> bin 4 gap .5; .65 -> bin 6 gap .65; .75 -> bin 7 gap .25;
    //   .9 -> bin 8 gap .1 → ECE = 1.5/4 = .375.
    // Adaptive with 2 bins: sorted confs .5 .65 | .75 .9 → bin0 conf .575 acc .5 gap .075,
    //   bin1 conf .825 acc 1 gap .175 → (2·.075 + 2·.175)/4 = .125.
    const P: [f32; 12] = [
        0.75, 0.15, 0.1, 0.1, 0.65, 0.25, 0.2, 0.3, 0.5, 0.9, 0.05, 0.05,
    ];
    const Y: [usize; 4] = [0, 2, 2, 0];

    #[test]
    fn four_sample_example_by_hand() {
        let m = class_metrics(&P, &Y, 3).unwrap();
        close(m.acc, 0.75, 1e-12);
        assert_eq!(m.top5, None);
        close(m.nll, 0.618_121, 1e-6);
        close(m.brier, 0.371_25, 1e-6);
        close(ece(&P, &Y, 3, 10).unwrap(), 0.375, 1e-6);
        close(adaptive_ece(&P, &Y, 3, 2).unwrap(), 0.125, 1e-6);
        close(top_k_accuracy(&P, &Y, 3, 2).unwrap(), 1.0, 1e-12);
    }

    #[test]
    fn bin_edges_follow_gpleiss() {
        // 0.2 is the upper edge of bin 1 of 5 ((0.2, 0.4] is bin 1, (0, 0.2] is bin 0): it lands in bin 0.
        let bins = reliability_bins(&[0.2, 0.2000001, 1.0], &[true, false, true], 5).unwrap();
        assert_eq!(
            bins.iter().map(|b| b.count).collect::<Vec<_>>(),
            vec![1, 1, 0, 0, 1]
        );
        // A confidence of exactly 0 falls in no bin.
        let bins = reliability_bins(&[0.0, 0.5], &[false, true], 4).unwrap();
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 1);
        close(ece_from_bins(&bins, 2), 0.25, 1e-12);
    }

    #[test]
    fn top5_ties_and_errors() {
        // Ten classes, label 9 tied with all others at 0.1: classes 0..8 rank above it → miss;
        // label 3 has 3 tied classes above it → hit.
        let p = vec![0.1f32; 20];
        close(top_k_accuracy(&p, &[9, 3], 10, 5).unwrap(), 0.5, 1e-12);
        assert!(class_metrics(&p, &[9, 3], 10).unwrap().top5.is_some());
        assert!(nll(&p, &[10, 0], 10).is_err());
        assert!(nll(&p[..19], &[1, 0], 10).is_err());
        assert!(ece(&p, &[1, 0], 10, 0).is_err());
    }

    #[test]
    fn softmax_with_temperature() {
        let p = softmax(&[0.0, 2.0_f32.ln()], 2, 1.0).unwrap();
        close(f64::from(p[0]), 1.0 / 3.0, 1e-7);
        // logits [0, 2 ln 2] at T = 2 equal [0, ln 2] at T = 1.
        let p = softmax(&[0.0, 2.0 * 2.0_f32.ln()], 2, 2.0).unwrap();
        close(f64::from(p[1]), 2.0 / 3.0, 1e-7);
        assert!(softmax(&[0.0, 1.0], 2, 0.0).is_err());
    }

    #[test]
    fn temperature_fit_recovers_the_generating_temperature() {
        // Labels drawn from softmax(z / T_true): the NLL-optimal T converges to T_true as N grows.
        let mut rng = crate::rng::stream(11, crate::rng::Purpose::Split, 0, 0);
        let (n, k, t_true) = (20_000, 5, 2.5f64);
        let mut logits = Vec::with_capacity(n * k);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..k).map(|_| rng.random_range(-6.0f32..6.0)).collect();
            let p = softmax(&row, k, t_true).unwrap();
            let u: f32 = rng.random();
            let mut acc = 0.0;
            let y = p.iter().position(|&q| {
                acc += q;
                u < acc
            });
            labels.push(y.unwrap_or(k - 1));
            logits.extend(row);
        }
        let t = fit_temperature(&logits, &labels, k).unwrap();
        close(t, t_true, 0.1);
        // The fit is a minimum: nearby temperatures give a larger NLL.
        let f = |t: f64| nll_in_beta(&logits, &labels, k, 1.0 / t).0;
        assert!(f(t) <= f(t * 1.01) && f(t) <= f(t / 1.01));
        // Equal logits carry no information: T stays 1.
        assert_eq!(fit_temperature(&[1.0; 6], &[0, 1], 3).unwrap(), 1.0);
    }

    #[test]
    fn regression_errors_by_hand() {
        // errors 1, -2, 0 → RMSE sqrt(5/3), MAE 1; MAPE over y = 2 and 4 (y = 0 skipped): (1/2 + 2/4)/2 = 50%.
        let m = regression_metrics(&[3.0, 2.0, 0.0], &[2.0, 4.0, 0.0], MAPE_EPS).unwrap();
        close(m.rmse, (5.0f64 / 3.0).sqrt(), 1e-12);
        close(m.mae, 1.0, 1e-12);
        close(m.mape_pct, 50.0, 1e-9);
        assert_eq!(m.mape_skipped, 1);
        assert!(regression_metrics(&[1.0], &[1.0, 2.0], MAPE_EPS).is_err());
    }
    #[test]
    fn running_calibration_in_batches_equals_the_whole_set() {
        let mut rng = crate::rng::stream(3, crate::rng::Purpose::Init, 0, 0);
        let (n, k) = (97, 5);
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let logits: Vec<f32> = (0..k).map(|_| rng.random::<f32>() * 6.0).collect();
            probs.extend(softmax(&logits, k, 1.0).unwrap());
            labels.push(rng.random_range(0..k));
        }
        let mut run = RunningCalibration::new(ECE_BINS).unwrap();
        assert_eq!(run.nll(), None);
        assert_eq!(run.ece(), 0.0);
        for (rows, ys) in probs.chunks(10 * k).zip(labels.chunks(10)) {
            run.add(rows, ys, k).unwrap();
        }
        assert_eq!(run.samples(), n);
        assert_eq!(run.ece(), ece(&probs, &labels, k, ECE_BINS).unwrap());
        assert_eq!(run.nll(), Some(nll(&probs, &labels, k).unwrap()));
        let (conf, correct) = confidences(&probs, &labels, k).unwrap();
        assert_eq!(
            run.bins(),
            reliability_bins(&conf, &correct, ECE_BINS).unwrap()
        );
        // Edges: the hand example with 10 bins gives .375 whether added at once or row by row.
        let mut edge = RunningCalibration::new(10).unwrap();
        for (row, y) in P.chunks(3).zip(Y) {
            edge.add(row, &[y], 3).unwrap();
        }
        close(edge.ece(), 0.375, 1e-12);
        // A bad batch is refused and leaves the state alone; clear forgets everything.
        let before = edge.clone();
        assert!(edge.add(&P[..3], &[3], 3).is_err());
        assert!(edge.add(&P[..4], &[0], 3).is_err());
        assert_eq!(edge, before);
        edge.clear();
        assert_eq!(edge, RunningCalibration::new(10).unwrap());
        assert!(RunningCalibration::new(0).is_err());
        assert_eq!(
            RunningCalibration::default(),
            RunningCalibration::new(ECE_BINS).unwrap()
        );
    }
}
