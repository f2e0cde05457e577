//! Golden parity of GuidedMixup with the official code (github.com/3neutronstar/GuidedMixup @ 73494e18:
//! `SpectralResidual`, `mixup_process`'s guided branch, `onecycle_cover`), from
//! `tools/golden/guidedmix.py`. The reference computes in `float32`, mixlab's saliency in `f64`:
//! maps, mixed pixels and soft targets agree to 2e-6 relative to each array's largest value; the greedy
//! walk on the reference's own distance matrix and the partners of whole batches agree exactly.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::guidedmix::{GuidedmixConfig, one_cycle_cover};
use mixlab_core::rng::{Purpose, stream};
use mixlab_core::shape::SampleShape;
use serde_json::Value;

mod common;
use common::{f32s, rel_err, usizes};

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/guidedmix_golden.json")).unwrap()
}

struct Batch {
    name: String,
    n: usize,
    shape: SampleShape,
    labels: Vec<usize>,
    images: Vec<f32>,
}

fn batch(b: &Value) -> Batch {
    let s = usizes(&b["shape"]);
    Batch {
        name: b["name"].as_str().unwrap().to_string(),
        n: s[0],
        shape: SampleShape::d2(s[1], s[2], s[3]).unwrap(),
        labels: usizes(&b["labels"]),
        images: f32s(&b["images"]),
    }
}

#[test]
fn spectral_residual_saliency_matches_the_reference() {
    let cfg = GuidedmixConfig::default();
    for b in fixture()["batches"].as_array().unwrap() {
        let bt = batch(b);
        let got = cfg.sr_saliency(&bt.images, &bt.shape).unwrap();
        let err = rel_err(&got, &f32s(&b["sr_saliency"]));
        assert!(err < 2e-6, "{}: relative error {err:e}", bt.name);
    }
}

#[test]
fn the_greedy_walk_on_the_reference_distances_gives_its_partners() {
    for b in fixture()["batches"].as_array().unwrap() {
        let bt = batch(b);
        for c in b["cases"].as_array().unwrap() {
            let d = f32s(&c["distances"]);
            let partner = one_cycle_cover(&d, bt.n);
            assert_eq!(partner, usizes(&c["partner"]), "{} {}", bt.name, c["guide"]);
            // One cycle through every image.
            let (mut at, mut steps) = (0, 0);
            loop {
                at = partner[at];
                steps += 1;
                if at == 0 {
                    break;
                }
            }
            assert_eq!(steps, bt.n);
        }
    }
}

#[test]
fn whole_batches_match_mixup_process() {
    let cfg = GuidedmixConfig::default();
    let mut checked = 0;
    for b in fixture()["batches"].as_array().unwrap() {
        let bt = batch(b);
        for c in b["cases"].as_array().unwrap() {
            let guide: Vec<f64> = match c.get("guide_map") {
                Some(g) => f32s(g).into_iter().map(f64::from).collect(),
                None => f32s(&b["sr_saliency"]).into_iter().map(f64::from).collect(),
            };
            let ctx = format!("{} {}", bt.name, c["guide"]);
            let mut rng = stream(0, Purpose::Mix, 0, 0);
            let got = cfg.mix(&bt.images, &bt.shape, &guide, &mut rng).unwrap();
            assert_eq!(got.partner, usizes(&c["partner"]), "{ctx}");
            let mixed: Vec<f64> = got.mixed.iter().map(|&v| f64::from(v)).collect();
            let err = rel_err(&mixed, &f32s(&c["mixed"]));
            assert!(err < 2e-6, "{ctx}: mixed, relative error {err:e}");
            let classes = 10;
            let mut soft = vec![0.0f64; bt.n * classes];
            for i in 0..bt.n {
                let lam = f64::from(got.lam_label[i]);
                soft[i * classes + bt.labels[i]] += lam;
                soft[i * classes + bt.labels[got.partner[i]]] += 1.0 - lam;
            }
            let err = rel_err(&soft, &f32s(&c["soft_targets"]));
            assert!(err < 2e-6, "{ctx}: soft targets, relative error {err:e}");
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}
