//! Full-dataset checks, run only when `MIXLAB_DATA` points at the complete data directory.

use mixlab_data::{DataDir, DatasetId, LoadOptions, load, load_u8, status};

use crate::common::shared;

#[test]
fn full_image_sets_have_official_counts() {
    let Some(root) = shared("full_image_sets_have_official_counts") else {
        return;
    };
    let dir = DataDir::at(&root);
    for id in [DatasetId::Mnist, DatasetId::FashionMnist] {
        let (train, test) = load_u8(id, &dir, None).unwrap();
        assert_eq!((train.n, test.n), (60000, 10000), "{id}");
        let mut counts = [0usize; 10];
        for &l in &test.labels {
            counts[usize::from(l)] += 1;
        }
        if id == DatasetId::Mnist {
            assert_eq!(
                counts,
                [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
            );
            let mean: f64 = train.pixels.iter().map(|&p| f64::from(p)).sum::<f64>()
                / (train.pixels.len() as f64 * 255.0);
            assert!((mean - 0.130660).abs() < 1e-5, "{mean}");
        } else {
            assert_eq!(counts, [1000; 10]);
        }
    }
    let ds = load(DatasetId::Cifar10, &dir, &LoadOptions::default()).unwrap();
    assert_eq!((ds.train.n, ds.test.n), (20000, 1000));
    let mut counts = [0usize; 10];
    for &l in &ds.test.labels.unwrap() {
        counts[l] += 1;
    }
    assert_eq!(counts, [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]);
}

#[test]
fn full_fsdd_has_3000_clips_and_300_test_clips() {
    let Some(root) = shared("full_fsdd_has_3000_clips_and_300_test_clips") else {
        return;
    };
    let ds = load(
        DatasetId::Fsdd,
        &DataDir::at(&root),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!((ds.train.n, ds.test.n), (2700, 300));
    let mut counts = [0usize; 10];
    for &l in ds.test.labels.as_ref().unwrap() {
        counts[l] += 1;
    }
    assert_eq!(counts, [30; 10]);
    let limited = load(
        DatasetId::Fsdd,
        &DataDir::at(&root),
        &LoadOptions::default().with_limit(Some(60)),
    )
    .unwrap();
    let mut seen = [0usize; 10];
    for &l in limited.train.labels.as_ref().unwrap() {
        seen[l] += 1;
    }
    assert_eq!(
        seen, [6; 10],
        "the first 60 training clips cover every digit"
    );
}

#[test]
fn full_tables_have_documented_sizes() {
    let Some(root) = shared("full_tables_have_documented_sizes") else {
        return;
    };
    let dir = DataDir::at(&root);
    let opts = LoadOptions::default();
    let sizes = |id| {
        let ds = load(id, &dir, &opts).unwrap();
        let v = ds.valid.as_ref().map_or(0, |v| v.n);
        (
            ds.sample_shape.clone(),
            ds.train.n,
            v,
            ds.test.n,
            ds.source.clone(),
        )
    };
    let air = sizes(DatasetId::Airfoil);
    assert_eq!(
        (air.1 + air.2 + air.3, air.1, air.2, air.3),
        (1503, 1003, 300, 200)
    );
    assert!(
        air.4.ends_with("airfoil"),
        "read from the data directory, not the embedded copy: {}",
        air.4
    );
    let digits = sizes(DatasetId::Digits);
    assert_eq!((digits.1, digits.3), (1437, 360));
    assert!(digits.4.ends_with("sklearn-bundled"));
    // 7588 days: target days 179..5311 / 5311..6070 / 6070..7588.
    let ex = sizes(DatasetId::ExchangeRate);
    assert_eq!((ex.0, ex.1, ex.2, ex.3), (vec![8, 168], 5132, 759, 1518));
    let crime = sizes(DatasetId::CommunitiesCrime);
    assert_eq!(
        (crime.0.clone(), crime.1 + crime.2 + crime.3),
        (vec![99], 1994)
    );
    assert_eq!(crime.0, DatasetId::CommunitiesCrime.sample_shape());
    let sk = sizes(DatasetId::Skillcraft);
    assert_eq!((sk.0, sk.1 + sk.2 + sk.3), (vec![17], 3338));
    // CIFAR-100 is downloadable (`mixlab download cifar100`) but not part of the shared data folder.
    let shipped = |s: &&mixlab_data::DatasetStatus| {
        !matches!(s.id, DatasetId::Cifar100 | DatasetId::Cifar100Coarse)
    };
    let missing: Vec<_> = status(&dir)
        .iter()
        .filter(shipped)
        .filter(|s| !s.location.is_found())
        .map(|s| s.id)
        .collect();
    assert!(missing.is_empty(), "not found: {missing:?}");
}
