#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wscodec_fuzz_bodies::handshake_request(data));
