//! Golden parity of SnapMix with the official code (github.com/Shaoli-Huang/SnapMix @ 245bda4:
//! `get_spm`, `snapmix`, `rand_bbox`), from `tools/golden/snapmix.py`, which records every random draw
//! the reference made. The reference computes in `float32`, mixlab in `f64`: percent maps, mixed pixels
//! and both label weights agree to 5e-6 of each array's largest value.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::snapmix::{SnapDraw, SnapmixConfig, class_activation_maps, percent_maps};
use mixlab_core::shape::SampleShape;
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

#[test]
fn snapmix_batches_match_the_reference() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/snapmix_golden.json")).unwrap();
    let cfg = SnapmixConfig::default();
    let mut names = Vec::new();
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let s = usizes(&c["shape"]);
        let fm = usizes(&c["fm"]);
        let (n, side) = (s[0], s[2]);
        let shape = SampleShape::d2(s[1], side, side).unwrap();
        let labels = usizes(&c["labels"]);
        let cams = class_activation_maps(
            &f32s(&c["features"]),
            [fm[0], fm[1], fm[2], fm[3]],
            &f32s(&c["weight_ck"]),
            &f32s(&c["bias"]),
            &labels,
        )
        .unwrap();
        let maps = percent_maps(&cams, n, fm[2], fm[3], side, side);
        // The reference's maps, NaN where it divided 0 by 0.
        let want = f32s(&c["percent_maps"]);
        for (i, m) in maps.iter().enumerate() {
            let w = &want[i * side * side..(i + 1) * side * side];
            match m {
                Some(m) => {
                    let err = rel_err(m, w);
                    assert!(err < 5e-6, "{name}: map {i}: relative error {err:e}");
                }
                None => assert!(
                    w.iter().all(|v| v.is_nan()),
                    "{name}: map {i} is not 0/0 there"
                ),
            }
        }
        // randint order in the reference: box 1 (row centre, column centre), then box 2.
        let ct = usizes(&c["centres"]);
        let draw = SnapDraw {
            lam: c["lam"].as_f64().unwrap(),
            lam1: c["lam1"].as_f64().unwrap(),
            centre: [0, ct[0], ct[1]],
            centre1: [0, ct[2], ct[3]],
        };
        let perm = usizes(&c["perm"]);
        let got = cfg
            .mix(&f32s(&c["images"]), &shape, &maps, &perm, &labels, &draw)
            .unwrap();
        let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
        for (what, g, w) in [
            ("mixed", &got.mixed, "mixed"),
            ("lam_a", &got.lam_a, "lam_a"),
            ("lam_b", &got.lam_b, "lam_b"),
        ] {
            let err = rel_err(&wide(g), &f32s(&c[w]));
            assert!(err < 5e-6, "{name}: {what}: relative error {err:e}");
        }
        let target_b: Vec<usize> = perm.iter().map(|&j| labels[j]).collect();
        assert_eq!(target_b, usizes(&c["target_b"]), "{name}");
    }
    for want in ["32px-same-labels", "16px-flat-cam", "empty-box", "12px-fm3"] {
        assert!(names.iter().any(|n| n == want), "missing case {want}");
    }
}
