#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wscodec_fuzz::differential_frames(data));
