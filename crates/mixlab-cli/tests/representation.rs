//! The training-level methods through `mixlab train`: each runs under its `--method` name and records its
//! extra results, and bad hyper-parameters stop the run before any training with a one-line error.

use crate::common::{DIGITS_300, fails, ok, read_json, s, tiny_digits};

fn airfoil(out: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "--dataset",
        "airfoil",
        "--model",
        "mlp",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--optimizer",
        "adamw",
        "--lr",
        "0.01",
        "--quiet",
        "--out",
        s(out),
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

#[test]
fn representation_methods_run_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    // C-Mixup on the embedded Airfoil, mixing after the first block.
    let out = tmp.path().join("cmixup");
    let args = airfoil(
        &out,
        &[
            "--method",
            "c-mixup",
            "--param",
            "bandwidth=1.75",
            "--param",
            "layers=[1]",
        ],
    );
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let r = read_json(&out.join("result.json"));
    assert!(r["test"]["rmse"].as_f64().unwrap().is_finite(), "{r}");
    let cfg = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        cfg.contains("c-mixup") && cfg.contains("bandwidth = 1.75"),
        "{cfg}"
    );
    // RankMixup (M-NDCG) and DecoupleMix over CutMix on digits; neural collapse lands in result.json.
    for (name, extra) in [
        (
            "rank",
            vec!["--method", "rankmixup", "--param", "loss=\"mndcg\""],
        ),
        (
            "decouple",
            vec![
                "--method",
                "decouplemix",
                "--param",
                "base={method=\"cutmix\"}",
            ],
        ),
    ] {
        let out = tmp.path().join(name);
        let mut a = vec!["train", "--epochs", "1", "--out", s(&out)];
        a.extend_from_slice(&tiny_digits());
        a.extend_from_slice(&extra);
        ok(&a);
        let r = read_json(&out.join("result.json"));
        let nc1 = r["collapse"]["nc1"].as_f64();
        assert!(
            nc1.is_some_and(|v| v.is_finite() && v >= 0.0),
            "{name}: {r}"
        );
    }
}

#[test]
fn dense_and_pretraining_tasks_run_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    // MaskMix patches on digits, a 2×2 grid: per-patch accuracy and calibration in result.json.
    let out = tmp.path().join("patchsource");
    let mut a = vec!["train", "--epochs", "1", "--out", s(&out)];
    a.extend_from_slice(&tiny_digits());
    a.extend_from_slice(&[
        "--method",
        "patchsource",
        "--param",
        "grid=2",
        "--param",
        "base={method=\"maskmix\"}",
    ]);
    ok(&a);
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["task"], "classification", "{r}");
    assert!(
        (0.0..=1.0).contains(&r["test"]["acc"].as_f64().unwrap()),
        "{r}"
    );
    let cfg = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        cfg.contains("patchsource") && cfg.contains("maskmix"),
        "{cfg}"
    );
    // MixedAE on digits with a 2-pixel-patch ViT: the probe's accuracy is the result.
    let mae = tmp.path().join("mixedae");
    let mut a = vec!["train", "--epochs", "1", "--out", s(&mae)];
    a.extend_from_slice(DIGITS_300);
    a.extend_from_slice(&[
        "--model",
        "vit-tiny",
        "--model-param",
        "dim=16",
        "--model-param",
        "heads=2",
        "--model-param",
        "patch=2",
        "--model-param",
        "depth=1",
        "--method",
        "mixedae",
    ]);
    ok(&a);
    let r = read_json(&mae.join("result.json"));
    assert!(
        (0.0..=1.0).contains(&r["test"]["acc"].as_f64().unwrap()),
        "{r}"
    );
    // A grid finer than the 8×8 digits is refused before training.
    let bad = tmp.path().join("bad");
    let mut a = vec!["train", "--epochs", "1", "--out", s(&bad)];
    a.extend_from_slice(&tiny_digits());
    a.extend_from_slice(&["--method", "patchsource", "--param", "grid=9"]);
    let e = fails(&a);
    assert!(e.contains("grid"), "{e}");
}

#[test]
fn embedding_methods_run_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    // Metrix, MI-Mix and ProxyDet on digits: trained on classes 0-4, Recall@K on 5-9.
    for (name, extra) in [
        (
            "metrix",
            vec!["--method", "metrix", "--param", "level=\"input\""],
        ),
        (
            "metrix-ms",
            vec!["--method", "metrix", "--param", "loss=\"multi-similarity\""],
        ),
        ("mimix", vec!["--method", "mimix", "--param", "dim=16"]),
        (
            "proxydet",
            vec!["--method", "proxydet", "--param", "dim=16"],
        ),
    ] {
        let out = tmp.path().join(name);
        let mut a = vec!["train", "--epochs", "1", "--out", s(&out)];
        a.extend_from_slice(&tiny_digits());
        a.extend_from_slice(&extra);
        let stdout = ok(&a);
        assert!(stdout.contains("r1 ") && stdout.contains("r8 "), "{stdout}");
        let r = read_json(&out.join("result.json"));
        assert_eq!(r["task"], "retrieval", "{r}");
        assert_eq!(
            (
                r["test"]["train_classes"].as_u64(),
                r["test"]["classes"].as_u64()
            ),
            (Some(5), Some(10))
        );
        let (r1, r8) = (
            r["test"]["r1"].as_f64().unwrap(),
            r["test"]["r8"].as_f64().unwrap(),
        );
        assert!((0.0..=1.0).contains(&r1) && r1 <= r8, "{r}");
        assert!(
            r["curve"][0]["val"]["recall"]
                .as_array()
                .is_some_and(|v| v.len() == 4)
        );
    }
    // SupReMix on the embedded Airfoil: a ridge head on the embedding, regression metrics.
    let out = tmp.path().join("supremix");
    let args = airfoil(&out, &["--method", "supremix", "--param", "dim=16"]);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["task"], "regression", "{r}");
    assert!(r["test"]["rmse"].as_f64().unwrap().is_finite(), "{r}");
    // CLEM on the embedded Airfoil: the value as 2 decoded digits; digits out of range are refused.
    let out = tmp.path().join("clem");
    let args = airfoil(
        &out,
        &[
            "--method", "clem", "--param", "dim=16", "--param", "digits=2",
        ],
    );
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["task"], "regression", "{r}");
    assert!(r["test"]["rmse"].as_f64().unwrap().is_finite(), "{r}");
    let bad = tmp.path().join("clem-bad");
    let args = airfoil(&bad, &["--method", "clem", "--param", "digits=9"]);
    let e = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(e.contains("digits"), "{e}");
}

