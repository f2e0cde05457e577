//! The real `mixlab` binary on a corpus of malformed inputs (`tests/fixtures/malformed/`, written by
//! `tools/malformed/make_malformed.py`): broken dataset files in data directories laid out like the real one,
//! absurd or broken suites and run configs, bad `plan` options, and outputs that cannot be written.
//!
//! Every case must fail at load or validation time, before any training, with a non-zero exit, exactly one
//! stderr line that starts with `error:` and names the file or the option, no panic, and nothing in the
//! output folder that a later `mixlab report` or `--resume` could take for a finished result.

use crate::common::{fixture, mixlab, mixlab_std, s};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A file or folder of the malformed corpus.
fn corpus(rel: &str) -> PathBuf {
    fixture("malformed").join(rel)
}

/// Runs `mixlab args…` and checks the clean-failure contract; returns the single stderr line.
fn refused(args: &[&str]) -> String {
    // Every case fails before training; the timeout turns a case that trains (or hangs) instead into a
    // failure below rather than a stuck test run.
    let out = mixlab()
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .timeout(Duration::from_secs(60))
        .output()
        .expect("mixlab runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "mixlab {args:?} should fail but succeeded; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.status.code().is_some(),
        "mixlab {args:?} died from a signal ({}): {stderr}",
        out.status
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "mixlab {args:?} panicked:\n{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("error: ") && lines[0].len() > "error: ".len(),
        "mixlab {args:?}: stderr must be exactly one `error: …` line, got {} lines:\n{stderr}",
        lines.len()
    );
    lines[0].to_string()
}

/// Asserts that `dir` holds nothing that reads as a finished run, report or plot.
fn nothing_complete(dir: &Path) {
    const FINISHED: [&str; 6] = [
        "result.json",
        "results.json",
        "results.md",
        "results.csv",
        "checkpoint.json",
        "config.toml",
    ];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.expect("readable entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            assert!(
                !FINISHED.contains(&name) && !name.ends_with(".png"),
                "a failed command left {} behind",
                p.display()
            );
        }
    }
}

/// One broken file in a data directory: the case folder, the dataset it breaks, the broken file (relative to
/// the case folder) and what the message must say about it.
struct DataCase {
    case: &'static str,
    dataset: &'static str,
    file: &'static str,
    says: &'static str,
}

const DATA_CASES: [DataCase; 17] = [
    DataCase {
        case: "idx-truncated",
        dataset: "mnist",
        file: "mnist/train-images-idx3-ubyte",
        says: "truncated record 2 of 4",
    },
    DataCase {
        case: "idx-truncated-gz",
        dataset: "mnist",
        file: "mnist/train-images-idx3-ubyte.gz",
        says: "truncated record 2 of 4",
    },
    DataCase {
        case: "idx-wrong-magic",
        dataset: "fashion-mnist",
        file: "fashion-mnist/train-images-idx3-ubyte",
        says: "bad magic 0x00000801, expected 0x00000803",
    },
    DataCase {
        case: "idx-huge-count",
        dataset: "mnist",
        file: "mnist/train-images-idx3-ubyte",
        says: "header claims 4294967295 images of 28x28 (3367254359280 bytes), more than the cap of 2147483648 bytes",
    },
    DataCase {
        case: "idx-huge-image",
        dataset: "mnist",
        file: "mnist/train-images-idx3-ubyte",
        says: "header claims 1 image of 4294967295x4294967295 (18446744065119617025 bytes), more than the cap",
    },
    DataCase {
        case: "idx-short-header",
        dataset: "mnist",
        file: "mnist/train-images-idx3-ubyte",
        says: "file ends inside the IDX header (6 of 16 bytes)",
    },
    DataCase {
        case: "cifar-wrong-length",
        dataset: "cifar10",
        file: "cifar10/data_batch_1.bin",
        says: "size 6153 bytes is not a multiple of the 3073-byte record",
    },
    DataCase {
        case: "cifar-bad-label",
        dataset: "cifar10",
        file: "cifar10/data_batch_1.bin",
        says: "record 3: label 10 is not below 10",
    },
    DataCase {
        case: "csv-nan",
        dataset: "skillcraft",
        file: "skillcraft/SkillCraft1_Dataset.csv",
        says: "line 5, column 6: cell must be a finite number, got \"NaN\"",
    },
    DataCase {
        case: "csv-missing-cell",
        dataset: "exchange-rate",
        file: "exchange-rate/exchange_rate.txt",
        says: "line 4 has 7 fields, expected 8",
    },
    DataCase {
        case: "csv-empty-cell",
        dataset: "communities-crime",
        file: "communities-crime/communities.data",
        says: "line 2, column 10: cell is empty",
    },
    DataCase {
        case: "wav-wrong-rate",
        dataset: "fsdd",
        file: "fsdd/recordings/0_jackson_5.wav",
        says: "sample rate 16000 Hz, expected 8000 Hz",
    },
    DataCase {
        case: "wav-8bit",
        dataset: "fsdd",
        file: "fsdd/recordings/0_jackson_5.wav",
        says: "bits per sample 8, expected 16",
    },
    DataCase {
        case: "wav-stereo",
        dataset: "fsdd",
        file: "fsdd/recordings/0_jackson_5.wav",
        says: "channels 2, expected 1 (mono)",
    },
    DataCase {
        case: "wav-truncated",
        dataset: "fsdd",
        file: "fsdd/recordings/0_jackson_5.wav",
        says: "data chunk claims 800 samples (1600 bytes) but the file has 144 bytes",
    },
    DataCase {
        case: "wav-huge-claim",
        dataset: "fsdd",
        file: "fsdd/recordings/0_jackson_5.wav",
        says: "header claims 2147483640 samples (4294967280 bytes), more than the cap of 134217728 bytes",
    },
    DataCase {
        case: "wav-not-riff",
        dataset: "fsdd",
        file: "fsdd/recordings/0_jackson_5.wav",
        says: "invalid WAV: Ill-formed WAVE file: no RIFF tag found",
    },
];

