#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wscodec_fuzz::inflate::inflate_differential(data));
