//! `mixlab datasets`: lists every known dataset; the embedded ones are found without any data folder.

use crate::common::{ok, s};

const NAMES: [&str; 9] = [
    "mnist",
    "fashion-mnist",
    "cifar10",
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
