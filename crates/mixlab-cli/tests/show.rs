//! `mixlab show`: every method draws a real PNG grid on the embedded digits, and on CIFAR-10 / FSDD
//! when a data directory is available.

use crate::common::{assert_png, fails, ok, s};

const METHODS: [&str; 9] = [
    "none",
    "mixup",
    "cutmix",
    "fmix",
    "resizemix",
    "gridmix",
    "smoothmix",
    "saliencymix",
    "maskmix",
];

#[test]
fn show_every_method_on_digits() {
    let tmp = tempfile::tempdir().unwrap();
    for m in METHODS {
        let png = tmp.path().join(format!("{m}.png"));
        let out = ok(&[
            "show",
            "--dataset",
            "digits",
            "--method",
            m,
            "--n",
            "6",
            "--out",
            s(&png),
        ]);
        assert!(out.contains("wrote"), "show {m}: {out}");
        assert_png(&png);
    }
    // The leftover temporaries of the atomic write must be gone.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), METHODS.len(), "unexpected files: {names:?}");
    // A method that forms its inputs with the model is refused, not drawn as the blend of its plan.
    for m in [
        "puzzlemix",
        "automix",
        "manifoldmix",
        "mixmatch",
        "rankmixup",
    ] {
        let png = tmp.path().join(format!("{m}.png"));
        let e = fails(&[
            "show",
            "--dataset",
            "digits",
            "--method",
            m,
            "--out",
            s(&png),
        ]);
        assert!(
            e.contains("forms its mixed inputs inside training"),
            "{m}: {e}"
        );
        assert!(!png.exists());
    }
    // TransMix trains on its CutMix plan (only its labels come from the model): drawn.
    let png = tmp.path().join("transmix.png");
    ok(&[
        "show",
        "--dataset",
        "digits",
        "--method",
        "transmix",
        "--out",
        s(&png),
    ]);
    assert_png(&png);
}

#[test]
fn show_real_data_when_available() {
    let Ok(data) = std::env::var("MIXLAB_DATA") else {
        println!("skip: MIXLAB_DATA is not set, cifar10/fsdd show not tested");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for (ds, methods) in [
        ("cifar10", &["mixup", "cutmix", "fmix"][..]),
        ("fsdd", &["mixup", "cutmix"][..]),
    ] {
        for m in methods {
            let png = tmp.path().join(format!("{ds}-{m}.png"));
            ok(&[
                "show",
                "--dataset",
                ds,
                "--data-dir",
                &data,
                "--method",
                m,
                "--n",
                "4",
                "--out",
                s(&png),
            ]);
            assert_png(&png);
        }
    }
}
