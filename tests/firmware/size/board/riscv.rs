//! The RISC-V runtime (riscv-rt), run on QEMU's `virt` board (`-bios none`: the program
//! is loaded at the start of its RAM, 0x8000_0000, and runs in machine mode): the
//! conversation is where QEMU's loader put it (0x8030_0000, outside the program's RAM),
//! what the probe writes goes to the semihosting console, and the exit status is the
//! semihosting exit.

use core::arch::asm;

pub use super::bare_metal::{stack_limit, stack_top, write};

const CONVERSATION: usize = 0x8030_0000;
const CONVERSATION_MAX: usize = 0x1_0000;

#[riscv_rt::entry]
fn main() -> ! {
    // SAFETY: RAM outside the program's, filled by the loader before reset.
    let raw = unsafe { core::slice::from_raw_parts(CONVERSATION as *const u8, CONVERSATION_MAX) };
    super::run(raw, crate::serve)
}

/// A semihosting call (the trap is the uncompressed `slli; ebreak; srai` sequence).
pub fn semihost(op: u32, arg: usize) -> usize {
    let out: usize;
    // SAFETY: the semihosting trap; the host reads `arg` and returns.
    unsafe {
        asm!(
            ".option push",
            ".option norvc",
            ".balign 16",
            "slli x0, x0, 0x1f",
            "ebreak",
            "srai x0, x0, 7",
            ".option pop",
            inout("a0") op as usize => out,
            in("a1") arg,
            options(nostack),
        )
    };
    out
}

pub fn exit(ok: bool) -> ! {
    // SYS_EXIT: ADP_Stopped_ApplicationExit (QEMU exits 0) or ADP_Stopped_RunTimeErrorUnknown
    // (on a 32-bit target the reason itself, not a block).
    semihost(0x18, if ok { 0x2_0026 } else { 0x2_0023 });
    loop {}
}
