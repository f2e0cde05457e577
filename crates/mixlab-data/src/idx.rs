//! IDX reader (MNIST, Fashion-MNIST): big-endian header `00 00 08 N` + N u32 dimensions, then u8 data.
//! Raw or gzip. Every header is checked against a size cap and, for raw files, against the file size before any
//! buffer is allocated; gzip payloads are read with a bounded buffer that grows only as real bytes arrive.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::images::U8Images;
use crate::input::{maybe_gunzip, open_file, read_full};

/// Magic of a 3-D u8 IDX file (images).
pub const MAGIC_IMAGES: u32 = 0x0000_0803;
/// Magic of a 1-D u8 IDX file (labels).
pub const MAGIC_LABELS: u32 = 0x0000_0801;
/// Largest payload an IDX header may claim: 2^31 bytes (full MNIST train images are 47 MB).
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 31;

/// A decoded u8 IDX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// Dimensions as read; `dims[0]` is the number of records actually read (after `limit`).
    pub dims: Vec<usize>,
    /// Records the header announced (`dims[0]` before `limit`).
    pub total: usize,
    /// `dims.product()` bytes, record-major.
    pub data: Vec<u8>,
}

fn noun(magic: u32, count: u64) -> &'static str {
    match (magic, count == 1) {
        (MAGIC_IMAGES, false) => "images",
        (MAGIC_IMAGES, true) => "image",
        (MAGIC_LABELS, false) => "labels",
        (MAGIC_LABELS, true) => "label",
        (_, false) => "records",
        (_, true) => "record",
    }
}

/// Reads a u8 IDX file (raw or gzip).
///
/// `expected_magic` pins the magic (and so the number of dimensions); `None` accepts any u8 IDX with 1 to 4
/// dimensions. `limit` reads only the first `limit` records. Refused: wrong magic, a zero dimension, a payload
/// over [`MAX_PAYLOAD_BYTES`], a raw file whose size disagrees with its header, truncated data, and (on full reads)
/// bytes after the last record.
pub fn read_idx(path: &Path, expected_magic: Option<u32>, limit: Option<usize>) -> Result<Idx> {
    let (file, file_len) = open_file(path)?;
    read_idx_from(path, BufReader::new(file), file_len, expected_magic, limit)
}

/// [`read_idx`] on bytes already in memory (raw or gzip); `name` only names the input in error messages.
pub fn read_idx_bytes(
    name: &Path,
    bytes: &[u8],
    expected_magic: Option<u32>,
    limit: Option<usize>,
) -> Result<Idx> {
    if bytes.is_empty() {
        return Err(Error::Empty {
            path: name.to_path_buf(),
        });
    }
    read_idx_from(name, bytes, bytes.len() as u64, expected_magic, limit)
}

