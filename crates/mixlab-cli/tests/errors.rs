//! Failures a user can provoke: each ends with a non-zero exit and one `error:` line, never a panic.

use crate::common::{fails, ok, s, tiny_digits};
use std::io::Write;
use std::path::Path;

#[test]
fn bad_plan_options() {
    let e = fails(&["plan", "--method", "mixup", "--alpha", "-1"]);
    assert!(e.contains("alpha") && e.contains("-1"), "{e}");
    let e = fails(&["plan", "--method", "nosuchmethod"]);
    assert!(e.contains("nosuchmethod"), "{e}");
    let e = fails(&["plan", "--shape", "3x0x32"]);
    assert!(e.contains("3x0x32"), "{e}");
    let e = fails(&["plan", "--decay-power", "2", "--method", "mixup"]);
    assert!(e.contains("--decay-power") && e.contains("mixup"), "{e}");
    let e = fails(&["plan", "--granularity", "pair", "--pairing", "roll"]);
    assert!(e.contains("pair") && e.contains("roll"), "{e}");
    let e = fails(&["plan", "--batch", "3", "--labels", "0,1", "--classes", "3"]);
    assert!(e.contains('3') && e.contains('2'), "{e}");
    let e = fails(&["plan", "--batch", "0"]);
    assert!(e.contains("batch"), "{e}");
}

fn gz(path: &Path, bytes: &[u8]) {
    // Stored (uncompressed) deflate blocks: a valid gzip file without a compression dependency.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let chunks: Vec<&[u8]> = bytes.chunks(65535).collect();
    for (i, c) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let n = c.len() as u16;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32(bytes).to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(&out))
        .expect("write gz");
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn idx(magic: u32, dims: &[u32], payload: usize) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend(std::iter::repeat_n(0u8, payload));
    v
}

/// A data dir with an MNIST whose training images stop after one record and a CIFAR-10 whose batch is
/// 100 bytes (not a whole 3073-byte record).
fn broken_data_dir(root: &Path) {
    let m = root.join("mnist");
    std::fs::create_dir_all(&m).expect("create data folder");
    gz(
        &m.join("train-images-idx3-ubyte.gz"),
        &idx(2051, &[60000, 28, 28], 1000),
    );
    gz(
        &m.join("train-labels-idx1-ubyte.gz"),
        &idx(2049, &[60000], 60000),
    );
    gz(
        &m.join("t10k-images-idx3-ubyte.gz"),
        &idx(2051, &[10, 28, 28], 7840),
    );
    gz(&m.join("t10k-labels-idx1-ubyte.gz"), &idx(2049, &[10], 10));
    let c = root.join("cifar10");
    std::fs::create_dir_all(&c).expect("create data folder");
    std::fs::write(c.join("data_batch_1.bin"), [200u8; 100]).expect("write CIFAR file");
    std::fs::write(c.join("test_batch.bin"), [200u8; 100]).expect("write CIFAR file");
    // Fashion-MNIST with a wrong magic number in the training images.
    let f = root.join("fashion-mnist");
    std::fs::create_dir_all(&f).expect("create data folder");
    gz(
        &f.join("train-images-idx3-ubyte.gz"),
        &idx(0x0803_0000, &[1, 28, 28], 784),
    );
    gz(&f.join("train-labels-idx1-ubyte.gz"), &idx(2049, &[1], 1));
    gz(
        &f.join("t10k-images-idx3-ubyte.gz"),
        &idx(2051, &[1, 28, 28], 784),
    );
    gz(&f.join("t10k-labels-idx1-ubyte.gz"), &idx(2049, &[1], 1));
}

#[test]
fn broken_data_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    broken_data_dir(&data);
    let png = tmp.path().join("show.png");
    for (ds, needle) in [
        ("mnist", "train-images-idx3-ubyte.gz"),
        ("cifar10", "data_batch_1.bin"),
        ("fashion-mnist", "train-images-idx3-ubyte.gz"),
    ] {
        let e = fails(&[
            "show",
            "--dataset",
            ds,
            "--data-dir",
            s(&data),
            "--out",
            s(&png),
        ]);
        assert!(e.contains(needle), "show {ds}: {e}");
        assert!(!png.exists(), "show {ds} wrote a PNG");
        let out = tmp.path().join(format!("train-{ds}"));
        let e = fails(&[
            "train",
            "--dataset",
            ds,
            "--data-dir",
            s(&data),
            "--out",
            s(&out),
            "--quiet",
        ]);
        assert!(e.contains(needle), "train {ds}: {e}");
        assert!(!out.join("result.json").exists());
    }
}

#[test]
fn missing_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let e = fails(&["train", "--dataset", "mnist", "--out", s(&out), "--quiet"]);
    assert!(e.contains("mnist") && e.contains("--data-dir"), "{e}");
    let nowhere = tmp.path().join("no-such-dir");
    let e = fails(&[
        "train",
        "--dataset",
        "mnist",
        "--data-dir",
        s(&nowhere),
        "--out",
        s(&out),
        "--quiet",
    ]);
    assert!(e.contains("no-such-dir"), "{e}");
}

