//! `mixlab plan`: the printed plan is one well-formed JSON object for every method and sample rank, its
//! label weights agree with the realised input weights, and it is a pure function of the seed.

use crate::common::{fails, ok};
use serde_json::Value;

const METHODS: [&str; 9] = [
    "none",
    "mixup",
    "cutmix",
    "fmix",
    "resizemix",
    "gridmix",
    "smoothmix",
    "saliencymix",
    "maskmix",
];
const BATCH: usize = 7;
const CLASSES: usize = 3;
const LABELS: &str = "0,1,2,1,0,2,2";

fn plan_args<'a>(method: &'a str, shape: &'a str, seed: &'a str) -> Vec<&'a str> {
    vec![
        "plan",
        "--method",
        method,
        "--shape",
        shape,
        "--batch",
        "7",
        "--granularity",
        "elem",
        "--seed",
        seed,
        "--labels",
        LABELS,
        "--classes",
        "3",
    ]
}

fn floats(v: &Value, key: &str, ctx: &str) -> Vec<f64> {
    let a = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: {key} is not an array: {v}"));
    assert_eq!(a.len(), BATCH, "{ctx}: {key} has {} entries", a.len());
    a.iter()
        .map(|x| {
            x.as_f64()
                .unwrap_or_else(|| panic!("{ctx}: {key} holds a non-number {x}"))
        })
        .collect()
}

/// Checks one plan's JSON; `spatial` is the number of spatial positions of the shape.
fn check_plan(stdout: &str, method: &str, shape: &str, seed: u64, spatial: usize) {
    let ctx = format!("plan {method} {shape}");
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{ctx}: stdout is not one line:\n{stdout}");
    let v: Value = serde_json::from_str(lines[0])
        .unwrap_or_else(|e| panic!("{ctx}: stdout is not JSON ({e}):\n{stdout}"));
    assert!(v.is_object(), "{ctx}: not an object");
    assert_eq!(v["method"], method, "{ctx}");
    assert_eq!(v["seed"], seed, "{ctx}");
    assert_eq!(v["shape"], shape, "{ctx}");

    let partner = v["partner"].as_array().expect("partner array");
    assert_eq!(partner.len(), BATCH, "{ctx}: partner length");
    for p in partner {
        let p = p
            .as_u64()
            .unwrap_or_else(|| panic!("{ctx}: partner {p} not an int"));
        assert!((p as usize) < BATCH, "{ctx}: partner {p} ≥ batch");
    }
    let lam = floats(&v, "lam_label", &ctx);
    let iwm = floats(&v, "input_weight_mean", &ctx);
    for (i, (&l, &w)) in lam.iter().zip(&iwm).enumerate() {
        assert!((0.0..=1.0).contains(&l), "{ctx}: lam_label[{i}] = {l}");
        assert!(
            (0.0..=1.0).contains(&w),
            "{ctx}: input_weight_mean[{i}] = {w}"
        );
        // Every method's default corrects λ to the realised weight (mixup/none: exactly by construction).
        let tol = 1.0 / spatial as f64 + 1e-6;
        assert!(
            (l - w).abs() <= tol,
            "{ctx}: sample {i}: lam_label {l} vs input weight mean {w} (tolerance {tol})"
        );
    }
    let regions = v["regions"].as_array().expect("regions array");
    assert_eq!(regions.len(), BATCH, "{ctx}: regions length");

    let targets = v["targets"].as_array().expect("targets array");
    assert_eq!(targets.len(), BATCH, "{ctx}: targets rows");
    for (i, row) in targets.iter().enumerate() {
        let row = row.as_array().expect("targets row");
        assert_eq!(row.len(), CLASSES, "{ctx}: targets row {i} width");
        let sum: f64 = row.iter().map(|x| x.as_f64().expect("target number")).sum();
        assert!(
            (sum - 1.0).abs() < 1e-5,
            "{ctx}: targets row {i} sums to {sum}"
        );
        assert!(
            row.iter().all(|x| x
                .as_f64()
                .is_some_and(|x| (-1e-6..=1.0 + 1e-6).contains(&x))),
            "{ctx}: targets row {i} out of [0,1]: {row:?}"
        );
    }
}

#[test]
fn plan_every_method_and_rank() {
    // (shape, spatial positions, rank)
    let shapes = [("1x64", 64, 1), ("3x12x20", 240, 2), ("2x6x8x10", 480, 3)];
    let mut ran_3d = 0;
    for method in METHODS {
        for (shape, spatial, rank) in shapes {
            let args = plan_args(method, shape, "5");
            let out = crate::common::mixlab().args(&args).output().expect("runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            if rank == 3 && !out.status.success() {
                assert_eq!(
                    stderr.trim_end(),
                    format!("error: method {method} does not support 3-D samples"),
                    "plan {method} {shape}"
                );
                continue;
            }
            assert!(
                out.status.success(),
                "plan {method} {shape} failed: {stderr}"
            );
            if rank == 3 {
                ran_3d += 1;
            }
            check_plan(
                &String::from_utf8_lossy(&out.stdout),
                method,
                shape,
                5,
                spatial,
            );
        }
    }
    // At least the blending methods and CutMix must handle volumes.
    assert!(ran_3d >= 3, "only {ran_3d} methods accepted 3-D samples");
}

#[test]
fn plan_is_a_function_of_the_seed() {
    for method in METHODS {
        let a = ok(&plan_args(method, "3x12x20", "11"));
        let b = ok(&plan_args(method, "3x12x20", "11"));
        assert_eq!(a, b, "plan {method}: same seed, different output");
        if method != "none" {
            let c = ok(&plan_args(method, "3x12x20", "12"));
            assert_ne!(a, c, "plan {method}: seeds 11 and 12 gave the same plan");
        }
    }
}

#[test]
fn plan_example_from_the_help() {
    let out = ok(&[
        "plan",
        "--method",
        "cutmix",
        "--batch",
        "5",
        "--shape",
        "3x8x6",
        "--labels",
        "0,1,2,1,0",
        "--classes",
        "3",
    ]);
    let v: Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(v["partner"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["targets"].as_array().map(Vec::len), Some(5));
}

#[test]
fn plan_without_classes_is_refused() {
    let e = fails(&["plan", "--batch", "2", "--labels", "0,1"]);
    assert!(e.contains("--classes"), "{e}");
}
