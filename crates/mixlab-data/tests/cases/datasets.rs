//! The dataset layer: data-directory resolution, status, and `load` on the fixtures and embedded files.

use std::ffi::OsString;
use std::path::Path;

use mixlab_data::{
    DataDir, DatasetId, DirOrigin, LoadOptions, Location, Task, load, load_u8, split_validation,
    status,
};

use crate::common::{err, fixture, fixtures, tmp, write};

#[test]
fn data_dir_precedence_is_flag_then_env_then_embedded() {
    let flag = Path::new("/flag");
    let env = Some(OsString::from("/env"));
    let d = DataDir::resolve_with(Some(flag), env.clone());
    assert_eq!((d.root(), d.origin()), (Some(flag), DirOrigin::Explicit));
    let d = DataDir::resolve_with(None, env);
    assert_eq!(
        (d.root(), d.origin()),
        (Some(Path::new("/env")), DirOrigin::Env)
    );
    let d = DataDir::resolve_with(None, Some(OsString::new()));
    assert_eq!((d.root(), d.origin()), (None, DirOrigin::None));
    assert_eq!(DataDir::resolve_with(None, None), DataDir::none());
}

#[test]
fn status_on_the_fixtures_finds_every_dataset() {
    let st = status(&DataDir::at(fixtures()));
    assert_eq!(st.len(), DatasetId::ALL.len());
    for s in &st {
        match s.id {
            DatasetId::Digits | DatasetId::Airfoil => {
                assert!(matches!(s.location, Location::Embedded(_)), "{:?}", s)
            }
            // No CIFAR-100 file is in the project's data, so there is no real prefix to commit; its reader is
            // tested on records built from CIFAR-10 pixels (own.rs).
            DatasetId::Cifar100 | DatasetId::Cifar100Coarse => {
                assert!(matches!(s.location, Location::Missing { .. }), "{:?}", s)
            }
            id => assert_eq!(
                s.location,
                Location::Folder(fixtures().join(id.folder())),
                "{id}"
            ),
        }
    }
    let none = status(&DataDir::none());
    let found: Vec<DatasetId> = none
        .iter()
        .filter(|s| s.location.is_found())
        .map(|s| s.id)
        .collect();
    assert_eq!(found, vec![DatasetId::Digits, DatasetId::Airfoil]);
    let text = none[0].location.to_string();
    assert!(text.contains("MIXLAB_DATA"), "{text}");
}

#[test]
fn missing_dataset_error_lists_where_it_looked() {
    let dir = tmp();
    let e = err(load(
        DatasetId::Mnist,
        &DataDir::at(dir.path()),
        &LoadOptions::default(),
    ));
    assert!(e.starts_with("dataset mnist not found (looked in: "), "{e}");
    assert!(
        e.contains(&dir.path().join("mnist").display().to_string()),
        "{e}"
    );
    let e = err(load(
        DatasetId::Fsdd,
        &DataDir::none(),
        &LoadOptions::default(),
    ));
    assert!(e.contains("no data directory given"), "{e}");
}

