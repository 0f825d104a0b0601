//! The Cortex-M runtime (cortex-m-rt), run on QEMU's MPS2 boards (mps2-an386 for
//! thumbv7em, mps2-an385 for thumbv6m): the conversation is where QEMU's loader put it
//! (`-device loader,file=…,addr=0x20300000`, outside the program's RAM), what the probe
//! writes goes to the semihosting console, and the exit status is the semihosting exit.

use core::arch::asm;

pub use super::bare_metal::{stack_limit, stack_top, write};

/// Where the loader puts the conversation, and the most it may take.
const CONVERSATION: usize = 0x2030_0000;
const CONVERSATION_MAX: usize = 0x1_0000;

#[cortex_m_rt::entry]
fn main() -> ! {
    // SAFETY: QEMU's RAM, outside the program's; the loader filled it before reset.
    let raw = unsafe { core::slice::from_raw_parts(CONVERSATION as *const u8, CONVERSATION_MAX) };
    super::run(raw, crate::serve)
}

/// A semihosting call.
pub fn semihost(op: u32, arg: usize) -> usize {
    let out: usize;
    // SAFETY: the semihosting trap; QEMU reads `arg` (a pointer or a value) and returns.
    unsafe { asm!("bkpt 0xAB", inout("r0") op as usize => out, in("r1") arg, options(nostack)) };
    out
}

pub fn exit(ok: bool) -> ! {
    // SYS_EXIT: ADP_Stopped_ApplicationExit (QEMU exits 0) or ADP_Stopped_RunTimeErrorUnknown.
    semihost(0x18, if ok { 0x2_0026 } else { 0x2_0023 });
    loop {}
}
