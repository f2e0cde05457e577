//! Records the git commit and compiler version in the binary, for run records (`result.json`).

use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
    // An edit to any source makes the tree dirty without moving HEAD: watch the sources too (Cargo scans
    // a directory for changed files), or a build from an edited tree records a clean commit.
    for dir in [
        "../../crates",
        "../../suites",
        "../../Cargo.toml",
        "../../Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={dir}");
    }
    let rev = run("git", &["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    let dirty = run("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    let rev = if dirty && !rev.is_empty() {
        format!("{rev}-dirty")
    } else {
        rev
    };
    println!("cargo:rustc-env=MIXLAB_GIT_REV={rev}");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    println!(
        "cargo:rustc-env=MIXLAB_RUSTC_VERSION={}",
        run(&rustc, &["--version"]).unwrap_or_default()
    );
}