#[test]
fn geomix_pairs_two_datasets_and_replays_from_its_config() {
    let tmp = tempfile::tempdir().unwrap();
    // Digits against digits through two separate MLP towers: the pairing plumbing without the full data.
    let out = tmp.path().join("geomix");
    let pair = [
        "train",
        "--dataset",
        "digits",
        "--paired-dataset",
        "digits",
        "--model",
        "two-tower",
        "--model-param",
        "a={kind=\"mlp\", hidden=[16]}",
        "--model-param",
        "b={kind=\"mlp\", hidden=[16]}",
        "--method",
        "geomix",
        "--param",
        "dim=8",
        "--limit",
        "300",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--quiet",
        "--out",
    ];
    let mut a = pair.to_vec();
    a.push(s(&out));
    let stdout = ok(&a);
    assert!(
        stdout.contains("b2a_r1") && stdout.contains("alignment"),
        "{stdout}"
    );
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["task"], "cross-modal", "{r}");
    assert!(
        r["test"]["alignment"].as_f64().is_some_and(f64::is_finite),
        "{r}"
    );
    let cfg = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        cfg.contains("paired = \"digits\"") && cfg.contains("b_input"),
        "{cfg}"
    );
    // The recorded config alone reproduces the run.
    let again = tmp.path().join("again");
    ok(&[
        "train",
        "--config",
        s(&out.join("config.toml")),
        "--quiet",
        "--out",
        s(&again),
    ]);
    assert_eq!(read_json(&again.join("result.json"))["test"], r["test"]);
    // Without the paired dataset, or paired with a regression set, it stops before training.
    let e = fails(&[
        "train",
        "--dataset",
        "digits",
        "--model",
        "two-tower",
        "--method",
        "geomix",
        "--limit",
        "300",
        "--out",
        s(&tmp.path().join("x1")),
    ]);
    assert!(e.contains("paired"), "{e}");
    let mut bad = pair.to_vec();
    bad[4] = "airfoil";
    let x2 = tmp.path().join("x2");
    bad.push(s(&x2));
    let e = fails(&bad);
    assert!(e.contains("regression targets"), "{e}");
    assert!(!x2.join("result.json").exists());
}

#[test]
fn bad_representation_hyper_parameters_fail_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let outs: Vec<_> = (0..9).map(|k| tmp.path().join(format!("x{k}"))).collect();
    let run = |out: &std::path::Path, extra: &[&str]| {
        let args = airfoil(out, extra);
        fails(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let e = run(&outs[0], &["--method", "c-mixup", "--param", "bandwidth=0"]);
    assert!(e.contains("bandwidth") && e.contains("> 0"), "{e}");
    let e = run(
        &outs[1],
        &["--method", "manifoldmix", "--param", "layers=[7]"],
    );
    assert!(e.contains("7, past the depth of mlp"), "{e}");
    let digits = |out: &std::path::Path, extra: &[&str]| {
        let mut a = vec!["train", "--epochs", "1", "--out", s(out)];
        a.extend_from_slice(&tiny_digits());
        a.extend_from_slice(extra);
        fails(&a)
    };
    let e = digits(&outs[2], &["--method", "c-mixup"]);
    assert!(e.contains("regression method"), "{e}");
    let e = digits(&outs[3], &["--method", "rankmixup", "--param", "margin=-1"]);
    assert!(e.contains("margin") && e.contains("-1"), "{e}");
    let e = digits(
        &outs[4],
        &["--teacher", s(tmp.path()), "--kd-temperature", "2"],
    );
    assert!(e.contains("checkpoint"), "{e}");
    let e = digits(&outs[5], &["--method", "supremix"]);
    assert!(e.contains("supremix is a regression method"), "{e}");
    let e = run(&outs[6], &["--method", "metrix"]);
    assert!(e.contains("regression targets"), "{e}");
    let e = digits(
        &outs[7],
        &["--method", "metrix", "--param", "neg_margin=-0.5"],
    );
    assert!(e.contains("neg_margin") && e.contains("-0.5"), "{e}");
    let e = digits(&outs[8], &["--method", "mimix", "--param", "layers=[9]"]);
    assert!(e.contains("9, past the depth of cnn"), "{e}");
    for out in &outs {
        assert!(!out.join("result.json").exists());
    }
}
