//! Golden parity of TL-Align with the official code (github.com/Euphoria16/TL-Align @ 4da06219), from
//! `tools/golden/tlalign.py`: the starting token labels (`mixup_target` + `token_label` for the
//! reference's token box) agree exactly, and the class token's label after the reference's blocks
//! (`L ← (Ā·L + L)/2` inside its `Attention`/`Block`, fed here with the attention it recorded) to 1e-5.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::tlalign::{initial_labels, propagate};
use mixlab_core::plan::Region;
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

#[test]
fn tlalign_labels_match_the_reference() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/tlalign_golden.json")).unwrap();
    let mut names = Vec::new();
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let num = |k: &str| c[k].as_u64().unwrap() as usize;
        let (n, g, classes) = (num("n"), num("grid"), num("classes"));
        let b = usizes(&c["box"]);
        let patch = 4;
        let region = Region {
            start: [0, b[0] * patch, b[2] * patch],
            end: [1, b[1] * patch, b[3] * patch],
        };
        let lam = c["lam"].as_f64().unwrap() as f32;
        let labels = usizes(&c["labels"]);
        // The reference pairs by flipping the batch.
        let partner: Vec<usize> = (0..n).rev().collect();
        let l0 = initial_labels(
            &labels,
            &partner,
            &vec![lam; n],
            &vec![Some(region); n],
            [g, g],
            patch,
            classes,
            0.1,
        )
        .unwrap();
        let err = rel_err(
            &l0.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            &f32s(&c["labels0"]),
        );
        assert!(err < 1e-6, "{name}: starting labels: {err:e}");
        let attn: Vec<Vec<f32>> = c["attention"]
            .as_array()
            .unwrap()
            .iter()
            .map(f32s)
            .collect();
        let cls = propagate(&attn, &l0, n, g * g + 1, classes).unwrap();
        let err = rel_err(
            &cls.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            &f32s(&c["cls"]),
        );
        assert!(err < 1e-5, "{name}: class-token label: {err:e}");
    }
    assert_eq!(names.len(), 3, "{names:?}");
}