/// The message names the broken file by its full path, says what is wrong, and says it once.
fn check_data_message(c: &DataCase, e: &str) {
    let file = corpus("data").join(c.case).join(c.file);
    let named = format!("{}: {}", file.display(), c.says);
    assert!(
        e.contains(&named),
        "{}: expected {named:?} in {e:?}",
        c.case
    );
    assert_eq!(
        e.matches(c.says).count(),
        1,
        "{}: cause repeated: {e}",
        c.case
    );
}

#[test]
fn broken_dataset_files_are_refused_by_train() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for c in &DATA_CASES {
        let data = corpus("data").join(c.case);
        let out = tmp.path().join(format!("train-{}", c.case));
        let e = refused(&[
            "train",
            "--dataset",
            c.dataset,
            "--data-dir",
            s(&data),
            "--epochs",
            "1",
            "--limit",
            "32",
            "--out",
            s(&out),
            "--quiet",
        ]);
        check_data_message(c, &e);
        nothing_complete(&out);
    }
}

#[test]
fn broken_dataset_files_are_refused_by_show() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for c in &DATA_CASES {
        let data = corpus("data").join(c.case);
        let png = tmp.path().join(format!("{}.png", c.case));
        let e = refused(&[
            "show",
            "--dataset",
            c.dataset,
            "--data-dir",
            s(&data),
            "--out",
            s(&png),
        ]);
        check_data_message(c, &e);
        assert!(!png.exists(), "{}: show wrote {}", c.case, png.display());
    }
    nothing_complete(tmp.path());
}

#[test]
fn broken_dataset_files_are_refused_by_bench() {
    // A one-cell suite per broken dataset, written next to the outputs.
    let tmp = tempfile::tempdir().expect("tempdir");
    for c in &DATA_CASES {
        let model = match c.dataset {
            "mnist" | "fashion-mnist" | "cifar10" => "cnn",
            "fsdd" => "cnn1d",
            _ => "mlp",
        };
        let suite = tmp.path().join(format!("{}.toml", c.case));
        std::fs::write(
            &suite,
            format!(
                "name = \"broken\"\nseeds = 1\n\n[[experiment]]\ndataset = \"{}\"\nmodel = \"{model}\"\n\
                 epochs = 1\nbatch_size = 8\nlr = 0.01\nlimit = 32\nmethods = [\"mixup\"]\n",
                c.dataset
            ),
        )
        .expect("write suite");
        let out = tmp.path().join(format!("bench-{}", c.case));
        let data = corpus("data").join(c.case);
        let e = refused(&[
            "bench",
            "--suite",
            s(&suite),
            "--data-dir",
            s(&data),
            "--out",
            s(&out),
            "--quiet",
        ]);
        check_data_message(c, &e);
        nothing_complete(&out);
    }
}

#[test]
fn datasets_lists_broken_folders_without_parsing_them() {
    // `mixlab datasets` only checks that the files exist, so a broken file is listed as found; what matters
    // is that odd folders never make it panic or fail.
    for c in &DATA_CASES {
        let data = corpus("data").join(c.case);
        let out = mixlab()
            .args(["datasets", "--data-dir", s(&data)])
            .output()
            .expect("mixlab runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}: {out:?}", c.case);
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{} ", c.dataset)))
            .unwrap_or_else(|| panic!("{}: no line for {}:\n{stdout}", c.case, c.dataset));
        assert!(line.contains(s(&data)), "{}: {line}", c.case);
    }
}

