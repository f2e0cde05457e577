//! `mixlab bench` / `mixlab report`: tables and plots, skipping finished cells, resuming a killed bench,
//! and merging shards into the same report as an unsharded run.

use crate::common::{fixture, mixlab_std, ok, read_json, read_text, s, wait_for};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

fn bench(suite: &str, out: &Path, extra: &[&str]) -> String {
    let suite = fixture(suite);
    let mut args = vec!["bench", "--suite", s(&suite), "--out", s(out), "--quiet"];
    args.extend_from_slice(extra);
    ok(&args)
}

fn finished_cells(out: &Path) -> usize {
    std::fs::read_dir(out.join("cells"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().join("result.json").exists())
                .count()
        })
        .unwrap_or(0)
}

fn count_pngs(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).expect("read plots folder") {
        let e = e.expect("plots folder entry");
        let p = e.path();
        if p.is_dir() {
            n += count_pngs(&p);
        } else if p.extension().is_some_and(|x| x == "png") {
            crate::common::assert_png(&p);
            n += 1;
        }
    }
    n
}

#[test]
fn bench_report_rerun_and_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let out = bench("bench_tiny.toml", &a, &[]);
    assert!(out.contains("4 cells (4 run, 0 already finished)"), "{out}");
    assert_eq!(finished_cells(&a), 4);
    let md = read_text(&a.join("results.md"));
    assert!(
        md.contains('±') && md.contains("| method |"),
        "no mean ± std table:\n{md}"
    );
    assert!(md.contains("| none |") && md.contains("| mixup |"), "{md}");
    let csv = read_text(&a.join("results.csv"));
    assert!(csv.starts_with("experiment,"), "{csv}");
    assert!(
        csv.lines().any(|l| l.contains(",mixup,acc,2,")),
        "no 2-seed mixup acc row:\n{csv}"
    );
    let json = read_json(&a.join("results.json"));
    assert_eq!(json["cells"], 4);
    assert!(count_pngs(&a.join("plots")) > 0, "no plots");

    // Rerun: nothing trains, the report is the same.
    let json_text = read_text(&a.join("results.json"));
    let out = bench("bench_tiny.toml", &a, &[]);
    assert!(out.contains("4 cells (0 run, 4 already finished)"), "{out}");
    assert_eq!(read_text(&a.join("results.json")), json_text);

    // Two shards into one folder, merged by `report`, equal the unsharded run.
    let b = tmp.path().join("b");
    let out1 = bench("bench_tiny.toml", &b, &["--shard", "1/2"]);
    let out2 = bench("bench_tiny.toml", &b, &["--shard", "2/2"]);
    assert!(out1.contains("(2 run, 0 already finished)"), "{out1}");
    assert!(out2.contains("(2 run, 0 already finished)"), "{out2}");
    ok(&["report", s(&b)]);
    assert_eq!(
        read_text(&b.join("results.csv")),
        read_text(&a.join("results.csv"))
    );
    assert_eq!(read_json(&b.join("results.json")), json);
}

