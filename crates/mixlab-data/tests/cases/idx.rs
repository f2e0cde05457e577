//! IDX reader on the MNIST / Fashion-MNIST fixtures and on malformed files derived from them.

use mixlab_data::idx::{MAGIC_IMAGES, MAGIC_LABELS, MAX_PAYLOAD_BYTES, read_idx, read_idx_pair};

use crate::common::{err, fixture, gunzip, gz, tmp, write};

#[test]
fn mnist_fixture_has_known_labels_and_pixels() {
    let im = fixture("mnist/train-images-idx3-ubyte.gz");
    let lb = fixture("mnist/train-labels-idx1-ubyte.gz");
    let set = read_idx_pair(&im, &lb, 10, None).unwrap();
    assert_eq!((set.n, set.shape), (64, [1, 28, 28]));
    assert_eq!(&set.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    let first = set.image(0).unwrap();
    // Row 14 of the first image (a "5"), as read with Python from the official file.
    assert_eq!(
        &first[14 * 28 + 13..14 * 28 + 19],
        &[81, 240, 253, 253, 119, 25]
    );
    assert_eq!(first.iter().map(|&p| u32::from(p)).sum::<u32>(), 27525);
    let test = read_idx_pair(
        &fixture("mnist/t10k-images-idx3-ubyte.gz"),
        &fixture("mnist/t10k-labels-idx1-ubyte.gz"),
        10,
        None,
    )
    .unwrap();
    assert_eq!(&test.labels[..5], &[7, 2, 1, 0, 4]);
}

#[test]
fn fashion_fixture_has_known_labels() {
    let set = read_idx_pair(
        &fixture("fashion-mnist/train-images-idx3-ubyte.gz"),
        &fixture("fashion-mnist/train-labels-idx1-ubyte.gz"),
        10,
        None,
    )
    .unwrap();
    assert_eq!(&set.labels[..10], &[9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    let sum: u32 = set.image(0).unwrap().iter().map(|&p| u32::from(p)).sum();
    assert_eq!(sum, 76247);
}

#[test]
fn raw_and_gzip_files_read_identically_and_limit_reads_a_prefix() {
    let gzp = fixture("mnist/train-images-idx3-ubyte.gz");
    let dir = tmp();
    let raw = write(dir.path(), "train-images-idx3-ubyte", &gunzip(&gzp));
    let a = read_idx(&gzp, Some(MAGIC_IMAGES), None).unwrap();
    let b = read_idx(&raw, Some(MAGIC_IMAGES), None).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.dims, vec![64, 28, 28]);
    let l = read_idx(&raw, None, Some(3)).unwrap();
    assert_eq!((l.dims.clone(), l.total), (vec![3, 28, 28], 64));
    assert_eq!(l.data[..], a.data[..3 * 784]);
    let g = read_idx(&gzp, None, Some(1000)).unwrap();
    assert_eq!(g.dims[0], 64);
}

#[test]
fn wrong_magic_is_named_with_both_values() {
    let dir = tmp();
    let mut bytes = gunzip(&fixture("mnist/train-images-idx3-ubyte.gz"));
    bytes[..4].copy_from_slice(&[0, 0, 0, 0]);
    let p = write(dir.path(), "mnist/train-images-idx3-ubyte.gz", &gz(&bytes));
    let e = err(read_idx(&p, Some(MAGIC_IMAGES), None));
    assert!(
        e.ends_with("mnist/train-images-idx3-ubyte.gz: bad magic 0x00000000, expected 0x00000803"),
        "{e}"
    );
    // A label file where images are expected.
    let e = err(read_idx(
        &fixture("mnist/train-labels-idx1-ubyte.gz"),
        Some(MAGIC_IMAGES),
        None,
    ));
    assert!(
        e.contains("bad magic 0x00000801, expected 0x00000803"),
        "{e}"
    );
    // Unsupported element type without a pinned magic.
    let mut f = gunzip(&fixture("mnist/train-images-idx3-ubyte.gz"));
    f[2] = 0x0D;
    let p = write(dir.path(), "float.idx", &f);
    let e = err(read_idx(&p, None, None));
    assert!(
        e.contains("float.idx: unsupported IDX magic 0x00000D03"),
        "{e}"
    );
}

#[test]
fn truncated_raw_and_gzip_files_name_the_record() {
    let dir = tmp();
    let bytes = gunzip(&fixture("mnist/train-images-idx3-ubyte.gz"));
    // Cut in the middle of image 17 (16 complete images).
    let cut = 16 + 16 * 784 + 100;
    let raw = write(dir.path(), "cut-raw", &bytes[..cut]);
    assert!(
        err(read_idx(&raw, Some(MAGIC_IMAGES), None))
            .ends_with("cut-raw: truncated record 17 of 64")
    );
    let gzp = write(dir.path(), "cut.gz", &gz(&bytes[..cut]));
    assert!(
        err(read_idx(&gzp, Some(MAGIC_IMAGES), None))
            .ends_with("cut.gz: truncated record 17 of 64")
    );
    // A gzip stream itself cut short is an I/O error that still names the file.
    let whole = gz(&bytes);
    let half = write(dir.path(), "half.gz", &whole[..whole.len() / 2]);
    assert!(err(read_idx(&half, Some(MAGIC_IMAGES), None)).contains("half.gz"));
    // A header cut short.
    let short = write(dir.path(), "short", &bytes[..10]);
    assert!(
        err(read_idx(&short, Some(MAGIC_IMAGES), None))
            .ends_with("short: file ends inside the IDX header (10 of 16 bytes)")
    );
    let tiny = write(dir.path(), "tiny", &bytes[..2]);
    assert!(err(read_idx(&tiny, Some(MAGIC_IMAGES), None)).contains("(2 of 4 bytes)"));
}

#[test]
fn header_and_size_mismatch_in_both_directions() {
    let dir = tmp();
    let mut bytes = gunzip(&fixture("mnist/train-labels-idx1-ubyte.gz"));
    bytes.extend_from_slice(&[1, 2, 3]);
    let raw = write(dir.path(), "labels-extra", &bytes);
    let e = err(read_idx(&raw, Some(MAGIC_LABELS), None));
    assert!(
        e.ends_with("labels-extra: 3 unexpected bytes after the last of 64 records"),
        "{e}"
    );
    let gzp = write(dir.path(), "labels-extra.gz", &gz(&bytes));
    assert!(err(read_idx(&gzp, Some(MAGIC_LABELS), None)).contains("3 unexpected bytes"));
    // Header claims 65 labels, 64 present.
    let mut claim = gunzip(&fixture("mnist/train-labels-idx1-ubyte.gz"));
    claim[4..8].copy_from_slice(&65u32.to_be_bytes());
    let p = write(dir.path(), "labels-65", &claim);
    assert!(err(read_idx(&p, Some(MAGIC_LABELS), None)).ends_with("truncated record 65 of 65"));
}

#[test]
fn absurd_counts_are_refused_before_allocating() {
    let dir = tmp();
    let mut bytes = gunzip(&fixture("mnist/train-images-idx3-ubyte.gz"));
    bytes[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    for (name, data) in [("huge.gz", gz(&bytes)), ("huge", bytes.clone())] {
        let p = write(dir.path(), name, &data);
        let e = err(read_idx(&p, Some(MAGIC_IMAGES), None));
        assert!(
            e.contains(&format!(
                "header claims 4294967295 images of 28x28 (3367254359280 bytes), more than the cap of {MAX_PAYLOAD_BYTES} bytes"
            )),
            "{e}"
        );
    }
    // Under the cap but far more than the file holds: raw files are checked against their size, gzip reads
    // stop at the real end of the data.
    bytes[4..8].copy_from_slice(&2_000_000u32.to_be_bytes());
    let p = write(dir.path(), "lying", &bytes);
    assert!(
        err(read_idx(&p, Some(MAGIC_IMAGES), None)).ends_with("truncated record 65 of 2000000")
    );
    let p = write(dir.path(), "lying.gz", &gz(&bytes));
    assert!(
        err(read_idx(&p, Some(MAGIC_IMAGES), None)).ends_with("truncated record 65 of 2000000")
    );
    // A zero dimension.
    bytes[8..12].copy_from_slice(&0u32.to_be_bytes());
    let p = write(dir.path(), "zero", &bytes);
    assert!(err(read_idx(&p, Some(MAGIC_IMAGES), None)).ends_with("zero: IDX dimension 2 is 0"));
}

#[test]
fn empty_and_missing_files_are_errors() {
    let dir = tmp();
    let p = write(dir.path(), "empty.gz", b"");
    assert!(err(read_idx(&p, None, None)).ends_with("empty.gz: file is empty"));
    let missing = dir.path().join("nope.gz");
    let e = err(read_idx(&missing, None, None));
    assert!(e.contains("nope.gz: cannot read"), "{e}");
}

#[test]
fn pair_checks_counts_and_label_range() {
    let dir = tmp();
    let images = fixture("mnist/train-images-idx3-ubyte.gz");
    let mut labels = gunzip(&fixture("mnist/train-labels-idx1-ubyte.gz"));
    labels.truncate(8 + 63);
    labels[4..8].copy_from_slice(&63u32.to_be_bytes());
    let p = write(dir.path(), "labels63", &labels);
    let e = err(read_idx_pair(&images, &p, 10, None));
    assert!(
        e.contains("64 images but") && e.ends_with("labels63 holds 63 labels"),
        "{e}"
    );
    let mut labels = gunzip(&fixture("mnist/train-labels-idx1-ubyte.gz"));
    labels[8 + 16] = 10;
    let p = write(dir.path(), "labels-bad", &labels);
    assert!(
        err(read_idx_pair(&images, &p, 10, None))
            .ends_with("labels-bad: record 17: label 10 is not below 10")
    );
}