#[test]
fn unwritable_output() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("run");
    for out in [Path::new("/proc/forbidden"), under_file.as_path()] {
        let mut args = vec!["train", "--epochs", "1", "--out", s(out)];
        args.extend_from_slice(&tiny_digits());
        let e = fails(&args);
        assert!(e.contains(s(out)), "{e}");
    }
    let e = fails(&[
        "show",
        "--dataset",
        "digits",
        "--out",
        s(&file.join("x.png")),
    ]);
    assert!(e.contains("a-file"), "{e}");
    let e = fails(&[
        "bench",
        "--suite",
        s(&crate::common::fixture("bench_tiny.toml")),
        "--out",
        s(&under_file),
        "--quiet",
    ]);
    assert!(e.contains("a-file"), "{e}");
}

#[test]
fn unknown_names() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let e = fails(&[
        "train",
        "--dataset",
        "digits",
        "--model",
        "nosuchmodel",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("nosuchmodel"), "{e}");
    let e = fails(&["train", "--dataset", "nosuchset", "--out", s(&out)]);
    assert!(e.contains("nosuchset"), "{e}");
    let e = fails(&["bench", "--suite", "nosuchsuite", "--out", s(&out)]);
    assert!(e.contains("nosuchsuite"), "{e}");
    let e = fails(&[
        "train",
        "--dataset",
        "digits",
        "--model-param",
        "nosuchparam=1",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("nosuchparam"), "{e}");
    let e = fails(&[
        "train",
        "--config",
        s(&tmp.path().join("none.toml")),
        "--out",
        s(&out),
    ]);
    assert!(e.contains("none.toml"), "{e}");
    let e = fails(&["report", s(&tmp.path().join("no-bench"))]);
    assert!(e.contains("no-bench"), "{e}");
}

/// The help documents `--minmax 0.2,0.8` and `--scope 0.1,0.8`; that spelling must work.
#[test]
fn documented_pair_options_are_accepted() {
    let out = ok(&["plan", "--method", "cutmix", "--minmax", "0.2,0.8"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(
        v["mixer"]["methods"][0]["minmax"],
        serde_json::json!([0.2, 0.8])
    );
    let out = ok(&["plan", "--method", "resizemix", "--scope", "0.1,0.8"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(
        v["mixer"]["methods"][0]["scope"],
        serde_json::json!([0.1, 0.8])
    );
}

/// A non-finite α is refused with a message that names the option and the value.
#[test]
fn non_finite_alpha_names_the_option() {
    for bad in ["inf", "nan"] {
        let e = fails(&["plan", "--method", "mixup", "--alpha", bad]);
        assert!(
            e.contains("alpha") && e.to_lowercase().contains(bad),
            "--alpha {bad}: {e}"
        );
    }
}

/// A run that failed before training (no data) must not claim its folder for that config.
#[test]
fn failed_train_does_not_claim_the_output_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    fails(&["train", "--dataset", "mnist", "--out", s(&out), "--quiet"]);
    let mut args = vec!["train", "--epochs", "1", "--out", s(&out)];
    args.extend_from_slice(&tiny_digits());
    ok(&args);
    assert!(out.join("result.json").is_file());
}

/// Settings that need the data (MixMatch's unlabelled pool, a continual run's tasks) are checked before the
/// folder is claimed too.
#[test]
fn data_dependent_refusals_leave_no_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, extra) in [
        &["--method", "mixmatch"][..],
        &["--method", "none", "--tasks", "3", "--epochs", "3"][..],
    ]
    .into_iter()
    .enumerate()
    {
        let out = tmp.path().join(format!("run{i}"));
        let mut args = vec!["train", "--dataset", "digits", "--out", s(&out), "--quiet"];
        args.extend_from_slice(extra);
        let e = fails(&args);
        assert!(
            e.contains("labels_per_class") || e.contains("divisor"),
            "{e}"
        );
        assert!(!out.exists(), "{extra:?} left {}", out.display());
    }
}

#[test]
fn gpu_devices_and_suite_experiments_that_are_not_there() {
    // A build without the vulkan feature names the feature; a GPU suite refuses before training.
    if !cfg!(feature = "vulkan") {
        let e = fails(&["device-check", "--device", "vulkan"]);
        assert!(e.contains("--features vulkan"), "{e}");
        let out = tempfile::tempdir().expect("tempdir");
        let e = fails(&[
            "bench",
            "--suite",
            "gpu",
            "--experiment",
            "cifar10-resnet18-short",
            "--out",
            s(out.path()),
        ]);
        assert!(e.contains("vulkan"), "{e}");
    }
    let out = tempfile::tempdir().expect("tempdir");
    let e = fails(&[
        "bench",
        "--suite",
        "quick",
        "--experiment",
        "nosuch",
        "--out",
        s(out.path()),
    ]);
    assert!(e.contains("nosuch") && e.contains("digits-cnn"), "{e}");
    let e = fails(&["device-check", "--device", "tpu"]);
    assert!(e.contains("tpu"), "{e}");
}