#[test]
fn killed_bench_runs_only_the_missing_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let k = tmp.path().join("killed");
    let suite = fixture("bench_kill.toml");
    let mut child = mixlab_std()
        .args(["bench", "--suite", s(&suite), "--out", s(&k), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mixlab");
    let reached = wait_for(Duration::from_secs(120), || finished_cells(&k) >= 1);
    let still_running = child.try_wait().expect("try_wait").is_none();
    child.kill().expect("kill mixlab");
    child.wait().expect("reap mixlab");
    assert!(reached, "no finished cell within 120 s");
    assert!(
        still_running,
        "the bench finished before it could be killed"
    );
    let done = finished_cells(&k);
    assert!((1..4).contains(&done), "{done} cells finished at the kill");
    assert!(
        !k.join("results.csv").exists(),
        "report written before the bench finished"
    );

    let out = bench("bench_kill.toml", &k, &[]);
    let expect = format!("4 cells ({} run, {done} already finished)", 4 - done);
    assert!(out.contains(&expect), "expected {expect:?} in:\n{out}");

    let u = tmp.path().join("uninterrupted");
    bench("bench_kill.toml", &u, &[]);
    assert_eq!(
        read_text(&k.join("results.csv")),
        read_text(&u.join("results.csv"))
    );
}

#[test]
fn distillation_cells_learn_from_their_teacher_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("kd");
    let text = bench("bench_kd.toml", &out, &[]);
    assert!(text.contains("6 cells (6 run"), "{text}");
    for seed in 0..2 {
        let cell = out.join("cells").join(format!("student-kd-mixup-s{seed}"));
        let cfg = read_text(&cell.join("config.toml"));
        let teacher = out
            .canonicalize()
            .unwrap()
            .join("cells")
            .join(format!("teacher-none-s{seed}"))
            .join("checkpoint");
        assert!(
            cfg.contains(&format!("teacher = {:?}", teacher.to_string_lossy()))
                && cfg.contains("temperature = 2.0"),
            "{cfg}"
        );
        assert!(cell.join("result.json").exists());
    }
    // Three cells at once: students wait for their teachers, and the tables are the sequential run's.
    let par = tmp.path().join("kd-jobs");
    let text = bench("bench_kd.toml", &par, &["--jobs", "3"]);
    assert!(text.contains("6 cells (6 run"), "{text}");
    assert_eq!(
        read_text(&par.join("results.csv")),
        read_text(&out.join("results.csv"))
    );
    // The distilled cell replays from its recorded config alone.
    let again = tmp.path().join("again");
    let cell = out.join("cells").join("student-kd-mixup-s1");
    ok(&[
        "train",
        "--config",
        s(&cell.join("config.toml")),
        "--quiet",
        "--out",
        s(&again),
    ]);
    assert_eq!(
        read_json(&again.join("result.json"))["test"],
        read_json(&cell.join("result.json"))["test"]
    );
    // A shard that holds only a student whose teacher has not run stops with the reason.
    let lone = tmp.path().join("lone");
    let e = crate::common::fails(&[
        "bench",
        "--suite",
        s(&fixture("bench_kd.toml")),
        "--out",
        s(&lone),
        "--shard",
        "6/6",
        "--quiet",
    ]);
    assert!(
        e.contains("teacher cell teacher-none-s1 has not finished"),
        "{e}"
    );
    // A teacher that names no earlier cell is refused before anything runs.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        read_text(&fixture("bench_kd.toml")).replace("teacher/none", "teacher/mixup"),
    )
    .unwrap();
    let e = crate::common::fails(&[
        "bench",
        "--suite",
        s(&bad),
        "--out",
        s(&tmp.path().join("b")),
        "--quiet",
    ]);
    assert!(
        e.contains("no cell teacher-mixup-s0 earlier in the suite"),
        "{e}"
    );
}

#[test]
fn report_draws_no_mix_grid_for_methods_that_mix_inside_their_task() {
    // MixMatch mixes its union inside its task, AutoMix trains on its MixBlock's masks and mixup with
    // `mix_at = [0, 1]` mixes hidden features on some steps: a grid of their sampled plans would show
    // blends they never train on, so the report draws one for plain mixup only.
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("ssl.toml");
    std::fs::write(
        &suite,
        read_text(&fixture("bench_tiny.toml"))
            .replace("epochs = 2", "epochs = 1\nlabels_per_class = 5")
            .replace("seeds = 2", "seeds = 1")
            .replace(
                r#"["none", "mixup"]"#,
                r#"["mixup", "mixmatch", "automix", { label = "hidden", method = "mixup", mix_at = [0, 1] },
                   { label = "input", method = "mixup", mix_at = [0] }]"#,
            ),
    )
    .unwrap();
    let out = tmp.path().join("run");
    let text = ok(&["bench", "--suite", s(&suite), "--out", s(&out), "--quiet"]);
    assert!(text.contains("5 cells (5 run"), "{text}");
    let plots = out.join("plots").join("digits-cnn");
    assert!(plots.join("mix-mixup.png").exists());
    assert!(!plots.join("mix-mixmatch.png").exists());
    assert!(!plots.join("mix-automix.png").exists());
    assert!(!plots.join("mix-hidden.png").exists());
    assert!(plots.join("mix-input.png").exists());
    assert!(plots.join("reliability-hidden.png").exists());
    assert!(plots.join("reliability-mixmatch.png").exists());
    assert!(plots.join("reliability-automix.png").exists());
}
