//! Every method that needs the model in the loop — saliency and attention mixing (PuzzleMix, GuidedMix,
//! SnapMix, AlignMix, AttentiveMix), the ViT label methods (TransMix, MixPro, SMMix, TL-Align, TokenMix) and
//! the learned mixers (AutoMix, SAMix, AdAutoMix, AdaMixUp) — through `mixlab train` on the embedded digits
//! and on real CIFAR-10 images (mixlab-data's fixture batches): each run repeats bit for bit, and a run
//! stopped twice with its checkpoint (`--stop-after-epochs`, then `--resume`) ends with the uninterrupted
//! numbers. (`resume.rs` kills runs with SIGKILL; this file checks that every strategy's state is in the
//! checkpoint.)
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]

use crate::common::{TINY_CNN as CNN, curve_metrics, ok, read_json, s};
use std::path::{Path, PathBuf};

const EPOCHS: &str = "4";

const VIT: &[&str] = &[
    "--model",
    "vit-tiny",
    "--model-param",
    "dim=16",
    "--model-param",
    "depth=1",
    "--model-param",
    "heads=2",
    "--model-param",
    "patch=2",
];

const RESNET: &[&str] = &["--model", "resnet18", "--model-param", "width=4"];

/// mixlab-data's CIFAR-10 fixture folder: the first 20 records of the official data_batch_1 and test_batch.
fn cifar_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mixlab-data/tests/fixtures")
}

fn epochs_done(out: &Path) -> Option<u64> {
    let v = read_json(&out.join("checkpoint").join("checkpoint.json"));
    v["epochs_done"].as_u64()
}

#[test]
fn model_in_the_loop_methods_rerun_and_resume_on_digits_and_cifar10() {
    let tmp = tempfile::tempdir().unwrap();
    let cifar = cifar_dir();
    let datasets: [(&str, Vec<&str>); 2] = [
        ("digits", vec!["--dataset", "digits", "--limit", "200"]),
        (
            "cifar10",
            vec!["--dataset", "cifar10", "--data-dir", s(&cifar)],
        ),
    ];
    for (name, data) in &datasets {
        // TokenMix's teacher: a ResNet run on the same data, whose class activation maps weigh the tokens.
        let teacher = tmp.path().join(format!("teacher-{name}"));
        let mut a = vec!["train", "--out", s(&teacher), "--quiet", "--epochs", "1"];
        a.extend_from_slice(data);
        a.extend_from_slice(&[
            "--model",
            "resnet18",
            "--model-param",
            "width=4",
            "--batch-size",
            "16",
        ]);
        ok(&a);
        let teacher_ckpt = teacher.join("checkpoint");
        let methods: [(&str, &[&str], Vec<&str>); 14] = [
            ("puzzlemix", CNN, vec![]),
            ("guidedmix", CNN, vec![]),
            ("snapmix", RESNET, vec![]),
            ("alignmix", CNN, vec![]),
            ("attentivemix", CNN, vec![]),
            ("transmix", VIT, vec![]),
            ("mixpro", VIT, vec![]),
            ("smmix", VIT, vec!["--param", "patch=2"]),
            ("tlalign", VIT, vec!["--param", "patch=2"]),
            (
                "tokenmix",
                VIT,
                vec!["--param", "patch=2", "--teacher", s(&teacher_ckpt)],
            ),
            ("automix", CNN, vec![]),
            ("samix", CNN, vec![]),
            ("adautomix", CNN, vec![]),
            ("adamixup", CNN, vec![]),
        ];
        for (method, model, extra) in &methods {
            let args = |out: &Path| -> Vec<String> {
                let mut a = vec!["train", "--out", s(out), "--quiet", "--method", *method];
                a.extend_from_slice(data);
                a.extend_from_slice(model);
                a.extend_from_slice(extra);
                a.extend_from_slice(&["--epochs", EPOCHS, "--batch-size", "16"]);
                a.into_iter().map(String::from).collect()
            };
            let run = |out: &Path, more: &[&str]| -> String {
                let mut a = args(out);
                a.extend(more.iter().map(|m| m.to_string()));
                ok(&a.iter().map(String::as_str).collect::<Vec<_>>())
            };
            let what = format!("{method} on {name}");
            let whole_dir = tmp.path().join(format!("{method}-{name}-whole"));
            run(&whole_dir, &[]);
            let whole = read_json(&whole_dir.join("result.json"));
            let config = std::fs::read_to_string(whole_dir.join("config.toml")).unwrap();
            assert!(config.contains(method), "{what}: {config}");
            assert!(
                (0.0..=1.0).contains(&whole["test"]["acc"].as_f64().unwrap()),
                "{what}: {whole}"
            );

            let again_dir = tmp.path().join(format!("{method}-{name}-again"));
            run(&again_dir, &[]);
            let again = read_json(&again_dir.join("result.json"));
            assert_eq!(whole["test"], again["test"], "{what}: a rerun differs");
            assert_eq!(curve_metrics(&whole), curve_metrics(&again), "{what}");

            // N counts each process's epochs: 1, then 2 more, then the last one.
            let cut_dir = tmp.path().join(format!("{method}-{name}-stopped"));
            let said = run(&cut_dir, &["--stop-after-epochs", "1"]);
            assert!(said.contains("stopped early"), "{what}: {said}");
            assert_eq!(epochs_done(&cut_dir), Some(1), "{what}");
            run(&cut_dir, &["--resume", "--stop-after-epochs", "2"]);
            assert!(!cut_dir.join("result.json").exists(), "{what}");
            assert_eq!(epochs_done(&cut_dir), Some(3), "{what}");
            let said = run(&cut_dir, &["--resume", "--stop-after-epochs", "2"]);
            assert!(said.contains("wrote"), "{what}: {said}");
            let resumed = read_json(&cut_dir.join("result.json"));
            assert_eq!(resumed["epochs_this_process"], 1, "{what}: {resumed}");
            assert_eq!(
                whole["test"], resumed["test"],
                "{what}: the resumed run differs"
            );
            assert_eq!(curve_metrics(&whole), curve_metrics(&resumed), "{what}");
        }
    }
}

#[test]
fn stop_after_epochs_must_be_positive() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let e = crate::common::fails(&[
        "train",
        "--dataset",
        "digits",
        "--out",
        s(&out),
        "--stop-after-epochs",
        "0",
    ]);
    assert!(e.contains("--stop-after-epochs"), "{e}");
    assert!(!out.exists());
}
