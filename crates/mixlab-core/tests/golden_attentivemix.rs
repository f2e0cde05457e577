//! Golden parity of AttentiveMix with OpenMixup's `attentivemix` (github.com/Westlake-AI/openmixup @
//! 37e13724), from `tools/golden/attentivemix.py`, which records the permutation the reference drew.
//! Masks and λ must match exactly (k cells of the channel-mean map, nearest upsampling); the mixed
//! images to 1e-6 of their largest value (`m·x + (1 − m)·x[perm]` in f32 both sides).

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::apply::apply_to_vec;
use mixlab_core::methods::{AttentivemixConfig, Method};
use mixlab_core::plan::{MixPlan, SampleWeight};
use mixlab_core::shape::SampleShape;
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

#[test]
fn attentivemix_batches_match_the_reference() {
    let fx: Value =
        serde_json::from_str(include_str!("fixtures/attentivemix_golden.json")).unwrap();
    let mut names = Vec::new();
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let s = usizes(&c["shape"]);
        let fm = usizes(&c["fm"]);
        let (n, side) = (s[0], s[2]);
        let shape = SampleShape::d2(s[1], side, side).unwrap();
        let cfg = AttentivemixConfig {
            top_k: c["top_k"].as_u64().map(|k| k as usize),
            ..Default::default()
        };
        let lam = c["lam"].as_f64().unwrap() as f32;
        let masks = cfg
            .masks(
                &f32s(&c["features"]),
                [fm[0], fm[1], fm[2], fm[3]],
                &vec![lam; n],
                [side, side],
            )
            .unwrap();
        let want_mask = f32s(&c["mask"]);
        for (i, m) in masks.iter().enumerate() {
            assert_eq!(
                &m[..],
                &want_mask[i * side * side..(i + 1) * side * side],
                "{name}: mask {i}"
            );
            let mean = mixlab_core::weight::mask_mean(m);
            assert_eq!(
                mean as f32,
                c["lam_out"].as_f64().unwrap() as f32,
                "{name}: λ {i}"
            );
        }
        let plan = MixPlan {
            shape,
            partner: usizes(&c["perm"]),
            lam_label: masks
                .iter()
                .map(|m| mixlab_core::weight::mask_mean(m) as f32)
                .collect(),
            weights: masks
                .into_iter()
                .map(|mask| SampleWeight::Mask { mask })
                .collect(),
            method: vec![Method::Attentivemix; n],
        };
        let mixed = apply_to_vec(&plan, &f32s(&c["images"])).unwrap();
        let got: Vec<f64> = mixed.iter().map(|&v| f64::from(v)).collect();
        let err = rel_err(&got, &f32s(&c["mixed"]));
        assert!(err < 1e-6, "{name}: mixed images: relative error {err:e}");
    }
    assert_eq!(names.len(), 6, "{names:?}");
}
