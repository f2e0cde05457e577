//! Golden parity of the representation-side helpers with their reference code.
//!
//! - `fixtures/cmixup_golden.json` from `tools/golden/cmixup.py`: C-Mixup's per-row sampling rates
//!   (huaxiuyao/C-Mixup@0b88fb31 `get_mixup_sample_rate`, scikit-learn KernelDensity) on the first 50
//!   Airfoil targets with σ = 1.75, plus a 2-D label case. Tolerance 1e-9 absolute per entry
//!   (measured: 1.1e-16).
//! - `fixtures/collapse_golden.json` from `tools/golden/collapse.py`: NC1 with scipy's pinv on the
//!   dim×dim Σ_B, equinorm, equiangularity and ETF distance as in Papyan/Han's and tding1's code.
//!   Tolerance 1e-9 relative (measured: ≤ 6e-16).

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::cmixup::CMixupSampler;
use mixlab_core::collapse::neural_collapse;
use mixlab_core::rng::{Purpose, stream};
use serde_json::Value;

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn cmixup_rates_match_the_reference_kde() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/cmixup_golden.json")).unwrap();
    let cases = fx["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let d = case["target_len"].as_u64().unwrap() as usize;
        let targets = f32s(&case["targets"]);
        let sampler = CMixupSampler::new(&targets, d, case["bandwidth"].as_f64().unwrap()).unwrap();
        let rates = case["rates"].as_array().unwrap();
        assert_eq!(rates.len(), sampler.len());
        let mut worst = 0.0f64;
        for (i, row) in rates.iter().enumerate() {
            let want: Vec<f64> = row
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let got = sampler.probabilities(i).unwrap();
            for (a, b) in got.iter().zip(&want) {
                worst = worst.max((a - b).abs());
            }
        }
        eprintln!("{name}: max abs error {worst:e}");
        assert!(worst <= 1e-9, "{name}: max abs error {worst:e}");
        // The draws follow the same rows: the mean partner frequency over many draws of anchor 0
        // sits near the reference row (loose bound; the unit tests do the chi-square).
        let mut rng = stream(1, Purpose::Mix, 0, 0);
        let draws = 20_000;
        let picks = sampler.partners(&vec![0; draws], &mut rng).unwrap();
        let row0: Vec<f64> = rates[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let mut counts = vec![0usize; sampler.len()];
        picks.iter().for_each(|&j| counts[j] += 1);
        for (j, (&c, &p)) in counts.iter().zip(&row0).enumerate() {
            let sd = (p * (1.0 - p) / draws as f64).sqrt();
            let f = c as f64 / draws as f64;
            assert!(
                (f - p).abs() <= 5.0 * sd + 1e-4,
                "{name}: partner {j} frequency {f} vs rate {p}"
            );
        }
    }
}

#[test]
fn collapse_measures_match_the_reference_formulas() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/collapse_golden.json")).unwrap();
    let cases = fx["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dim = case["dim"].as_u64().unwrap() as usize;
        let classes = case["classes"].as_u64().unwrap() as usize;
        let features = f32s(&case["features"]);
        let labels: Vec<usize> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        let got = neural_collapse(&features, dim, &labels, classes).unwrap();
        for (field, value) in [
            ("nc1", got.nc1),
            ("equinorm", got.equinorm),
            ("equiangularity", got.equiangularity),
            ("etf_distance", got.etf_distance),
            ("within_trace", got.within_trace),
            ("between_trace", got.between_trace),
        ] {
            let want = case[field].as_f64().unwrap();
            let rel = (value - want).abs() / want.abs();
            eprintln!("{name}.{field}: rel error {rel:e}");
            assert!(
                rel <= 1e-9,
                "{name}.{field}: {value} vs {want} (rel {rel:e})"
            );
        }
    }
}