/// Suites of the corpus and what the error must name (an option, a value, or the file).
const SUITE_CASES: [(&str, &[&str]); 16] = [
    ("negative-alpha", &["alpha", "-1"]),
    ("zero-epochs", &["epochs", "0"]),
    ("negative-epochs", &["negative-epochs.toml", "epochs"]),
    ("unknown-method", &["unknown-method.toml", "nosuchmethod"]),
    ("unknown-method-table", &["nosuchmethod"]),
    ("unknown-method-param", &["alpah"]),
    ("unknown-dataset", &["unknown-dataset.toml", "nosuchset"]),
    ("unknown-model", &["model", "nosuchmodel"]),
    ("unknown-key", &["unknown-key.toml", "colour"]),
    ("syntax-error", &["syntax-error.toml", "line 1"]),
    ("zero-batch", &["batch size", "0"]),
    ("huge-batch", &["batch size", "1000000000000"]),
    ("negative-lr", &["learning rate", "-0.1"]),
    ("nan-lr", &["learning rate", "NaN"]),
    ("seeds-zero", &["seed"]),
    ("seeds-huge", &["seeds", "100000"]),
];

#[test]
fn absurd_suites_are_refused_before_training() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (case, names) in SUITE_CASES {
        let suite = corpus(&format!("suites/{case}.toml"));
        let out = tmp.path().join(case);
        let e = refused(&["bench", "--suite", s(&suite), "--out", s(&out), "--quiet"]);
        for n in names {
            assert!(e.contains(n), "suite {case}: {n:?} not named in {e:?}");
        }
        nothing_complete(&out);
    }
}

#[test]
fn broken_run_configs_are_refused_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (case, says) in [
        ("syntax-error", "line 2"),
        ("unknown-dataset", "nosuchset"),
        ("missing-train", "train"),
        ("not-utf8", "UTF-8"),
    ] {
        let config = corpus(&format!("configs/{case}.toml"));
        let out = tmp.path().join(case);
        let e = refused(&["train", "--config", s(&config), "--out", s(&out), "--quiet"]);
        assert!(
            e.contains(s(&config)) && e.contains(says),
            "config {case}: {e}"
        );
        nothing_complete(&out);
    }
}

#[test]
fn bad_plan_shapes_and_params_name_the_option() {
    for (args, says) in [
        (&["--shape", "3x0x32"][..], "--shape"),
        (&["--shape", "0x8x8"], "--shape"),
        (&["--shape", "3x8x8x8x8"], "--shape"),
        (&["--shape", "3xx8"], "--shape"),
        (&["--shape", "3x99999999999x99999999999"], "--shape"),
        (&["--shape", "1x18446744073709551616"], "--shape"),
        (&["--batch", "0"], "--batch"),
        (&["--batch", "1000000000000", "--shape", "1x2"], "--batch"),
        (&["--param", "alpha=-1"], "alpha"),
        (&["--param", "alpha=nan"], "alpha"),
        (&["--param", "nosuch=1"], "nosuch"),
        (&["--param", "alpha=[1,2]"], "mixup"),
        (&["--param", "alpha"], "--param"),
        (
            &["--method", "mixup,cutmix", "--method-weights", "1,-1"],
            "weight",
        ),
        (
            &["--method", "mixup,cutmix", "--method-weights", "1"],
            "weight",
        ),
        (&["--prob", "2"], "prob"),
        (&["--smoothing", "1.5"], "smoothing"),
        (
            &["--method", "gridmix", "--param", "n_holes=[0,0]"],
            "n_holes",
        ),
        (&["--method", "fmix", "--decay-power", "-1"], "decay"),
    ] {
        let mut all = vec!["plan"];
        all.extend_from_slice(args);
        let e = refused(&all);
        assert!(
            e.contains(says),
            "plan {args:?}: {says:?} not named in {e:?}"
        );
    }
}

#[test]
fn output_under_a_regular_file_is_refused_and_leaves_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a folder").expect("write");
    let under = file.join("run");
    let e = refused(&[
        "train",
        "--dataset",
        "digits",
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--limit",
        "32",
        "--out",
        s(&under),
        "--quiet",
    ]);
    assert!(e.contains(s(&file)), "{e}");
    let e = refused(&[
        "show",
        "--dataset",
        "digits",
        "--out",
        s(&file.join("x.png")),
    ]);
    assert!(e.contains(s(&file)), "{e}");
    let e = refused(&[
        "bench",
        "--suite",
        s(&crate::common::fixture("bench_tiny.toml")),
        "--out",
        s(&under),
        "--quiet",
    ]);
    assert!(e.contains(s(&file)), "{e}");
    assert_eq!(
        std::fs::read(&file).expect("read"),
        b"not a folder",
        "the blocking file was changed"
    );
    nothing_complete(tmp.path());
}

