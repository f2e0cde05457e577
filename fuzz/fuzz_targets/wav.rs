//! Fuzzes the 16-bit mono WAV reader used for FSDD: samples no more than the input holds, or a clear error
//! naming the input; then the crop/pad to a fixed length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixlab_data::fsdd::{MAX_SAMPLES, SAMPLE_RATE, fit_centered, read_wav_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    match read_wav_bytes(Path::new("fuzz.wav"), data, SAMPLE_RATE) {
        Ok(samples) => {
            assert!(samples.len() as u64 <= MAX_SAMPLES);
            assert!(samples.len() * 2 <= data.len());
            let mut out = [0f32; 64];
            fit_centered(&samples, &mut out);
            assert!(out.iter().all(|v| (-1.0..1.0).contains(v)));
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.wav: ") && !msg.contains('\n'), "{msg}");
        }
    }
});
