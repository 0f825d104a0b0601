//! What the three programs share: the runtime (cortex-m-rt on QEMU's mps2-an386), the
//! clock (the CMSDK timer 0, which under `-icount shift=6` ticks 1.6 times per
//! instruction), the report (semihosting), scratch memory, and the inputs, built the same
//! way for every library before its clock starts.
//!
//! Each program's `run` measures its operations with [`measure`]; every line it prints is
//! `OP TICKS COUNT`, and scripts/cortex-m-icount turns it into instructions per operation.

use core::arch::asm;
use core::panic::PanicInfo;

#[cortex_m_rt::entry]
fn main() -> ! {
    start_timer();
    crate::run();
    exit(true)
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    print(b"panic");
    if let Some(message) = info.message().as_str() {
        print(b": ");
        print(message.as_bytes());
    }
    if let Some(at) = info.location() {
        print(b" at ");
        print(at.file().as_bytes());
    }
    print(b"\n");
    exit(false)
}

fn semihost(op: u32, arg: usize) -> usize {
    let out: usize;
    // SAFETY: the semihosting trap; QEMU reads `arg` and returns.
    unsafe { asm!("bkpt 0xAB", inout("r0") op as usize => out, in("r1") arg, options(nostack)) };
    out
}

/// Writes to the semihosting console (QEMU's stderr).
pub fn print(bytes: &[u8]) {
    for byte in bytes {
        semihost(0x03, byte as *const u8 as usize);
    }
}

fn exit(ok: bool) -> ! {
    semihost(0x18, if ok { 0x2_0026 } else { 0x2_0023 });
    loop {}
}

const TIMER0: usize = 0x4000_0000;

fn start_timer() {
    // SAFETY: the CMSDK APB timer 0 of the MPS2 boards: RELOAD, VALUE, then CTRL.enable.
    unsafe {
        core::ptr::write_volatile((TIMER0 + 8) as *mut u32, u32::MAX);
        core::ptr::write_volatile((TIMER0 + 4) as *mut u32, u32::MAX);
        core::ptr::write_volatile(TIMER0 as *mut u32, 1);
    }
}

fn now() -> u32 {
    // SAFETY: timer 0's VALUE register, counting down.
    unsafe { core::ptr::read_volatile((TIMER0 + 4) as *const u32) }
}

/// Runs `op` `count` times and reports the ticks they took, as `name TICKS COUNT`.
#[inline(never)]
pub fn measure(name: &str, count: usize, mut op: impl FnMut(usize)) {
    let start = now();
    for i in 0..count {
        op(core::hint::black_box(i));
    }
    let ticks = start.wrapping_sub(now());
    print(name.as_bytes());
    print(b" ");
    print_number(ticks as usize);
    print(b" ");
    print_number(count);
    print(b"\n");
}

fn print_number(mut n: usize) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    print(&digits[at..]);
}

/// Scratch memory outside the program's RAM (QEMU's 4 MiB at 0x2000_0000; the program
/// takes the first 256 KiB, the loaded compressed message lies at 0x2030_0000).
pub fn scratch(offset: usize, len: usize) -> &'static mut [u8] {
    assert!(offset + len <= 0x20_0000);
    // SAFETY: RAM no static, stack or other scratch range overlaps (callers take disjoint
    // ranges).
    unsafe { core::slice::from_raw_parts_mut((0x2010_0000 + offset) as *mut u8, len) }
}

/// The compressed message scripts/cortex-m-icount loaded (`u32` length, then a masked
/// client frame with RSV1 holding about 1 KiB of JSON-like text, raw DEFLATE level 6).
pub fn compressed_frame() -> &'static [u8] {
    // SAFETY: the loader's bytes at 0x2030_0000, read only.
    let raw = unsafe { core::slice::from_raw_parts(0x2030_0000 as *const u8, 0x1_0000) };
    let len = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
    &raw[4..4 + len]
}

/// The mask key of every client frame.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Appends a masked, final client frame with first byte `first` to `out` at `at`;
/// returns the new end.
pub fn masked_frame(out: &mut [u8], at: usize, first: u8, payload: &[u8]) -> usize {
    let mut i = at;
    out[i] = first;
    i += 1;
    let len = payload.len();
    if len < 126 {
        out[i] = 0x80 | len as u8;
        i += 1;
    } else if len < 65536 {
        out[i] = 0x80 | 126;
        out[i + 1..i + 3].copy_from_slice(&(len as u16).to_be_bytes());
        i += 3;
    } else {
        out[i] = 0x80 | 127;
        out[i + 1..i + 9].copy_from_slice(&(len as u64).to_be_bytes());
        i += 9;
    }
    out[i..i + 4].copy_from_slice(&KEY);
    i += 4;
    for (j, &b) in payload.iter().enumerate() {
        out[i + j] = b ^ KEY[j % 4];
    }
    i + len
}

/// `count` masked frames of `payload` (text if `text`) in scratch at `offset`.
pub fn frames(offset: usize, count: usize, text: bool, payload: &[u8]) -> &'static mut [u8] {
    let one = payload.len()
        + if payload.len() < 126 {
            6
        } else if payload.len() < 65536 {
            8
        } else {
            14
        };
    let buf = scratch(offset, count * one);
    let mut at = 0;
    for _ in 0..count {
        at = masked_frame(buf, at, if text { 0x81 } else { 0x82 }, payload);
    }
    buf
}

/// One masked 64 KiB binary frame (`decode_64k`): bytes 0 to 255 over and over.
pub fn large_frame() -> &'static mut [u8] {
    let large = scratch(AT_LARGE, LARGE + 14);
    large[0] = 0x82;
    large[1] = 0x80 | 127;
    large[2..10].copy_from_slice(&(LARGE as u64).to_be_bytes());
    large[10..14].copy_from_slice(&KEY);
    for (i, b) in large[14..].iter_mut().enumerate() {
        *b = i as u8 ^ KEY[i % 4];
    }
    large
}

/// The payload of `decode_16` and `encode_16`.
pub const SMALL: &[u8; 16] = b"0123456789abcdef";

/// 128 bytes of ASCII JSON (`decode_128`).
pub const JSON_ASCII: &[u8; 128] =
    br#"{"id":1042,"type":"reading","sensor":"kitchen/temp","value":21.5,"unit":"C","ok":true,"seq":77123,"tags":["a","b","c"],"n":1234}"#;

/// 128 bytes of JSON with multi-byte UTF-8 text (`decode_128_utf8`).
pub const JSON_UTF8: &str = r#"{"id":104,"name":"Küche – Temperatur","note":"naïve café, 東京 と 大阪","emoji":"😀👍","city":"Zürich","ok":true}"#;

/// Frames decoded in each operation.
pub const SMALL_FRAMES: usize = 10_000;
pub const MEDIUM_FRAMES: usize = 1_000;
pub const LARGE: usize = 65_536;

/// Scratch offsets of each input (disjoint).
pub const AT_SMALL: usize = 0;
pub const AT_MEDIUM: usize = 0x4_0000;
pub const AT_MEDIUM_UTF8: usize = 0x6_8000;
pub const AT_LARGE: usize = 0x9_0000;
pub const AT_OUT: usize = 0xB_0000;
pub const AT_UNMASK: usize = 0xD_0000;
pub const AT_WORK: usize = 0xD_8000;
