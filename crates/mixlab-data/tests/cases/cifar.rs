//! CIFAR-10 binary reader on the fixture batches and on malformed files derived from them.

use mixlab_data::cifar::{RECORD_LEN, find_cifar_files, read_cifar_dir, read_cifar_file};

use crate::common::{err, fixture, fixtures, tmp, write};

#[test]
fn first_records_match_the_official_bytes() {
    let train = read_cifar_file(&fixture("cifar10/data_batch_1.bin"), None).unwrap();
    assert_eq!((train.n, train.shape), (20, [3, 32, 32]));
    // Label 6 = frog, as in the official data_batch_1.
    assert_eq!(&train.labels[..10], &[6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    let img = train.image(0).unwrap();
    assert_eq!(&img[..4], &[59, 43, 50, 68]);
    let raw = std::fs::read(fixture("cifar10/data_batch_1.bin")).unwrap();
    // Green plane starts at byte 1 + 1024 of the record.
    assert_eq!(img[1024], raw[1 + 1024]);
    assert_eq!(
        train.image(19).unwrap(),
        &raw[19 * RECORD_LEN + 1..20 * RECORD_LEN]
    );
    let test = read_cifar_file(&fixture("cifar10/test_batch_first1000.bin"), Some(10)).unwrap();
    assert_eq!(test.labels, vec![3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
}

#[test]
fn directory_reader_orders_batches_and_honours_limit() {
    let dir = tmp();
    let b1 = std::fs::read(fixture("cifar10/data_batch_1.bin")).unwrap();
    let t = std::fs::read(fixture("cifar10/test_batch_first1000.bin")).unwrap();
    // Batch 3 holds the test records so the concatenation order is visible.
    write(dir.path(), "data_batch_1.bin", &b1);
    write(dir.path(), "data_batch_3.bin", &t);
    write(dir.path(), "test_batch_first1000.bin", &t);
    let files = find_cifar_files(dir.path()).unwrap();
    assert_eq!(files.train.len(), 2);
    let (train, test) = read_cifar_dir(dir.path(), None).unwrap();
    assert_eq!((train.n, test.n), (40, 20));
    assert_eq!(&train.labels[19..22], &[6, 3, 8]);
    let (train, test) = read_cifar_dir(dir.path(), Some(25)).unwrap();
    assert_eq!((train.n, test.n), (25, 20));
    assert_eq!(train.labels[24], 6);
    // The official test_batch.bin wins over the prefix file.
    write(dir.path(), "test_batch.bin", &b1[..RECORD_LEN]);
    let (_, test) = read_cifar_dir(dir.path(), None).unwrap();
    assert_eq!(test.labels, vec![6]);
}

#[test]
fn official_subfolder_is_accepted() {
    let dir = tmp();
    let b1 = std::fs::read(fixture("cifar10/data_batch_1.bin")).unwrap();
    write(dir.path(), "cifar-10-batches-bin/data_batch_2.bin", &b1);
    write(dir.path(), "cifar-10-batches-bin/test_batch.bin", &b1);
    let files = find_cifar_files(dir.path()).unwrap();
    assert!(files.train[0].ends_with("cifar-10-batches-bin/data_batch_2.bin"));
    let (train, _) = read_cifar_dir(dir.path(), None).unwrap();
    assert_eq!(train.n, 20);
    // The fixture folder itself is a valid CIFAR-10 folder.
    assert!(read_cifar_dir(&fixtures().join("cifar10"), None).is_ok());
}

#[test]
fn malformed_files_and_folders_are_errors_naming_them() {
    let dir = tmp();
    let b1 = std::fs::read(fixture("cifar10/data_batch_1.bin")).unwrap();
    let p = write(dir.path(), "odd.bin", &b1[..RECORD_LEN * 2 + 5]);
    assert!(
        err(read_cifar_file(&p, None))
            .ends_with("odd.bin: size 6151 bytes is not a multiple of the 3073-byte record")
    );
    let p = write(dir.path(), "empty.bin", b"");
    assert!(err(read_cifar_file(&p, None)).ends_with("empty.bin: file is empty"));
    let mut bad = b1.clone();
    bad[4 * RECORD_LEN] = 200;
    let p = write(dir.path(), "badlabel.bin", &bad);
    assert!(
        err(read_cifar_file(&p, None))
            .ends_with("badlabel.bin: record 5: label 200 is not below 10")
    );
    // A limit that stops before the bad record does not see it.
    assert!(read_cifar_file(&p, Some(4)).is_ok());

    let missing = dir.path().join("no-such-dir");
    assert!(err(read_cifar_dir(&missing, None)).ends_with("no-such-dir: directory does not exist"));
    let only_test = dir.path().join("only-test");
    write(&only_test, "test_batch.bin", &b1);
    let e = err(read_cifar_dir(&only_test, None));
    assert!(e.contains("only-test: no CIFAR-10 training batch"), "{e}");
    let only_train = dir.path().join("only-train");
    write(&only_train, "data_batch_1.bin", &b1);
    assert!(err(read_cifar_dir(&only_train, None)).contains("only-train: no CIFAR-10 test batch"));
}
