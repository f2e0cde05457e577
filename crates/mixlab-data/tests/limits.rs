//! Limits before allocation: a header (or a file size, or a line) that claims an absurd amount of data is
//! refused with a message stating the claim and the cap, without the reader allocating what was claimed. The
//! inputs are a few bytes (or a sparse file), so an attempt to allocate the claim would abort the test
//! process instead of returning the error checked here.

use mixlab_data::cifar::{MAX_FILE_BYTES, RECORD_LEN, read_cifar_bytes, read_cifar_file};
use mixlab_data::fsdd::{MAX_SAMPLES, SAMPLE_RATE, read_wav_bytes, read_wav_mono16};
use mixlab_data::idx::{MAGIC_IMAGES, MAX_PAYLOAD_BYTES, read_idx, read_idx_bytes};
use mixlab_data::table::{Delimiter, MAX_LINE_BYTES, TableSpec, parse_table, read_table};
use mixlab_data::{Error, Source};
use std::path::Path;

use crate::common::{err, gz, tmp, write};

fn idx_header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v
}

/// A 16-bit mono 8 kHz WAV whose data chunk claims `claim` bytes but holds `samples.len() * 2`.
fn wav_claiming(claim: u32, samples: &[i16]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&claim.saturating_add(36).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    for (x, n) in [
        (1u32, 2),
        (1, 2),
        (SAMPLE_RATE, 4),
        (SAMPLE_RATE * 2, 4),
        (2, 2),
        (16, 2),
    ] {
        v.extend_from_slice(&x.to_le_bytes()[..n]);
    }
    v.extend_from_slice(b"data");
    v.extend_from_slice(&claim.to_le_bytes());
    for s in samples {
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}

#[test]
fn idx_claiming_a_trillion_records_is_refused() {
    // 10^6 × 10^6 one-byte records of a 2-D IDX: 10^12 bytes promised by a 16-byte file.
    let mut bytes = idx_header(0x0802, &[1_000_000, 1_000_000]);
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    let expect = format!(
        "header claims 1000000 records of 1000000 (1000000000000 bytes), more than the cap of {MAX_PAYLOAD_BYTES} bytes"
    );
    let e = err(read_idx_bytes(Path::new("t.idx"), &bytes, None, None));
    assert_eq!(e, format!("t.idx: {expect}"));
    // The same through the file reader, raw and gzip (gzip sizes cannot be checked against the file).
    let dir = tmp();
    for (name, data) in [("t.idx", bytes.clone()), ("t.idx.gz", gz(&bytes))] {
        let p = write(dir.path(), name, &data);
        let e = err(read_idx(&p, None, None));
        assert!(e.ends_with(&format!("{name}: {expect}")), "{e}");
    }
    // A limit does not lift the cap: the header itself is impossible.
    let e = err(read_idx_bytes(Path::new("t.idx"), &bytes, None, Some(1)));
    assert!(e.contains(&expect), "{e}");
}

#[test]
fn idx_image_of_2_pow_32_squared_pixels_is_refused() {
    let mut bytes = idx_header(MAGIC_IMAGES, &[1, u32::MAX, u32::MAX]);
    bytes.extend_from_slice(&[0; 64]);
    let e = err(read_idx_bytes(
        Path::new("big.idx"),
        &bytes,
        Some(MAGIC_IMAGES),
        None,
    ));
    assert_eq!(
        e,
        format!(
            "big.idx: header claims 1 image of 4294967295x4294967295 (18446744065119617025 bytes), more than the cap of {MAX_PAYLOAD_BYTES} bytes"
        )
    );
    // Every dimension at its maximum: 2^128-scale products must not overflow the check.
    let mut bytes = idx_header(0x0804, &[u32::MAX; 4]);
    bytes.push(0);
    let e = err(read_idx_bytes(Path::new("big.idx"), &bytes, None, None));
    assert!(
        e.starts_with(
            "big.idx: header claims 4294967295 records of 4294967295x4294967295x4294967295 ("
        ) && e.ends_with(&format!("more than the cap of {MAX_PAYLOAD_BYTES} bytes")),
        "{e}"
    );
}

#[test]
fn cifar_file_whose_size_implies_absurd_counts_is_refused() {
    // A sparse file of whole records just over the cap: refused from its size, before a byte is read.
    let dir = tmp();
    let p = dir.path().join("data_batch_1.bin");
    let records = MAX_FILE_BYTES / RECORD_LEN as u64 + 1;
    let size = records * RECORD_LEN as u64;
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(size).unwrap();
    drop(f);
    let e = err(read_cifar_file(&p, None));
    assert!(
        e.ends_with(&format!(
            "data_batch_1.bin: {size} bytes, more than the cap of {MAX_FILE_BYTES} bytes"
        )),
        "{e}"
    );
    // A limit does not make an oversized file acceptable.
    assert!(err(read_cifar_file(&p, Some(1))).contains("more than the cap"));
    // In memory, a length that is not whole records says so with the record size.
    let e = err(read_cifar_bytes(
        Path::new("b.bin"),
        &vec![0u8; RECORD_LEN + 1],
        None,
    ));
    assert_eq!(
        e,
        format!(
            "b.bin: size {} bytes is not a multiple of the {RECORD_LEN}-byte record",
            RECORD_LEN + 1
        )
    );
}

#[test]
fn wav_claiming_a_huge_data_chunk_is_refused() {
    let bytes = wav_claiming(0xFFFF_FFF0, &[1, 2, 3]);
    let e = err(read_wav_bytes(Path::new("w.wav"), &bytes, SAMPLE_RATE));
    assert_eq!(
        e,
        format!(
            "w.wav: header claims 2147483640 samples (4294967280 bytes), more than the cap of {} bytes",
            MAX_SAMPLES * 2
        )
    );
    // Under the cap but more than the file holds: refused from the file size.
    let claim = (MAX_SAMPLES * 2) as u32;
    let bytes = wav_claiming(claim, &[1, 2, 3]);
    let dir = tmp();
    let p = write(dir.path(), "w.wav", &bytes);
    let e = err(read_wav_mono16(&p, SAMPLE_RATE));
    assert!(
        e.ends_with(&format!(
            "w.wav: data chunk claims {MAX_SAMPLES} samples ({claim} bytes) but the file has {} bytes",
            bytes.len()
        )),
        "{e}"
    );
}

#[test]
fn table_with_an_absurd_line_is_refused_before_splitting() {
    let cap = MAX_LINE_BYTES as usize;
    // Line 2 is `1,1,1,…` of twice the cap; line 1 is a normal row.
    let mut text = b"1,2\n".to_vec();
    text.extend(std::iter::repeat_n(&b"1,"[..], cap).flatten());
    text.extend_from_slice(b"1\n");
    let long = 2 * cap + 1;
    for delimiter in [Delimiter::Comma, Delimiter::Whitespace] {
        let spec = TableSpec {
            delimiter,
            header: false,
            columns: None,
            text_columns: &[],
            missing: None,
        };
        let r = parse_table(Path::new("t.csv"), &text, &spec);
        assert!(
            matches!(r, Err(Error::LineTooLong { line: 2, .. })),
            "{r:?}"
        );
        assert_eq!(
            err(r),
            format!("t.csv: line 2 is {long} bytes long, more than the cap of {cap} bytes")
        );
    }
    // Through the file reader, gzip'd: the cap applies to the decompressed text.
    let dir = tmp();
    let p = write(dir.path(), "t.csv.gz", &gz(&text));
    let spec = TableSpec {
        delimiter: Delimiter::Comma,
        header: false,
        columns: None,
        text_columns: &[],
        missing: None,
    };
    let e = err(read_table(&Source::File(p), &spec));
    assert!(
        e.ends_with(&format!(
            "t.csv.gz: line 2 is {long} bytes long, more than the cap of {cap} bytes"
        )),
        "{e}"
    );
    // A line exactly at the cap is still read.
    let mut at_cap = b"1 ".repeat(cap / 2);
    at_cap.push(b'\n');
    let spec = TableSpec {
        delimiter: Delimiter::Whitespace,
        ..spec
    };
    let t = parse_table(Path::new("t.dat"), &at_cap, &spec).unwrap();
    assert_eq!((t.rows, t.cols), (1, cap / 2));
}
