//! Shared helpers: fixture paths, temporary copies, gzip, and the optional full-data directory.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The committed fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One fixture file.
pub fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Writes `bytes` to `dir/name` (creating parent folders) and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Gzip-compresses `bytes`.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The decompressed bytes of a gzip file.
pub fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The message of an expected error.
pub fn err<T: std::fmt::Debug>(r: mixlab_data::Result<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// The full-data directory from `MIXLAB_DATA`, or `None` after printing why the caller is skipped.
pub fn shared(test: &str) -> Option<PathBuf> {
    match std::env::var_os(mixlab_data::ENV_VAR) {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => {
            println!("skipping {test}: set MIXLAB_DATA to the full data directory to run it");
            None
        }
    }
}
