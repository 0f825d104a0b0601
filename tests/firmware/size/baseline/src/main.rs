//! The floor under the size probes: C runtime, panic handler and the stdin/stdout driver.
#![no_std]
#![no_main]

#[path = "../../common.rs"]
mod common;

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    common::run(serve)
}

fn serve() -> i32 {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = common::read_in(&mut buf) {
        if common::write_out(&buf[..n]).is_err() {
            return 1;
        }
    }
    0
}
