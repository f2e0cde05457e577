//! Parity of the spectral-residual saliency map with an independent numpy implementation.
//!
//! The fixture comes from `tools/golden/saliencymix_golden.py`: per case noisy f32 data with one blob,
//! the min-max scaled map and its argmax. Tolerance 1e-5 on the map (mixlab returns f32); the peak is
//! exact, and within 1 sample of the blob.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::saliencymix::{saliency_map, saliency_peak};
use mixlab_core::shape::SampleShape;
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_str()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse::<f64>().unwrap())
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn maps_and_peaks_match_numpy_in_every_rank() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/saliencymix_golden.json")).unwrap();
    let mut ranks = vec![];
    for case in fx["cases"].as_array().unwrap() {
        let spatial = usizes(&case["spatial"]);
        let shape =
            SampleShape::new(case["channels"].as_u64().unwrap() as usize, &spatial).unwrap();
        let data: Vec<f32> = floats(&case["data"]).iter().map(|&v| v as f32).collect();
        let want = floats(&case["map"]);
        let got = saliency_map(&shape, &data).unwrap();
        assert_eq!(got.len(), want.len());
        let err = got
            .iter()
            .zip(&want)
            .map(|(&a, b)| (f64::from(a) - b).abs())
            .fold(0.0, f64::max);
        assert!(err <= 1e-5, "{shape}: max abs error {err:e}");
        let mut want_peak = [0usize; 3];
        let peak = usizes(&case["peak"]);
        want_peak[3 - peak.len()..].copy_from_slice(&peak);
        let got_peak = saliency_peak(&shape, &data).unwrap();
        assert_eq!(got_peak, want_peak, "{shape}");
        let blob = usizes(&case["blob"]);
        for (a, &b) in got_peak[3 - blob.len()..].iter().zip(&blob) {
            assert!(
                a.abs_diff(b) <= 1,
                "{shape}: peak {got_peak:?}, blob {blob:?}"
            );
        }
        ranks.push(shape.rank);
    }
    ranks.sort_unstable();
    ranks.dedup();
    assert_eq!(ranks, vec![1, 2, 3]);
}