/// Runs a short digits training under a file-size limit (`ulimit -f`, with SIGXFSZ ignored so an oversized
/// write fails with EFBIG instead of killing the process). The kernel then refuses a write part-way through
/// a file exactly as a full disk would, in the release binary, without root or a test hook. Returns whether
/// the run succeeded, after checking the failure contract when it did not.
fn train_with_file_limit(blocks: u32, out: &Path) -> bool {
    let bin = assert_cmd::cargo::cargo_bin("mixlab");
    let script = format!(
        "trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" train --dataset digits --model mlp --model-param \
         hidden=[16] --epochs 2 --limit 64 --batch-size 16 --out \"$1\" --quiet"
    );
    let run = std::process::Command::new("sh")
        .args(["-c", &script, s(&bin), s(out)])
        .env_remove("MIXLAB_DATA")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("sh runs");
    if run.status.success() {
        return true;
    }
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.code().is_some(),
        "limit {blocks}: killed by a signal ({}): {stderr}",
        run.status
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("error: ") && !stderr.contains("panicked"),
        "limit {blocks}: stderr must be one `error:` line:\n{stderr}"
    );
    assert!(
        lines[0].contains(s(out)),
        "limit {blocks}: the failed write does not name its file: {stderr}"
    );
    assert_eq!(
        lines[0].matches("(os error").count(),
        1,
        "limit {blocks}: the OS error is repeated: {stderr}"
    );
    // The run failed: nothing may read as finished, and no temp file may be left to be taken for one. A
    // checkpoint of an epoch that completed may stay (resume continues from it; checked by the caller).
    for done in ["result.json", "reliability.png"] {
        assert!(
            !out.join(done).exists(),
            "limit {blocks}: {done} written by a failed run"
        );
    }
    no_temp_files(out, blocks);
    false
}

fn no_temp_files(dir: &Path, blocks: u32) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.expect("readable entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                assert!(
                    !name.contains(".tmp"),
                    "limit {blocks}: temp file {} left behind",
                    p.display()
                );
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn full_disk_midway_leaves_no_finished_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Limits from one block (the first write fails) up to enough for the whole run: each stops the run at a
    // different file (config, checkpoint, result, plot). The largest must succeed, or the sweep proved nothing.
    let mut failed = 0;
    let mut succeeded = false;
    for blocks in [1, 2, 4, 16, 64, 128, 256, 512, 100_000] {
        let out = tmp.path().join(format!("limit-{blocks}"));
        if train_with_file_limit(blocks, &out) {
            succeeded = true;
            assert!(out.join("result.json").is_file(), "limit {blocks}");
        } else {
            failed += 1;
            // Resuming without the limit finishes the run normally: the failure left nothing half-written
            // that resume would trust.
            let again = mixlab()
                .args([
                    "train",
                    "--dataset",
                    "digits",
                    "--model",
                    "mlp",
                    "--model-param",
                    "hidden=[16]",
                    "--epochs",
                    "2",
                    "--limit",
                    "64",
                    "--batch-size",
                    "16",
                    "--out",
                    s(&out),
                    "--quiet",
                    "--resume",
                ])
                .output()
                .expect("mixlab runs");
            assert!(
                again.status.success(),
                "limit {blocks}: resume after the failure failed: {}",
                String::from_utf8_lossy(&again.stderr)
            );
            let result: serde_json::Value = serde_json::from_slice(
                &std::fs::read(out.join("result.json")).expect("result.json after resume"),
            )
            .expect("result.json is JSON");
            assert!(result.is_object(), "limit {blocks}");
        }
    }
    assert!(succeeded, "no limit was large enough for a whole run");
    assert!(failed >= 3, "only {failed} limits made the run fail");
}

#[cfg(target_os = "linux")]
#[test]
fn stdout_on_a_full_device_is_an_error_not_a_panic() {
    for args in [&["plan"][..], &["datasets"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists on Linux");
        let out = mixlab_std()
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .stdout(full)
            .output()
            .expect("mixlab runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded on a full stdout");
        assert!(
            !stderr.contains("panicked")
                && stderr.lines().count() == 1
                && stderr.starts_with("error: "),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("stdout"), "{args:?}: {stderr}");
    }
}
