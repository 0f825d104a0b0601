#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wscodec_fuzz_bodies::close_payload(data));
