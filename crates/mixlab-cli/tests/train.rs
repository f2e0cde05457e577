//! `mixlab train`: the run folder's contents, determinism, regression metrics, and replay from the
//! recorded config.

use crate::common::{TINY_DIGITS, assert_png, curve_metrics, ok, read_json, s};
use serde_json::Value;
use std::path::Path;

fn train_digits(out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "train",
        "--out",
        s(out),
        "--epochs",
        "2",
        "--method",
        "mixup",
    ];
    args.extend_from_slice(TINY_DIGITS);
    args.extend_from_slice(extra);
    let stdout = ok(&args);
    assert!(stdout.contains("acc"), "{stdout}");
    read_json(&out.join("result.json"))
}

#[test]
fn train_writes_a_complete_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let v = train_digits(&a, &[]);
    for k in ["acc", "nll", "brier", "ece15", "ece15_ts", "temperature"] {
        let x = v["test"][k]
            .as_f64()
            .unwrap_or_else(|| panic!("test.{k} missing: {}", v["test"]));
        assert!(x.is_finite(), "test.{k} = {x}");
    }
    let acc = v["test"]["acc"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    assert_eq!(
        v["curve"].as_array().map(Vec::len),
        Some(2),
        "one curve record per epoch"
    );
    assert!(v["wall_s"].as_f64().is_some_and(|w| w > 0.0));
    assert!(v["samples_per_s"].as_f64().is_some_and(|w| w > 0.0));
    assert!(v["versions"]["mixlab"].is_string(), "{}", v["versions"]);
    assert!(v.get("git_rev").is_some(), "git_rev missing");
    assert!(a.join("config.toml").is_file());
    assert_png(&a.join("reliability.png"));

    // Same seed → identical metrics (timing fields aside).
    let b = tmp.path().join("b");
    let w = train_digits(&b, &[]);
    assert_eq!(v["test"], w["test"], "two runs with seed 0 differ");
    assert_eq!(curve_metrics(&v), curve_metrics(&w));
    // Another seed → another run.
    let c = tmp.path().join("c");
    let x = train_digits(&c, &["--seed", "1"]);
    assert_ne!(v["test"], x["test"], "seeds 0 and 1 gave identical runs");

    // Replaying the recorded config reproduces the run.
    let d = tmp.path().join("d");
    ok(&[
        "train",
        "--config",
        s(&a.join("config.toml")),
        "--out",
        s(&d),
        "--quiet",
    ]);
    let y = read_json(&d.join("result.json"));
    assert_eq!(v["test"], y["test"], "replay from config.toml differs");
    assert_eq!(curve_metrics(&v), curve_metrics(&y));
    assert_eq!(
        crate::common::read_text(&a.join("config.toml")),
        crate::common::read_text(&d.join("config.toml"))
    );

    // A finished folder is not overwritten without --resume, and --resume reports it as done.
    let e = crate::common::fails(&[
        "train",
        "--config",
        s(&a.join("config.toml")),
        "--out",
        s(&a),
        "--quiet",
    ]);
    assert!(e.contains("result.json"), "{e}");
    let out = ok(&[
        "train",
        "--config",
        s(&a.join("config.toml")),
        "--out",
        s(&a),
        "--quiet",
        "--resume",
    ]);
    assert!(out.contains("already finished"), "{out}");
    assert_eq!(read_json(&a.join("result.json"))["test"], v["test"]);
}

#[test]
fn train_regression_reports_errors_not_accuracy() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("airfoil");
    let stdout = ok(&[
        "train",
        "--dataset",
        "airfoil",
        "--model",
        "mlp",
        "--model-param",
        "hidden=[16]",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--limit",
        "300",
        "--method",
        "mixup",
        "--quiet",
        "--out",
        s(&out),
    ]);
    assert!(stdout.contains("rmse"), "{stdout}");
    let v = read_json(&out.join("result.json"));
    for k in ["rmse", "mae", "mape"] {
        let x = v["test"][k]
            .as_f64()
            .unwrap_or_else(|| panic!("test.{k} missing: {}", v["test"]));
        assert!(x.is_finite() && x >= 0.0, "test.{k} = {x}");
    }
    assert!(
        v["test"].get("acc").is_none(),
        "regression has acc: {}",
        v["test"]
    );
    assert_eq!(v["task"], "regression");
    assert!(out.join("config.toml").is_file());
}