#[test]
fn image_datasets_load_from_the_fixtures() {
    let dir = DataDir::at(fixtures());
    for (id, first) in [
        (DatasetId::Mnist, 5),
        (DatasetId::FashionMnist, 9),
        (DatasetId::Cifar10, 6),
    ] {
        let ds = load(id, &dir, &LoadOptions::default()).unwrap();
        assert_eq!(ds.sample_shape, id.sample_shape());
        assert_eq!(ds.task, Task::Classification { classes: 10 });
        assert_eq!(
            ds.train.sample_len,
            ds.sample_shape.iter().product::<usize>()
        );
        assert_eq!(ds.train.labels.as_ref().unwrap()[0], first);
        assert!(ds.train.x.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(ds.valid.is_none());
        let (u8_train, _) = load_u8(id, &dir, Some(3)).unwrap();
        assert_eq!(u8_train.n, 3);
        assert_eq!(ds.train.x[100], f32::from(u8_train.pixels[100]) / 255.0);
    }
    let ds = load(
        DatasetId::Cifar10,
        &dir,
        &LoadOptions::default().with_limit(Some(7)),
    )
    .unwrap();
    assert_eq!((ds.train.n, ds.test.n, ds.train.x.len()), (7, 7, 7 * 3072));
    assert!(err(load_u8(DatasetId::Digits, &dir, None)).contains("image dataset stored as bytes"));
}

#[test]
fn mnist_loads_from_a_raw_idx_folder() {
    let dir = tmp();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        let raw = crate::common::gunzip(&fixture(&format!("mnist/{name}.gz")));
        // The dotted spelling of some mirrors for the image files.
        let out = name.replacen("-idx3", ".idx3", 1);
        write(&dir.path().join("mnist"), &out, &raw);
    }
    let ds = load(
        DatasetId::Mnist,
        &DataDir::at(dir.path()),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!((ds.train.n, ds.test.n), (64, 64));
}

#[test]
fn fsdd_loads_with_the_official_split() {
    let ds = load(
        DatasetId::Fsdd,
        &DataDir::at(fixtures()),
        &LoadOptions::default().with_audio_len(4000),
    )
    .unwrap();
    assert_eq!(ds.sample_shape, vec![1, 4000]);
    assert_eq!((ds.train.n, ds.test.n), (2, 1));
    assert_eq!(ds.test.labels, Some(vec![0]));
}

#[test]
fn digits_default_split_is_seeded_and_covers_every_row_once() {
    let a = load(DatasetId::Digits, &DataDir::none(), &LoadOptions::default()).unwrap();
    assert_eq!((a.train.n, a.test.n), (1437, 360));
    assert_eq!(a.sample_shape, vec![1, 8, 8]);
    assert!(a.train.x.iter().all(|v| (0.0..=1.0).contains(v)));
    let b = load(DatasetId::Digits, &DataDir::none(), &LoadOptions::default()).unwrap();
    assert_eq!(a, b);
    let c = load(
        DatasetId::Digits,
        &DataDir::none(),
        &LoadOptions::default().with_seed(1),
    )
    .unwrap();
    assert_ne!(a.train.x, c.train.x);
    // Every digit image appears exactly once across the two splits (compare as sorted rows).
    let mut rows: Vec<Vec<u32>> = a
        .train
        .x
        .chunks(64)
        .chain(a.test.x.chunks(64))
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect();
    rows.sort();
    let (all, _) = mixlab_data::tabular::read_digits(&mixlab_data::Source::File(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits.csv.gz"),
    ))
    .unwrap();
    let mut want: Vec<Vec<u32>> = all
        .chunks(64)
        .map(|r| r.iter().map(|v| (v / 16.0).to_bits()).collect())
        .collect();
    want.sort();
    assert_eq!(rows, want);
    let v = a.with_validation(0.1, 5).unwrap();
    assert_eq!((v.train.n, v.valid.as_ref().unwrap().n), (1293, 144));
}

#[test]
fn digits_and_airfoil_found_in_a_flat_copy_of_data_dir() {
    let dir = tmp();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let bytes = std::fs::read(src.join("airfoil_self_noise.dat")).unwrap();
    // Drop the last 3 rows so the file is recognisably not the embedded copy.
    let text = String::from_utf8(bytes).unwrap();
    let kept: Vec<&str> = text.lines().take(1500).collect();
    write(
        dir.path(),
        "airfoil_self_noise.dat",
        kept.join("\n").as_bytes(),
    );
    let dd = DataDir::at(dir.path());
    assert_eq!(
        dd.locate(DatasetId::Airfoil),
        Location::Folder(dir.path().to_path_buf())
    );
    let ds = load(DatasetId::Airfoil, &dd, &LoadOptions::default()).unwrap();
    assert_eq!(ds.train.n + ds.valid.as_ref().unwrap().n + ds.test.n, 1500);
}

#[test]
fn airfoil_split_is_c_mixup_sized() {
    let ds = load(
        DatasetId::Airfoil,
        &DataDir::none(),
        &LoadOptions::default(),
    )
    .unwrap();
    let v = ds.valid.as_ref().unwrap();
    assert_eq!((ds.train.n, v.n, ds.test.n), (1003, 300, 200));
    assert_eq!(ds.sample_shape, vec![5]);
    assert_eq!(
        (ds.train.target_len, ds.task),
        (1, Task::Regression { outputs: 1 })
    );
    assert!(ds.source.contains("embedded"));
    // Splits are disjoint: the 1503 (input, target) rows are all present once.
    let mut keys: Vec<Vec<u32>> = [&ds.train, v, &ds.test]
        .iter()
        .flat_map(|s| {
            (0..s.n).map(move |i| {
                let mut k: Vec<u32> = s.sample(i).unwrap().iter().map(|x| x.to_bits()).collect();
                k.push(s.target(i).unwrap()[0].to_bits());
                k
            })
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 1503);
    let limited = load(
        DatasetId::Airfoil,
        &DataDir::none(),
        &LoadOptions::default().with_limit(Some(10)),
    )
    .unwrap();
    assert_eq!(
        (limited.train.n, limited.valid.unwrap().n, limited.test.n),
        (10, 10, 10)
    );
    assert_eq!(limited.train.x[..], ds.train.x[..50]);
}

#[test]
fn exchange_rate_windows_follow_lstnet() {
    let dir = DataDir::at(fixtures());
    // 100 days cannot hold C-Mixup's 168-day window.
    let e = err(load(DatasetId::ExchangeRate, &dir, &LoadOptions::default()));
    assert!(
        e.ends_with(
            "exchange_rate.txt.gz: 100 rows leave no training window for window 168 + horizon 12"
        ),
        "{e}"
    );
    let ds = load(
        DatasetId::ExchangeRate,
        &dir,
        &LoadOptions::default().with_window(8, 2),
    )
    .unwrap();
    assert_eq!(ds.sample_shape, vec![8, 8]);
    // Target days 9..70 train, 70..80 valid, 80..100 test.
    assert_eq!(
        (ds.train.n, ds.valid.as_ref().unwrap().n, ds.test.n),
        (61, 10, 20)
    );
    assert_eq!(ds.train.target_len, 8);
    let x = ds.train.sample(0).unwrap();
    // Values computed in Python: day 0 / max|series 0| over the 100 days, day 3 of series 1, target day 9.
    assert!((x[0] - 0.987_553_4).abs() < 1e-6, "{}", x[0]);
    assert!((x[8 + 3] - 0.954_519).abs() < 1e-6);
    let y = ds.train.target(0).unwrap();
    assert!((y[0] - 0.992_456_6).abs() < 1e-6 && (y[1] - 0.966_180_8).abs() < 1e-6);
    // Consecutive windows shift by one day.
    let x1 = ds.train.sample(1).unwrap();
    assert_eq!(x1[..7], x[1..8]);
}

#[test]
fn crime_and_skillcraft_have_shuffled_70_10_20_splits() {
    let dir = DataDir::at(fixtures());
    let crime = load(DatasetId::CommunitiesCrime, &dir, &LoadOptions::default()).unwrap();
    assert_eq!(
        (crime.train.n, crime.valid.as_ref().unwrap().n, crime.test.n),
        (35, 5, 10)
    );
    assert_eq!(crime.sample_shape, vec![100]);
    let sk = load(DatasetId::Skillcraft, &dir, &LoadOptions::default()).unwrap();
    assert_eq!(
        (sk.train.n, sk.valid.as_ref().unwrap().n, sk.test.n),
        (35, 5, 10)
    );
    assert_eq!(sk.sample_shape, vec![17]);
    let again = load(DatasetId::Skillcraft, &dir, &LoadOptions::default()).unwrap();
    assert_eq!(sk, again);
}

#[test]
fn validation_split_helper_matches_dataset_helper() {
    let ds = load(DatasetId::Digits, &DataDir::none(), &LoadOptions::default()).unwrap();
    let (tr, va) = split_validation(ds.train.n, 0.1, 3).unwrap();
    let want_valid = ds.train.select(&va).unwrap();
    let want_train = ds.train.select(&tr).unwrap();
    let got = ds.with_validation(0.1, 3).unwrap();
    assert_eq!(got.valid.unwrap(), want_valid);
    assert_eq!(got.train, want_train);
    // A dataset with a reference validation split keeps it.
    let air = load(
        DatasetId::Airfoil,
        &DataDir::none(),
        &LoadOptions::default(),
    )
    .unwrap();
    let kept = air.clone().with_validation(0.5, 0).unwrap();
    assert_eq!(kept, air);
}

#[test]
fn bad_options_are_refused_before_reading() {
    let e = err(load(
        DatasetId::Digits,
        &DataDir::none(),
        &LoadOptions::default().with_limit(Some(0)),
    ));
    assert_eq!(e, "limit must be at least 1 (or none), got 0");
}
