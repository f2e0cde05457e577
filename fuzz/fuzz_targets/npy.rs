//! Fuzzes the NumPy `.npy` parser: a self-consistent array or a one-line error naming the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixlab_data::own::{NpyData, parse_npy};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    match parse_npy(Path::new("fuzz.npy"), data) {
        Ok(a) => {
            let n: usize = a.shape.iter().product();
            let len = match &a.data {
                NpyData::Int(v) => v.len(),
                NpyData::Float(v) => v.len(),
            };
            assert_eq!(len, n);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.npy: ") && !msg.contains('\n'), "{msg}");
        }
    }
});
