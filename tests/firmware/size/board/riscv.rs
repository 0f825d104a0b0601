//! The RISC-V runtime (riscv-rt), linked for the size figures; laid out like QEMU's `virt`
//! board (flash at 0x2000_0000, RAM at 0x8000_0000), the conversation at 0x8030_0000, the
//! output and the exit through semihosting.

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
    let block = [if ok { 0x2_0026 } else { 0x2_0023 }, 0usize];
    semihost(0x18, block.as_ptr() as usize);
    loop {}
}
