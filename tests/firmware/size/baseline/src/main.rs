//! The floor under the size probes: the board alone (runtime, panic handler, in-memory
//! transport, stack measurement). It copies the conversation to the output.
#![no_std]
#![no_main]

#[path = "../../board/mod.rs"]
mod board;

fn serve() -> i32 {
    let mut buf = [0u8; 64];
    loop {
        match board::read(&mut buf) {
            0 => return 0,
            n => {
                if board::write(&buf[..n]).is_err() {
                    return 1;
                }
            }
        }
    }
}
