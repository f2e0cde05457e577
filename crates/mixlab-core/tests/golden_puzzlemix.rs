//! PuzzleMix against the reference functions themselves (tools/golden/puzzlemix.py runs
//! `snu-mllab/PuzzleMix @ e2dbf3a2 : mixup.py` with the real `gco`): the graph-cut masks, the transport
//! plans and whole `mixup_graph` batches.

#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use mixlab_core::methods::PuzzlemixConfig;
use mixlab_core::methods::puzzlemix::{Denorm, GraphcutTerms, Pairs, graphcut_mask};
use mixlab_core::plan::SampleWeight;
use mixlab_core::shape::SampleShape;
use mixlab_core::solvers::transport::{cost_matrix, mask_transport};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/puzzlemix_golden.json")).unwrap()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap()
}

fn int(v: &Value, k: &str) -> usize {
    v[k].as_u64().unwrap() as usize
}

#[test]
fn graph_cut_masks_match_gco() {
    let fx = fixture();
    let cases = fx["graphcut"].as_array().unwrap();
    for (k, c) in cases.iter().enumerate() {
        let (u_partner, u_self) = (f32s(&c["u_partner"]), f32s(&c["u_self"]));
        let (vertical, horizontal) = (f32s(&c["vertical"]), f32s(&c["horizontal"]));
        let terms = GraphcutTerms {
            u_partner: &u_partner,
            u_self: &u_self,
            vertical: &vertical,
            horizontal: &horizontal,
        };
        let got = graphcut_mask(
            &terms,
            int(c, "blocks"),
            num(c, "lam"),
            num(c, "beta_n"),
            num(c, "eta"),
            int(c, "n_labels"),
        )
        .unwrap();
        assert_eq!(
            got,
            f32s(&c["mask"]),
            "case {k}: {} blocks, {} labels, λ {}",
            c["blocks"],
            c["n_labels"],
            c["lam"]
        );
    }
    assert_eq!(cases.len(), 36);
}

#[test]
fn transport_plans_match_the_reference() {
    let fx = fixture();
    for (k, c) in fx["transport"].as_array().unwrap().iter().enumerate() {
        let w = int(c, "width");
        let got = mask_transport(
            &f32s(&c["mask"]),
            &f32s(&c["saliency"]),
            w,
            num(c, "eps") as f32,
            &cost_matrix(w),
        )
        .unwrap();
        let want: Vec<Option<usize>> = c["winners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().map(|i| i as usize))
            .collect();
        assert_eq!(got, want, "case {k}: width {w}");
    }
}

#[test]
fn whole_batches_match_mixup_graph() {
    let fx = fixture();
    for (k, c) in fx["mix"].as_array().unwrap().iter().enumerate() {
        let (n, w) = (int(c, "n"), int(c, "width"));
        let shape = SampleShape::d2(3, w, w).unwrap();
        let (mean, std) = (f32s(&c["mean"]), f32s(&c["std"]));
        let plane = w * w;
        let x: Vec<f32> = c["pixels"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let ch = i / plane % 3;
                (p.as_u64().unwrap() as f32 / 255.0 - mean[ch]) / std[ch]
            })
            .collect();
        let saliency: Vec<f32> = c["saliency_milli"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as f32 / 1000.0)
            .collect();
        let lam = num(c, "lam") as f32;
        let partner: Vec<usize> = c["partner"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let (weights, prior) = (vec![SampleWeight::Blend { lam }; n], vec![lam; n]);
        let plan = Pairs {
            shape,
            partner: &partner,
            weights: &weights,
            lam: &prior,
        };
        let t_size = c["t_size"].as_i64().unwrap();
        let cfg = PuzzlemixConfig {
            t_size: (t_size > 0).then_some(t_size as usize),
            ..Default::default()
        };
        let denorm: Vec<Denorm> = (0..3)
            .map(|ch| Denorm {
                scale: std[ch],
                offset: mean[ch],
            })
            .collect();
        let got = cfg
            .mix(&plan, &x, &saliency, int(c, "blocks"), Some(&denorm))
            .unwrap();
        let want_ratio = f32s(&c["ratio"]);
        // mixlab leaves self-paired samples unmixed (the reference transports an image onto itself); the
        // fixture pairs every sample with another.
        assert!(plan.partner.iter().enumerate().all(|(i, &j)| i != j));
        assert_eq!(got.lam_label, want_ratio, "case {k}: ratios");
        let want = f32s(&c["mixed"]);
        let len = shape.sample_len();
        for i in 0..n {
            let (g, r) = (
                &got.mixed[i * len..(i + 1) * len],
                &want[i * len..(i + 1) * len],
            );
            let worst = g
                .iter()
                .zip(r)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst <= 1e-6, "case {k} sample {i}: max |Δ| {worst}");
        }
    }
}
