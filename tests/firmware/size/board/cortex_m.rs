//! The Cortex-M runtime (cortex-m-rt), run on QEMU's MPS2 boards (mps2-an386 for
//! thumbv7em, mps2-an385 for thumbv6m): the conversation is where QEMU's loader put it
//! (`-device loader,file=…,addr=0x20300000`, outside the program's RAM), what the probe
//! writes goes to the semihosting console, and the exit status is the semihosting exit.

use core::arch::asm;

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
fn semihost(op: u32, arg: usize) -> usize {
    let out: usize;
    // SAFETY: the semihosting trap; QEMU reads `arg` (a pointer or a value) and returns.
    unsafe { asm!("bkpt 0xAB", inout("r0") op as usize => out, in("r1") arg, options(nostack)) };
    out
}

pub fn write(buf: &[u8]) -> Result<(), ()> {
    // SYS_WRITEC, a byte at a time (binary-safe).
    for byte in buf {
        semihost(0x03, byte as *const u8 as usize);
    }
    Ok(())
}

pub fn exit(ok: bool) -> ! {
    // SYS_EXIT: ADP_Stopped_ApplicationExit (QEMU exits 0) or ADP_Stopped_RunTimeErrorUnknown.
    semihost(0x18, if ok { 0x2_0026 } else { 0x2_0023 });
    loop {}
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
