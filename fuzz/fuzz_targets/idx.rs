//! Fuzzes the IDX reader (raw and gzip) with and without a pinned magic and a record limit: it must return
//! an error naming the input, never panic or over-allocate, and a decoded file must be self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixlab_data::idx::{MAGIC_IMAGES, MAGIC_LABELS, read_idx_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let name = Path::new("fuzz.idx");
    for (magic, limit) in [
        (None, None),
        (Some(MAGIC_IMAGES), Some(7)),
        (Some(MAGIC_LABELS), None),
    ] {
        match read_idx_bytes(name, data, magic, limit) {
            Ok(idx) => {
                assert_eq!(idx.data.len(), idx.dims.iter().product::<usize>());
                assert!(idx.dims[0] <= idx.total);
                assert!(limit.is_none_or(|l| idx.dims[0] <= l));
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("fuzz.idx: ") && !msg.contains('\n'), "{msg}");
            }
        }
    }
});
