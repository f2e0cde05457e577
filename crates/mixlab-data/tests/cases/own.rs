//! The user's own data ([`mixlab_data::own`]): image folders, CSV tables, `.npy` arrays and CIFAR-100, on the
//! fixtures under `fixtures/own/` (cut from the real CIFAR-10, Fashion-MNIST, iris and Airfoil files by
//! `make_fixtures.py`), and broken copies of them.

use std::path::Path;

use mixlab_data::cifar::hundred;
use mixlab_data::{DataDir, DataSpec, DatasetId, LoadOptions, Task, load, load_spec, peek};

use crate::common::{fixture, gunzip, tmp, write};

fn spec(s: &str) -> DataSpec {
    s.parse().unwrap()
}

fn own(kind: &str, rel: &str, options: &str) -> DataSpec {
    spec(&format!("{kind}:{}{options}", fixture(rel).display()))
}

fn load_own(s: &DataSpec) -> mixlab_data::Result<mixlab_data::Dataset> {
    load_spec(s, &DataDir::none(), &LoadOptions::default())
}

fn err(s: &DataSpec) -> String {
    let e = load_own(s).unwrap_err().to_string();
    assert!(!e.contains('\n'), "{e}");
    e
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The CIFAR-10 fixture's records as (label, pixel bytes).
fn cifar_records() -> Vec<(u8, Vec<u8>)> {
    std::fs::read(fixture("cifar10/data_batch_1.bin"))
        .unwrap()
        .chunks_exact(3073)
        .map(|r| (r[0], r[1..].to_vec()))
        .collect()
}

#[test]
fn a_flat_image_folder_loads_its_pngs_exactly_and_its_jpeg_closely() {
    let s = own("image-folder", "own/cifar-folder", "");
    let ds = load_own(&s).unwrap();
    let names = ds.class_names.clone().unwrap();
    // Eight of CIFAR-10's classes occur among the first 20 records; folders in name order.
    assert_eq!(names[0], "automobile");
    assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    assert_eq!(
        ds.task,
        Task::Classification {
            classes: names.len()
        }
    );
    assert_eq!(ds.sample_shape, vec![3, 32, 32]);
    // 20 images, no test folder: ⌊4n/5⌋ train by the data seed.
    assert_eq!((ds.train.n, ds.test.n), (16, 4));
    assert_eq!(peek(&s).unwrap(), (vec![3, 32, 32], ds.task));
    let records = cifar_records();
    let cifar = mixlab_data::cifar::CLASS_NAMES;
    let (mut exact, mut close) = (0, 0);
    for split in [&ds.train, &ds.test] {
        for i in 0..split.n {
            let x = split.sample(i).unwrap();
            let label = &names[split.labels.as_ref().unwrap()[i]];
            let bytes: Vec<u8> = x.iter().map(|v| (v * 255.0).round() as u8).collect();
            if records
                .iter()
                .any(|(l, p)| cifar[usize::from(*l)] == label && *p == bytes)
            {
                exact += 1;
            } else {
                // The one JPEG (record 0, a frog, quality 95) is lossy: close to its record, not equal.
                let (l, p) = &records[0];
                assert_eq!(cifar[usize::from(*l)], label);
                let mae: f64 = p
                    .iter()
                    .zip(&bytes)
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
                    .sum::<f64>()
                    / p.len() as f64;
                assert!(mae < 4.0, "JPEG mean abs error {mae}");
                close += 1;
            }
        }
    }
    assert_eq!((exact, close), (19, 1));
    // The split follows the data seed and is the same on every load.
    let again = load_spec(&s, &DataDir::none(), &LoadOptions::default().with_seed(0)).unwrap();
    assert_eq!(again, ds);
    let other = load_spec(&s, &DataDir::none(), &LoadOptions::default().with_seed(1)).unwrap();
    assert_ne!(other.train.x, ds.train.x);
}

#[test]
fn a_train_test_folder_keeps_its_test_part_and_reads_grey_images_as_one_channel() {
    let ds = load_own(&own("image-folder", "own/fashion-folder", "")).unwrap();
    assert_eq!(ds.sample_shape, vec![1, 28, 28]);
    assert_eq!(ds.train.n, 32);
    let names = ds.class_names.clone().unwrap();
    assert_eq!(names[0], "bag");
    // Training images in class-then-file order: the first is the first "bag" (label 8) of the IDX prefix.
    let labels = gunzip(&fixture("fashion-mnist/train-labels-idx1-ubyte.gz"));
    let images = gunzip(&fixture("fashion-mnist/train-images-idx3-ubyte.gz"));
    let first_bag = labels[8..].iter().position(|&l| l == 8).unwrap();
    let want: Vec<f32> = images[16 + first_bag * 784..16 + (first_bag + 1) * 784]
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    assert_eq!(ds.train.sample(0).unwrap(), &want[..]);
    assert_eq!(ds.train.labels.as_ref().unwrap()[0], 0);
    let test_dirs = std::fs::read_dir(fixture("own/fashion-folder/test"))
        .unwrap()
        .count();
    assert!(test_dirs <= names.len());
    assert!(ds.test.n > 0 && ds.test.n <= 32);
    // train_limit keeps the test part whole.
    let lim = load_spec(
        &own("image-folder", "own/fashion-folder", ""),
        &DataDir::none(),
        &LoadOptions::default().with_train_limit(Some(5)),
    )
    .unwrap();
    assert_eq!((lim.train.n, lim.test.n), (5, ds.test.n));
}

#[test]
fn image_folders_resize_on_request_and_refuse_mixed_sizes_broken_files_and_new_test_classes() {
    let d = tmp();
    let root = d.path().join("imgs");
    copy_dir(&fixture("own/cifar-folder"), &root);
    let spec_of = |opts: &str| spec(&format!("image-folder:{}{opts}", root.display()));
    let resized = load_own(&spec_of(",size=16x20")).unwrap();
    assert_eq!(resized.sample_shape, vec![3, 16, 20]);
    assert!(resized.train.x.iter().all(|v| (0.0..=1.0).contains(v)));

    // A grey 28×28 image among 32×32 colour ones.
    std::fs::copy(
        fixture("own/fashion-folder/train/bag/").join(
            std::fs::read_dir(fixture("own/fashion-folder/train/bag"))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .file_name(),
        ),
        root.join("truck/zz.png"),
    )
    .unwrap();
    let e = err(&spec_of(""));
    assert!(
        e.contains("zz.png") && e.contains("28×28") && e.contains("size=HxW"),
        "{e}"
    );
    // With a size, grey and colour images mix: grey is repeated into RGB.
    assert_eq!(
        load_own(&spec_of(",size=32x32")).unwrap().sample_shape,
        vec![3, 32, 32]
    );
    std::fs::remove_file(root.join("truck/zz.png")).unwrap();

    // A truncated PNG and a text file named .png.
    let png = std::fs::read(
        root.join("automobile")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    write(&root, "cat/broken.png", &png[..png.len() / 2]);
    let e = err(&spec_of(""));
    assert!(
        e.contains("broken.png") && e.contains("not a readable PNG or JPEG"),
        "{e}"
    );
    write(&root, "cat/broken.png", b"hello, not an image");
    assert!(err(&spec_of("")).contains("broken.png"));
    std::fs::remove_file(root.join("cat/broken.png")).unwrap();

    // An empty class folder, and no class folder at all.
    std::fs::create_dir_all(root.join("empty")).unwrap();
    assert!(err(&spec_of("")).contains("empty"));
    let bare = d.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    let e = err(&spec(&format!("image-folder:{}", bare.display())));
    assert!(e.contains("class folder"), "{e}");
    assert!(err(&spec("image-folder:/no/such/folder")).contains("does not exist"));

    // A test folder with a class the training part lacks.
    let split = d.path().join("split");
    copy_dir(&fixture("own/fashion-folder"), &split);
    copy_dir(&split.join("test/bag"), &split.join("test/zebra"));
    let e = err(&spec(&format!("image-folder:{}", split.display())));
    assert!(
        e.contains("\"zebra\"") && e.contains("training classes"),
        "{e}"
    );
}

#[test]
fn csv_tables_name_their_classes_or_regress_on_a_numeric_target() {
    let iris = load_own(&own("csv", "own/iris.csv", "")).unwrap();
    assert_eq!(iris.task, Task::Classification { classes: 3 });
    assert_eq!(
        iris.class_names.as_deref().unwrap(),
        &["setosa", "versicolor", "virginica"]
    );
    assert_eq!(iris.sample_shape, vec![4]);
    assert_eq!((iris.train.n, iris.test.n), (120, 30));
    let air = load_own(&own("csv", "own/airfoil.csv", ",target=sound_pressure")).unwrap();
    assert_eq!(air.task, Task::Regression { outputs: 1 });
    assert_eq!(air.sample_shape, vec![5]);
    assert_eq!(air.train.n + air.test.n, 300);
    // The same rows as the Airfoil loader reads from the original file (first row: 800 Hz → 126.201 dB).
    let all = load(
        DatasetId::Airfoil,
        &DataDir::none(),
        &LoadOptions::default(),
    )
    .unwrap();
    let first = (0..all.train.n)
        .find(|&i| all.train.sample(i).unwrap() == [800.0, 0.0, 0.3048, 71.3, 0.002_663_37])
        .unwrap();
    assert_eq!(all.train.target(first).unwrap(), &[126.201]);
    let found = [&air.train, &air.test].iter().any(|s| {
        (0..s.n).any(|i| {
            s.sample(i).unwrap() == [800.0, 0.0, 0.3048, 71.3, 0.002_663_37]
                && s.target(i).unwrap() == [126.201]
        })
    });
    assert!(found);
    // Another column as the target: chord length (6 distinct numbers) forced to classes.
    let chord = load_own(&own(
        "csv",
        "own/airfoil.csv",
        ",target=chord,task=classification",
    ))
    .unwrap();
    assert!(matches!(chord.task, Task::Classification { classes } if classes > 1));
    assert_eq!(chord.sample_shape, vec![5]);
}

#[test]
fn broken_csv_tables_get_one_line_errors_with_line_and_column() {
    let d = tmp();
    let text = std::fs::read_to_string(fixture("own/iris.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let csv_spec = |p: &Path, opts: &str| spec(&format!("csv:{}{opts}", p.display()));

    lines[3] = "5.0,3.6,1.4,setosa".into();
    let p = write(d.path(), "ragged.csv", lines.join("\n").as_bytes());
    let e = err(&csv_spec(&p, ""));
    assert!(e.contains("line 4 has 4 fields, expected 5"), "{e}");

    lines[3] = "5.0,3.6,abc,0.2,setosa".into();
    let p = write(d.path(), "text.csv", lines.join("\n").as_bytes());
    let e = err(&csv_spec(&p, ""));
    assert!(
        e.contains("line 4, column 3") && e.contains("not a number"),
        "{e}"
    );

    lines[3] = "5.0,3.6,1.4,0.2,".into();
    let p = write(d.path(), "noclass.csv", lines.join("\n").as_bytes());
    assert!(err(&csv_spec(&p, "")).contains("class name is empty"));

    let iris = fixture("own/iris.csv");
    let e = err(&csv_spec(&iris, ",target=kind"));
    assert!(
        e.contains("no target column \"kind\"") && e.contains("petal_width"),
        "{e}"
    );
    let e = err(&csv_spec(&iris, ",task=regression"));
    assert!(
        e.contains("line 2, column 5") && e.contains("setosa"),
        "{e}"
    );
    let p = write(d.path(), "one.csv", b"y\n1\n2\n");
    assert!(err(&csv_spec(&p, "")).contains("at least one feature"));
    let p = write(d.path(), "empty.csv", b"");
    assert!(err(&csv_spec(&p, "")).contains("empty"));
    let p = write(d.path(), "few.csv", b"a,y\n1,2\n");
    assert!(err(&csv_spec(&p, "")).contains("too few"));
}

#[test]
fn npy_folders_load_keras_layouts_and_refuse_broken_arrays() {
    let ds = load_own(&own("npy", "own/fashion-npy", "")).unwrap();
    assert_eq!(ds.sample_shape, vec![1, 28, 28]);
    assert_eq!((ds.train.n, ds.test.n), (32, 32));
    assert_eq!(ds.task, Task::Classification { classes: 10 });
    let images = gunzip(&fixture("fashion-mnist/train-images-idx3-ubyte.gz"));
    let labels = gunzip(&fixture("fashion-mnist/train-labels-idx1-ubyte.gz"));
    let want: Vec<f32> = images[16..16 + 32 * 784]
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    assert_eq!(ds.train.x, want);
    let want: Vec<usize> = labels[8..8 + 32].iter().map(|&l| usize::from(l)).collect();
    assert_eq!(ds.train.labels.as_ref().unwrap(), &want);

    let d = tmp();
    let dir = d.path().join("arrays");
    copy_dir(&fixture("own/fashion-npy"), &dir);
    let s = spec(&format!("npy:{}", dir.display()));
    let y = std::fs::read(dir.join("y_test.npy")).unwrap();
    write(&dir, "y_test.npy", &y[..y.len() - 8]);
    let e = err(&s);
    assert!(e.contains("y_test.npy") && e.contains("data bytes"), "{e}");
    write(&dir, "y_test.npy", &y[..40]);
    assert!(err(&s).contains("y_test.npy"));
    std::fs::remove_file(dir.join("y_test.npy")).unwrap();
    let e = err(&s);
    assert!(e.contains("y_test.npy"), "{e}");
    std::fs::remove_file(dir.join("x_test.npy")).unwrap();
    // Without test files the records are split 80/20.
    assert_eq!(load_own(&s).unwrap().test.n, 7);
    std::fs::remove_file(dir.join("y_train.npy")).unwrap();
    assert!(err(&s).contains("y_train.npy"));
}

/// CIFAR-100 records built from the CIFAR-10 fixture's pixels (no CIFAR-100 file is in the project's data):
/// record i gets coarse label i mod 20 and fine label (7·i) mod 100.
fn cifar100_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (_, pixels)) in cifar_records().iter().cycle().take(n).enumerate() {
        out.push((i % 20) as u8);
        out.push((7 * i % 100) as u8);
        out.extend_from_slice(pixels);
    }
    out
}

#[test]
fn cifar100_reads_fine_or_coarse_labels_from_the_binary_version() {
    let d = tmp();
    let root = d.path().join("cifar100");
    write(&root, "cifar-100-binary/train.bin", &cifar100_bytes(30));
    write(&root, "cifar-100-binary/test.bin", &cifar100_bytes(10));
    let dir = DataDir::at(d.path());
    let fine = load(DatasetId::Cifar100, &dir, &LoadOptions::default()).unwrap();
    assert_eq!((fine.train.n, fine.test.n), (30, 10));
    assert_eq!(fine.task, Task::Classification { classes: 100 });
    assert_eq!(&fine.train.labels.as_ref().unwrap()[..4], &[0, 7, 14, 21]);
    let coarse = load(DatasetId::Cifar100Coarse, &dir, &LoadOptions::default()).unwrap();
    assert_eq!(&coarse.train.labels.as_ref().unwrap()[..4], &[0, 1, 2, 3]);
    assert_eq!(coarse.task, Task::Classification { classes: 20 });
    assert_eq!(coarse.train.x, fine.train.x);
    let first: Vec<f32> = cifar_records()[0]
        .1
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    assert_eq!(fine.train.sample(0).unwrap(), &first[..]);

    let mut bad = cifar100_bytes(3);
    bad[hundred::RECORD_LEN + 1] = 100;
    let p = write(d.path(), "bad.bin", &bad);
    let e = hundred::read_file(&p, hundred::Labels::Coarse, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("record 2") && e.contains("label 100 is not below 100"),
        "{e}"
    );
    let p = write(
        d.path(),
        "short.bin",
        &cifar100_bytes(2)[..hundred::RECORD_LEN + 5],
    );
    assert!(
        hundred::read_file(&p, hundred::Labels::Fine, None)
            .unwrap_err()
            .to_string()
            .contains("multiple")
    );
}
