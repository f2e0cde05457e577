//! Fuzzes the CIFAR-10 binary reader: whole 3073-byte records or a clear error naming the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixlab_data::cifar::{CLASSES, read_cifar_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let name = Path::new("fuzz.bin");
    for limit in [None, Some(2)] {
        match read_cifar_bytes(name, data, limit) {
            Ok(im) => {
                assert_eq!(im.labels.len(), im.n);
                assert_eq!(im.pixels.len(), im.n * 3 * 32 * 32);
                assert!(im.labels.iter().all(|&l| usize::from(l) < CLASSES));
                assert!(limit.is_none_or(|l| im.n <= l));
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("fuzz.bin: ") && !msg.contains('\n'), "{msg}");
            }
        }
    }
});
