//! The RISC-V runtime (riscv-rt), linked for the size figures; laid out like QEMU's `virt`
//! board (flash at 0x2000_0000, RAM at 0x8000_0000), the conversation at 0x8030_0000, the
//! output and the exit through semihosting.

use core::arch::asm;

const CONVERSATION: usize = 0x8030_0000;
const CONVERSATION_MAX: usize = 0x1_0000;

#[riscv_rt::entry]
fn main() -> ! {
    // SAFETY: RAM outside the program's, filled by the loader before reset.
    let raw = unsafe { core::slice::from_raw_parts(CONVERSATION as *const u8, CONVERSATION_MAX) };
    super::run(raw, crate::serve)
}

/// A semihosting call (the trap is the uncompressed `slli; ebreak; srai` sequence).
fn semihost(op: u32, arg: usize) -> usize {
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

pub fn write(buf: &[u8]) -> Result<(), ()> {
    for byte in buf {
        semihost(0x03, byte as *const u8 as usize);
    }
    Ok(())
}

pub fn exit(ok: bool) -> ! {
    let block = [if ok { 0x2_0026 } else { 0x2_0023 }, 0usize];
    semihost(0x18, block.as_ptr() as usize);
    loop {}
}

unsafe extern "C" {
    static _stack_start: u32;
    static __sheap: u32;
}

pub fn stack_top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

pub fn stack_limit(_top: usize) -> usize {
    core::ptr::addr_of!(__sheap) as usize
}
