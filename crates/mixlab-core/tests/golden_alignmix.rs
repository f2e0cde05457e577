//! Golden parity of AlignMix with the official code (shashankvkt/AlignMixup_CVPR22 @ 0b9de8cb:
//! `SinkhornDistance`, `mixup_aligned`), from `tools/golden/alignmix.py`, which feeds the reference's two
//! random draws so both alignment branches run on the same features. The reference computes in float32,
//! mixlab's Sinkhorn in f64: plans agree to 2e-4 of their largest value (their entries are exponentials of
//! costs over ε = 0.1), mixed maps to 2e-4 of theirs.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::AlignmixConfig;
use mixlab_core::methods::alignmix::AlignDirection;
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

#[test]
fn alignmix_plans_and_mixed_maps_match_the_reference() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/alignmix_golden.json")).unwrap();
    let cfg = AlignmixConfig::default();
    let mut names = Vec::new();
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let d = usizes(&c["dims"]);
        let (n, ch, s) = (d[0], d[1], d[2]);
        let features = f32s(&c["features"]);
        let partner = usizes(&c["partner"]);
        let lam = vec![c["lam"].as_f64().unwrap() as f32; n];
        let (assign, _) = cfg.assignments(&features, n, ch, s, &partner).unwrap();
        let want_assign: Vec<f32> = f32s(&c["plan"]).iter().map(|p| p * s as f32).collect();
        let got: Vec<f64> = assign.iter().map(|&v| f64::from(v)).collect();
        let err = rel_err(&got, &want_assign);
        assert!(err < 2e-4, "{name}: assignment differs by {err}");
        for (key, dir) in [
            ("mixed_0", AlignDirection::PartnerToSample),
            ("mixed_1", AlignDirection::SampleToPartner),
        ] {
            let mixed =
                AlignmixConfig::mix_host(&features, [n, ch, s], &partner, &assign, &lam, dir);
            let got: Vec<f64> = mixed.iter().map(|&v| f64::from(v)).collect();
            let err = rel_err(&got, &f32s(&c[key]));
            assert!(err < 2e-4, "{name} {key}: mixed map differs by {err}");
        }
    }
    assert_eq!(names.len(), 3, "every case ran: {names:?}");
}
