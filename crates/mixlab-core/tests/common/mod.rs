//! Fixture readers shared by the golden tests whose generators write float32 arrays as space-separated
//! shortest reprs (`tools/golden/guidedmix.py`, `tools/golden/snapmix.py`).

#![allow(dead_code, reason = "each test binary uses its own subset")]
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use serde_json::Value;

/// A float32 array; `str::parse::<f32>` reads the shortest repr exactly.
pub fn f32s(v: &Value) -> Vec<f32> {
    v.as_str()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse::<f32>().unwrap())
        .collect()
}

/// A JSON list of non-negative integers.
pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// Largest |got − want| relative to the largest |want|.
pub fn rel_err(got: &[f64], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, &w| m.max(f64::from(w).abs()));
    got.iter()
        .zip(want)
        .fold(0.0f64, |m, (&g, &w)| m.max((g - f64::from(w)).abs()))
        / scale.max(1e-30)
}
