#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wscodec::__fuzz::request_parser(data));
