//! Killing `mixlab train` mid-run and resuming it: the result equals an uninterrupted run, a folder with
//! a checkpoint is not silently restarted, and `result.json` only appears once the run is finished.

use crate::common::{TINY_CNN, curve_metrics, fails, mixlab_std, ok, read_json, s, wait_for};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const EPOCHS: &str = "40";

fn args<'a>(out: &'a Path, method: &'a str) -> Vec<&'a str> {
    let mut a = vec!["train", "--dataset", "digits"];
    a.extend_from_slice(TINY_CNN);
    a.extend_from_slice(&[
        "--batch-size",
        "32",
        "--epochs",
        EPOCHS,
        "--method",
        method,
        "--quiet",
        "--out",
        s(out),
    ]);
    a
}

fn epochs_done(out: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(out.join("checkpoint").join("checkpoint.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["epochs_done"].as_u64()
}

#[test]
fn killed_run_resumes_to_the_same_result() {
    killed_and_resumed("cutmix");
}

/// A learned mixer keeps six strategy files (MixBlock, mix head, their optimisers, the momentum copies)
/// beside the model: a kill at any point resumes them too.
#[test]
fn killed_automix_run_resumes_its_mixblock_and_momentum_encoder() {
    killed_and_resumed("automix");
}

fn killed_and_resumed(method: &str) {
    let args = |out| args(out, method);
    let tmp = tempfile::tempdir().expect("temporary folder");
    let killed = tmp.path().join("killed");
    let mut child = mixlab_std()
        .args(args(&killed))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mixlab");
    let mut result_seen_early = false;
    let reached = wait_for(Duration::from_secs(120), || {
        result_seen_early |= killed.join("result.json").exists();
        epochs_done(&killed).is_some_and(|e| e >= 1)
    });
    let still_running = child.try_wait().expect("try_wait").is_none();
    child.kill().expect("kill mixlab");
    child.wait().expect("reap mixlab");
    assert!(reached, "no checkpoint after 1 epoch within 120 s");
    assert!(
        still_running,
        "the run finished before it could be killed; raise EPOCHS"
    );
    assert!(
        !result_seen_early,
        "result.json existed while the run was going"
    );
    assert!(
        !killed.join("result.json").exists(),
        "result.json after a kill"
    );
    let done = epochs_done(&killed).expect("checkpoint readable after the kill");
    assert!(
        done < EPOCHS.parse::<u64>().expect("EPOCHS is a number"),
        "checkpoint says {done} epochs done"
    );

    // Without --resume the folder is refused, and left as it was.
    let e = fails(&args(&killed));
    assert!(e.contains("--resume") && e.contains("checkpoint"), "{e}");
    assert_eq!(epochs_done(&killed), Some(done));

    let mut resume_args = args(&killed);
    resume_args.push("--resume");
    ok(&resume_args);
    let resumed = read_json(&killed.join("result.json"));
    assert!(
        resumed["epochs_this_process"]
            .as_u64()
            .is_some_and(|e| e < EPOCHS.parse::<u64>().expect("EPOCHS is a number")),
        "resumed run did not start from the checkpoint: epochs_this_process = {}",
        resumed["epochs_this_process"]
    );

    let whole = tmp.path().join("whole");
    ok(&args(&whole));
    let whole = read_json(&whole.join("result.json"));
    assert_eq!(
        resumed["test"], whole["test"],
        "resumed run differs from an uninterrupted one"
    );
    assert_eq!(curve_metrics(&resumed), curve_metrics(&whole));
}
