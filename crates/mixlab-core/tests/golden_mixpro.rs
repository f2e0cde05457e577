//! Golden parity of MixPro's progressive attention labelling with the official code
//! (github.com/fistyee/MixPro @ 53a229e0: `utils.MaskMix` and the PAL branch of `train_one_epoch`), from
//! `tools/golden/mixpro.py`. Given the reference's masks, permutation, logits and attention: the mixed
//! images, the smoothed area targets, the attention share and PAL's λ agree to 1e-6 (float32 reference).
//! The loss and its gradient (λ is not detached) are checked on the Burn side
//! (`mixlab-burn/src/strategy/mixpro.rs`).

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::apply::apply_to_vec;
use mixlab_core::methods::Method;
use mixlab_core::methods::mixpro::{attention_share, pal_lambda};
use mixlab_core::plan::{Mask, MixPlan, SampleWeight};
use mixlab_core::shape::SampleShape;
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

#[test]
fn mixpro_pal_matches_the_reference() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/mixpro_golden.json")).unwrap();
    let mut names = Vec::new();
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        names.push(name.to_string());
        let num = |k: &str| c[k].as_u64().unwrap() as usize;
        let (n, side, patch, classes) = (num("n"), num("side"), num("patch"), num("classes"));
        let g = side / patch;
        let tokens = f32s(&c["token_mask"]);
        let masks: Vec<Mask> = (0..n)
            .map(|i| {
                (0..side * side)
                    .map(|k| tokens[i * g * g + (k / side / patch) * g + (k % side) / patch])
                    .collect()
            })
            .collect();
        let weights: Vec<SampleWeight> = masks
            .iter()
            .map(|m| SampleWeight::Mask { mask: m.clone() })
            .collect();
        let ratio = f32s(&c["mask_ratio"]);
        let plan = MixPlan {
            shape: SampleShape::d2(3, side, side).unwrap(),
            partner: usizes(&c["perm"]),
            weights: weights.clone(),
            lam_label: ratio.clone(),
            method: vec![Method::Mixpro; n],
        };
        let mixed = apply_to_vec(&plan, &f32s(&c["images"])).unwrap();
        let err = rel_err(
            &mixed.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            &f32s(&c["mixed"]),
        );
        assert!(err < 1e-6, "{name}: mixed images: {err:e}");
        let targets = plan
            .soft_targets(&usizes(&c["labels"]), classes, 0.1)
            .unwrap();
        let err = rel_err(
            &targets.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            &f32s(&c["mix_targets"]),
        );
        assert!(err < 1e-6, "{name}: area targets: {err:e}");
        let share =
            attention_share(&f32s(&c["attention"]), [g, g], [side, side], &weights).unwrap();
        let err = rel_err(
            &share.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            &f32s(&c["lam_attn"]),
        );
        assert!(err < 1e-6, "{name}: attention share: {err:e}");
        // sim = cos(targets, softmax(logits)) per sample, then PAL's blend.
        let logits = f32s(&c["outputs"]);
        let lam: Vec<f64> = (0..n)
            .map(|i| {
                let row = &logits[i * classes..(i + 1) * classes];
                let max = row.iter().fold(f64::MIN, |m, &v| m.max(f64::from(v)));
                let e: Vec<f64> = row.iter().map(|&v| (f64::from(v) - max).exp()).collect();
                let z: f64 = e.iter().sum();
                let t = &targets[i * classes..(i + 1) * classes];
                let dot: f64 = e.iter().zip(t).map(|(p, &t)| p / z * f64::from(t)).sum();
                let np = e.iter().map(|p| (p / z).powi(2)).sum::<f64>().sqrt();
                let nt = t.iter().map(|&t| f64::from(t).powi(2)).sum::<f64>().sqrt();
                pal_lambda(dot / (np * nt), f64::from(share[i]), f64::from(ratio[i]))
            })
            .collect();
        let err = rel_err(&lam, &f32s(&c["lam"]));
        assert!(err < 1e-6, "{name}: PAL λ: {err:e}");
    }
    assert_eq!(names.len(), 4, "{names:?}");
}
