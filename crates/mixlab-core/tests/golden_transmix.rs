//! Golden parity of TransMix's labels with the official code (github.com/Beckschen/TransMix @ 0e4d31eb:
//! `Mixup_transmix.transmix_label`), from `tools/golden/transmix.py`: given the box, the class-token
//! attention and the labels, the smoothed soft targets agree to 1e-6 (float32 in the reference).

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::Method;
use mixlab_core::methods::transmix::attention_weights;
use mixlab_core::plan::{MixPlan, Region, SampleWeight};
use mixlab_core::shape::SampleShape;
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

#[test]
fn transmix_targets_match_the_reference() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/transmix_golden.json")).unwrap();
    let mut names = Vec::new();
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let (n, side, g, classes) = (
            c["n"].as_u64().unwrap() as usize,
            c["side"].as_u64().unwrap() as usize,
            c["grid"].as_u64().unwrap() as usize,
            c["classes"].as_u64().unwrap() as usize,
        );
        let b = usizes(&c["box"]);
        let region = Region {
            start: [0, b[0], b[2]],
            end: [1, b[1], b[3]],
        };
        let mut plan = MixPlan {
            shape: SampleShape::d2(3, side, side).unwrap(),
            // The reference pairs by flipping the batch.
            partner: (0..n).rev().collect(),
            weights: vec![SampleWeight::Paste { region }; n],
            lam_label: vec![0.0; n],
            method: vec![Method::Transmix; n],
        };
        let boxes = vec![Some(region); n];
        attention_weights(
            &f32s(&c["attention"]),
            [g, g],
            [side, side],
            &boxes,
            &mut plan.lam_label,
        )
        .unwrap();
        let soft = plan
            .soft_targets(&usizes(&c["labels"]), classes, 0.1)
            .unwrap();
        let got: Vec<f64> = soft.iter().map(|&v| f64::from(v)).collect();
        let err = rel_err(&got, &f32s(&c["target"]));
        assert!(err < 1e-6, "{name}: soft targets: relative error {err:e}");
    }
    assert_eq!(names.len(), 5, "{names:?}");
}
