#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wscodec_fuzz_bodies::deflate_inflate(data));
