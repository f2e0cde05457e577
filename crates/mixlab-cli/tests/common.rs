//! Helpers shared by the CLI integration tests: running the binary, reading its JSON output, and the
//! tiny training options that keep every run to a fraction of a second.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The `mixlab` binary with `MIXLAB_DATA` cleared, so results do not depend on the caller's shell.
pub fn mixlab() -> Command {
    let mut c = Command::cargo_bin("mixlab").expect("mixlab binary is built");
    c.env_remove("MIXLAB_DATA");
    c
}

/// The same binary as a `std::process::Command`, for tests that must kill it mid-run.
pub fn mixlab_std() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("mixlab"));
    c.env_remove("MIXLAB_DATA");
    c
}

/// A file in `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// Options of a small CNN (two conv stages, 32 hidden units).
pub const TINY_CNN: &[&str] = &[
    "--model",
    "cnn",
    "--model-param",
    "channels=[8,16]",
    "--model-param",
    "hidden=32",
];

/// The digits subset of the quick runs: 300 records per split, batches of 32, no progress bars.
pub const DIGITS_300: &[&str] = &[
    "--dataset",
    "digits",
    "--limit",
    "300",
    "--batch-size",
    "32",
    "--quiet",
];

/// Options of a CNN run on a digits subset that takes well under a second.
pub fn tiny_digits() -> Vec<&'static str> {
    [DIGITS_300, TINY_CNN].concat()
}

/// Runs `mixlab args…` expecting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = mixlab().args(args).output().expect("mixlab runs");
    assert!(
        out.status.success(),
        "mixlab {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs `mixlab args…` expecting a clean failure: non-zero exit, no panic, and (except for clap usage
/// errors, exit 2) exactly one stderr line starting with `error:`. Returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = mixlab().args(args).output().expect("mixlab runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code();
    assert!(
        !out.status.success(),
        "mixlab {args:?} should fail but succeeded; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        code.is_some(),
        "mixlab {args:?} died from a signal: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "mixlab {args:?} panicked:\n{stderr}"
    );
    assert!(
        stderr.starts_with("error:"),
        "mixlab {args:?}: stderr does not start with 'error:':\n{stderr}"
    );
    if code != Some(2) {
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "mixlab {args:?} (exit {code:?}): stderr is not one line:\n{stderr}"
        );
    }
    stderr
}

/// Parses a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The file as a string, with a message naming it on failure.
pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A PNG that is really a PNG: the 8-byte signature and more than a header's worth of data.
pub fn assert_png(path: &Path) {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        bytes.starts_with(&[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']),
        "{} is not a PNG",
        path.display()
    );
    assert!(
        bytes.len() > 1000,
        "{} is only {} bytes",
        path.display(),
        bytes.len()
    );
}

/// The per-epoch curve without the timing fields, which differ between identical runs.
pub fn curve_metrics(result: &Value) -> Value {
    let mut curve = result["curve"].clone();
    for rec in curve.as_array_mut().expect("curve is an array") {
        let obj = rec.as_object_mut().expect("curve record is an object");
        obj.retain(|k, _| !k.contains("wall") && !k.contains("samples_per_s"));
    }
    curve
}

/// Waits (polling) until `cond` holds or `timeout` passes; returns whether it held.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    cond()
}

/// A path as &str (temp dirs are UTF-8 here).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}
