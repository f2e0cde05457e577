//! Small-sample statistics for benchmark tables: Student-t quantiles and the paired difference of two
//! methods measured on the same seeds (same split, noise and initialisation), with its t-interval.
//!
//! The t quantile inverts the t distribution function, written through the regularised incomplete beta
//! function (a Lentz continued fraction, as in Numerical Recipes §6.4) with a Lanczos log-gamma; checked
//! against SciPy's `t.ppf` (`tools/golden/t_quantile.py`).

use crate::error::{Error, Result};

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-13 on the arguments used here).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let mut a = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
            if (d * c - 1.0).abs() < 1e-15 {
                return h;
            }
        }
    }
    h
}

/// Regularised incomplete beta I_x(a, b).
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * beta_inc(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The `p` quantile of Student's t with `df` > 0 degrees of freedom, `p` in (0, 1).
pub fn t_quantile(p: f64, df: f64) -> Result<f64> {
    if !(p > 0.0 && p < 1.0) {
        return Err(Error::param("quantile level", "in (0, 1)", p));
    }
    if !(df > 0.0 && df.is_finite()) {
        return Err(Error::param("degrees of freedom", "> 0 and finite", df));
    }
    if p < 0.5 {
        return Ok(-t_quantile(1.0 - p, df)?);
    }
    // Bracket, then bisect: the cdf is monotone, and 200 halvings reach f64 resolution from any bracket.
    let (mut lo, mut hi) = (0.0, 1.0);
    while t_cdf(hi, df) < p {
        lo = hi;
        hi *= 2.0;
        if hi > 1e300 {
            return Ok(f64::INFINITY);
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi.max(1.0) {
            break;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The mean difference of paired measurements and its two-sided t-interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairedDiff {
    /// Number of pairs.
    pub n: usize,
    /// Mean of `a − b` over the pairs.
    pub mean: f64,
    /// Sample standard deviation of the differences (n − 1).
    pub sd: f64,
    /// Half-width of the interval; `None` with fewer than two pairs.
    pub half_width: Option<f64>,
}

impl PairedDiff {
    /// Lower and upper bound of the interval.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.half_width.map(|h| (self.mean - h, self.mean + h))
    }

    /// Whether the interval lies wholly above or below 0 (`None` without an interval).
    pub fn excludes_zero(&self) -> Option<bool> {
        self.interval().map(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// Paired difference `a[i] − b[i]` with a two-sided `level` t-interval (e.g. 0.95).
pub fn paired_diff(a: &[f64], b: &[f64], level: f64) -> Result<PairedDiff> {
    if a.len() != b.len() {
        return Err(Error::SizeMismatch {
            what: "paired measurements",
            expected: a.len(),
            got: b.len(),
        });
    }
    if a.is_empty() {
        return Err(Error::param("number of pairs", ">= 1", 0));
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::param("confidence level", "in (0, 1)", level));
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    if let Some(bad) = d.iter().find(|v| !v.is_finite()) {
        return Err(Error::param("paired difference", "finite", bad));
    }
    let n = d.len();
    let mean = d.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Ok(PairedDiff {
            n,
            mean,
            sd: 0.0,
            half_width: None,
        });
    }
    let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let t = t_quantile(0.5 + level / 2.0, (n - 1) as f64)?;
    Ok(PairedDiff {
        n,
        mean,
        sd,
        half_width: Some(t * sd / (n as f64).sqrt()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scipy.stats.t.ppf(p, df)` (SciPy 1.x), from `tools/golden/t_quantile.py`.
    const GOLDEN: &str = include_str!("../tests/fixtures/t_quantile_golden.json");

    #[test]
    fn t_quantiles_match_scipy() {
        let v: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
        let cases = v["cases"].as_array().unwrap();
        assert!(cases.len() > 20);
        for c in cases {
            let (p, df, want) = (
                c["p"].as_f64().unwrap(),
                c["df"].as_f64().unwrap(),
                c["q"].as_f64().unwrap(),
            );
            let got = t_quantile(p, df).unwrap();
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "t.ppf({p}, {df}) = {want}, got {got}"
            );
        }
    }

    #[test]
    fn a_paired_interval_matches_scipy_and_sees_through_seed_offsets() {
        let v: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
        let p = &v["paired"];
        let a: Vec<f64> = serde_json::from_value(p["a"].clone()).unwrap();
        let b: Vec<f64> = serde_json::from_value(p["b"].clone()).unwrap();
        let d = paired_diff(&a, &b, 0.95).unwrap();
        let (lo, hi) = d.interval().unwrap();
        assert!((d.mean - p["mean"].as_f64().unwrap()).abs() < 1e-12);
        assert!((lo - p["lo"].as_f64().unwrap()).abs() < 1e-9, "{lo}");
        assert!((hi - p["hi"].as_f64().unwrap()).abs() < 1e-9, "{hi}");
        // The seeds move both methods together: unpaired, the gap drowns in the seed spread; paired, it
        // is clear.
        assert_eq!(d.excludes_zero(), Some(true));
    }

    #[test]
    fn one_pair_has_no_interval_and_bad_input_is_refused() {
        let d = paired_diff(&[0.9], &[0.8], 0.95).unwrap();
        assert_eq!(d.n, 1);
        assert!((d.mean - 0.1).abs() < 1e-12);
        assert_eq!(d.excludes_zero(), None);
        assert!(paired_diff(&[1.0, 2.0], &[1.0], 0.95).is_err());
        assert!(paired_diff(&[], &[], 0.95).is_err());
        assert!(paired_diff(&[1.0, f64::NAN], &[1.0, 2.0], 0.95).is_err());
        assert!(paired_diff(&[1.0, 2.0], &[1.0, 2.0], 1.5).is_err());
        assert!(t_quantile(0.0, 3.0).is_err());
        assert!(t_quantile(0.5, -1.0).is_err());
        assert!(t_quantile(0.5, 4.0).unwrap().abs() < 1e-12);
    }
}
