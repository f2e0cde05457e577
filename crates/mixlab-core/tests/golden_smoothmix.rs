//! Golden parity of SmoothMix masks with OpenMixup's `smoothmix.py` kernel.
//!
//! The fixture comes from `tools/golden/smoothmix_golden.py` (the reference kernel in float64): per
//! case the uniform draws (u_h, u_w), σ, the kernel (the partner's weight) and the reference λ.
//! mixlab's centre for a draw u is u − ½ on each axis. Tolerance 1e-12.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::smoothmix::gaussian_weight;
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_str()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse::<f64>().unwrap())
        .collect()
}

#[test]
fn kernels_match_the_reference_and_odd_sides_are_where_it_fails() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/smoothmix_golden.json")).unwrap();
    let (mut compared, mut failed) = (0, 0);
    for case in fx["cases"].as_array().unwrap() {
        let (h, w) = (
            case["h"].as_u64().unwrap() as usize,
            case["w"].as_u64().unwrap() as usize,
        );
        if let Some(err) = case.get("reference_error") {
            assert!(h % 2 == 1, "reference failed on even side {h}: {err}");
            failed += 1;
            continue;
        }
        let (u_h, u_w) = (case["u_h"].as_f64().unwrap(), case["u_w"].as_f64().unwrap());
        let sigma = floats(&case["sigma"])[0];
        let want = floats(&case["kernel"]);
        let got = gaussian_weight(&[h, w], &[u_h - 0.5, u_w - 0.5], &[sigma, sigma]).unwrap();
        assert_eq!(got.len(), want.len());
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err <= 1e-12,
            "{h}x{w} at ({u_h}, {u_w}): max abs error {err:e}"
        );
        let lam_ref = floats(&case["lam"])[0];
        let lam = got.iter().sum::<f64>() / got.len() as f64;
        assert!((lam - lam_ref).abs() <= 1e-12, "{lam} vs {lam_ref}");
        compared += 1;
    }
    assert!(
        compared >= 7 && failed >= 1,
        "{compared} compared, {failed} reference failures"
    );
}