/// The reader behind [`read_idx`] and [`read_idx_bytes`]: `file_len` is the size of the (possibly gzip'd) input.
fn read_idx_from<R: BufRead>(
    path: &Path,
    input: R,
    file_len: u64,
    expected_magic: Option<u32>,
    limit: Option<usize>,
) -> Result<Idx> {
    let (mut r, gz) = maybe_gunzip(input).map_err(|e| Error::io(path, e))?;

    let mut magic_bytes = [0u8; 4];
    let got = read_full(&mut r, &mut magic_bytes).map_err(|e| Error::io(path, e))?;
    if got < 4 {
        return Err(Error::ShortHeader {
            path: path.to_path_buf(),
            what: "IDX",
            got,
            need: 4,
        });
    }
    let magic = u32::from_be_bytes(magic_bytes);
    if let Some(expected) = expected_magic
        && magic != expected
    {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            found: magic,
            expected,
        });
    }
    let ndim = (magic & 0xFF) as usize;
    if magic >> 8 != 0x08 || !(1..=4).contains(&ndim) {
        return Err(Error::BadHeader {
            path: path.to_path_buf(),
            rule: format!(
                "unsupported IDX magic 0x{magic:08X}: only unsigned-byte data (0x000008NN) with 1 to 4 dimensions is read"
            ),
        });
    }

    let header_len = 4 + 4 * ndim;
    let mut dim_bytes = [0u8; 16];
    let got = read_full(&mut r, &mut dim_bytes[..4 * ndim]).map_err(|e| Error::io(path, e))?;
    if got < 4 * ndim {
        return Err(Error::ShortHeader {
            path: path.to_path_buf(),
            what: "IDX",
            got: 4 + got,
            need: header_len,
        });
    }
    let dims: Vec<u64> = dim_bytes[..4 * ndim]
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    if let Some(k) = dims.iter().skip(1).position(|&d| d == 0) {
        return Err(Error::BadHeader {
            path: path.to_path_buf(),
            rule: format!("IDX dimension {} is 0", k + 2),
        });
    }
    let count = dims[0];
    // u128: a u32 count times three u32 dimensions cannot overflow it.
    let per: u128 = dims[1..].iter().map(|&d| u128::from(d)).product();
    let claimed = u128::from(count) * per;
    if claimed > u128::from(MAX_PAYLOAD_BYTES) {
        let shape = dims[1..]
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x");
        let claim = if shape.is_empty() {
            format!("{count} {}", noun(magic, count))
        } else {
            format!("{count} {} of {shape}", noun(magic, count))
        };
        return Err(Error::HeaderTooLarge {
            path: path.to_path_buf(),
            claim,
            bytes: claimed,
            cap: MAX_PAYLOAD_BYTES,
        });
    }
    // Below the cap, so these fit in u64 and (on 64-bit targets) usize.
    let per = per as u64;
    let claimed = claimed as u64;
    if !gz {
        let expected_len = header_len as u64 + claimed;
        if file_len < expected_len {
            let complete = (file_len.saturating_sub(header_len as u64)) / per;
            return Err(Error::Truncated {
                path: path.to_path_buf(),
                record: complete + 1,
                total: count,
            });
        }
        if file_len > expected_len {
            return Err(Error::TrailingBytes {
                path: path.to_path_buf(),
                extra: file_len - expected_len,
                total: count,
            });
        }
    }

    let n = limit.map_or(count, |l| count.min(l as u64));
    let want = n * per;
    let want_usize = usize::try_from(want).map_err(|_| Error::HeaderTooLarge {
        path: path.to_path_buf(),
        claim: format!("{n} {}", noun(magic, n)),
        bytes: u128::from(want),
        cap: usize::MAX as u64,
    })?;
    // A gzip header can lie about the count: start small and let the buffer grow only with bytes that exist.
    let initial = if gz {
        want_usize.min(1 << 24)
    } else {
        want_usize
    };
    let mut data = Vec::with_capacity(initial);
    (&mut r)
        .take(want)
        .read_to_end(&mut data)
        .map_err(|e| Error::io(path, e))?;
    if (data.len() as u64) < want {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            record: data.len() as u64 / per + 1,
            total: count,
        });
    }
    if gz && n == count {
        let extra = std::io::copy(&mut r.take(MAX_PAYLOAD_BYTES), &mut std::io::sink())
            .map_err(|e| Error::io(path, e))?;
        if extra > 0 {
            return Err(Error::TrailingBytes {
                path: path.to_path_buf(),
                extra,
                total: count,
            });
        }
    }

    let mut out_dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    out_dims[0] = n as usize;
    Ok(Idx {
        dims: out_dims,
        total: count as usize,
        data,
    })
}

/// Reads an IDX image file and its label file into one [`U8Images`] of shape `[1, rows, cols]`.
///
/// Both headers must announce the same count, and every label must be below `classes`.
pub fn read_idx_pair(
    images_path: &Path,
    labels_path: &Path,
    classes: usize,
    limit: Option<usize>,
) -> Result<U8Images> {
    let images = read_idx(images_path, Some(MAGIC_IMAGES), limit)?;
    let labels = read_idx(labels_path, Some(MAGIC_LABELS), limit)?;
    if images.total != labels.total {
        return Err(Error::CountMismatch {
            images_path: images_path.to_path_buf(),
            labels_path: labels_path.to_path_buf(),
            images: images.total as u64,
            labels: labels.total as u64,
        });
    }
    if let Some(i) = labels.data.iter().position(|&l| usize::from(l) >= classes) {
        return Err(Error::BadLabel {
            path: labels_path.to_path_buf(),
            record: i as u64 + 1,
            label: u64::from(labels.data[i]),
            classes,
        });
    }
    Ok(U8Images {
        n: images.dims[0],
        shape: [1, images.dims[1], images.dims[2]],
        pixels: images.data,
        labels: labels.data,
    })
}
