//! `mixlab datasets`: lists every known dataset; the embedded ones are found without any data folder.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use crate::common::{fails, ok, s};

const NAMES: [&str; 11] = [
    "mnist",
    "fashion-mnist",
    "cifar10",
    "cifar100",
    "cifar100-coarse",
    "digits",
    "fsdd",
    "airfoil",
    "exchange-rate",
    "communities-crime",
    "skillcraft",
];

/// The `found` column of each dataset row.
fn found(out: &str, name: &str) -> bool {
    let row = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{out}"));
    match row.split_whitespace().nth(2) {
        Some("yes") => true,
        Some("no") => false,
        other => panic!("row of {name} has found = {other:?}: {row}"),
    }
}

#[test]
fn lists_all_datasets() {
    let out = ok(&["datasets"]);
    for n in NAMES {
        found(&out, n);
    }
    assert!(found(&out, "digits") && found(&out, "airfoil"), "{out}");
    assert!(
        !found(&out, "mnist"),
        "mnist found without a data dir:\n{out}"
    );
}

#[test]
fn empty_data_dir_still_has_embedded_sets() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(&["datasets", "--data-dir", s(tmp.path())]);
    assert!(out.contains(s(tmp.path())), "data dir not reported:\n{out}");
    for n in NAMES {
        let expect = n == "digits" || n == "airfoil";
        assert_eq!(found(&out, n), expect, "{n}:\n{out}");
    }
}

/// A folder of the user's data among mixlab-data's fixtures (cut from real CIFAR-10, Fashion-MNIST, iris, Airfoil).
fn own(rel: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mixlab-data/tests/fixtures/own")
        .join(rel)
        .display()
        .to_string()
}

fn result(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap()
}

#[test]
fn own_image_folders_csv_tables_and_npy_arrays_train_and_replay() {
    let d = tempfile::tempdir().unwrap();
    let runs = [
        (
            format!("image-folder:{}", own("fashion-folder")),
            "cnn",
            "cutmix",
        ),
        (
            format!("image-folder:{},size=24x24", own("cifar-folder")),
            "cnn",
            "mixup",
        ),
        (format!("npy:{}", own("fashion-npy")), "cnn", "fmix"),
        (format!("csv:{}", own("iris.csv")), "mlp", "mixup"),
        (
            format!("csv:{},target=sound_pressure", own("airfoil.csv")),
            "mlp",
            "none",
        ),
    ];
    for (i, (spec, model, method)) in runs.iter().enumerate() {
        let out = d.path().join(format!("run{i}"));
        ok(&[
            "train",
            "--dataset",
            spec,
            "--model",
            model,
            "--method",
            method,
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--quiet",
            "--out",
            s(&out),
        ]);
        let r = result(&out);
        assert!(r["data"]["n_train"].as_u64().unwrap() > 0, "{spec}: {r}");
        // The recorded config names the files absolutely and replays to the same test metrics.
        let cfg = std::fs::read_to_string(out.join("config.toml")).unwrap();
        let abs = std::path::absolute(own("")).unwrap();
        assert!(cfg.contains(&abs.display().to_string()), "{cfg}");
        let again = d.path().join(format!("again{i}"));
        ok(&[
            "train",
            "--config",
            s(&out.join("config.toml")),
            "--quiet",
            "--out",
            s(&again),
        ]);
        assert_eq!(result(&again)["test"], r["test"], "{spec}");
    }
    assert!(result(&d.path().join("run4"))["test"]["rmse"].is_number());
    assert!(result(&d.path().join("run3"))["test"]["ece15"].is_number());
}

#[test]
fn broken_own_data_gives_one_line_errors() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("imgs");
    for class in ["cat", "truck"] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for e in std::fs::read_dir(own(&format!("cifar-folder/{class}"))).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), root.join(class).join(e.file_name())).unwrap();
        }
    }
    let png = std::fs::read(
        std::fs::read_dir(root.join("cat"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    std::fs::write(root.join("truck/cut.png"), &png[..png.len() / 3]).unwrap();
    let ragged = d.path().join("ragged.csv");
    std::fs::write(&ragged, "a,b,y\n1,2,3\n4,5\n").unwrap();
    for (spec, why) in [
        (
            format!("image-folder:{}", s(&root)),
            "cut.png: not a readable PNG or JPEG image",
        ),
        (
            format!("csv:{}", s(&ragged)),
            "line 3 has 2 fields, expected 3",
        ),
        (
            format!("csv:{},target=z", s(&ragged)),
            "no target column \"z\"",
        ),
        (format!("npy:{}", s(d.path())), "x_train.npy"),
        ("tiff:x".to_string(), "image-folder:DIR"),
    ] {
        let e = fails(&[
            "train",
            "--dataset",
            &spec,
            "--epochs",
            "1",
            "--quiet",
            "--out",
            s(&d.path().join("o")),
        ]);
        assert!(e.contains(why), "{spec}: {e}");
        assert!(e.trim_end().lines().count() <= 3, "{spec}: {e}");
    }
}
