//! What the bare-metal runtimes share: output through semihosting (each target's own trap,
//! `target::semihost`), and the stack's bounds from the runtime's linker script (both
//! cortex-m-rt and riscv-rt name them so).

use super::target::semihost;

pub fn write(buf: &[u8]) -> Result<(), ()> {
    // SYS_WRITEC, a byte at a time (binary-safe).
    for byte in buf {
        semihost(0x03, byte as *const u8 as usize);
    }
    Ok(())
}

unsafe extern "C" {
    static _stack_start: u32;
    static __sheap: u32;
}

/// The top of the stack (the initial stack pointer).
pub fn stack_top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// The end of the statics: the stack may grow down to here.
pub fn stack_limit(_top: usize) -> usize {
    core::ptr::addr_of!(__sheap) as usize
}
