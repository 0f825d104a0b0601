//! The "board" under the size probes: a runtime that starts the probe's `serve`, an
//! in-memory transport that hands it a scripted client conversation, and the stack
//! high-water mark of the job. The same on every target, so that it is part of the floor
//! every probe is measured above (tests/firmware/size/baseline is this alone).
//!
//! The conversation is not compiled in (the optimizer could fold the server away): the
//! host runtime reads it from stdin, and on a microcontroller QEMU's loader puts it in RAM
//! beside the program. Its layout: the magic `WSCV`, a little-endian `u32` count of
//! reads, one `u32` length per read, then the bytes. Each `read` of the probe returns at
//! most the rest of the current read: the script decides whether the frames arrive in the
//! same read as the handshake or in one of their own.
//!
//! What the probe writes goes out as it is (stdout, or semihosting's console), followed by
//! a trailer: `\0board stack N exit C\n`, N the stack high-water mark of the whole job in
//! bytes (the stack below the runtime is painted before `serve` and scanned after), C the
//! value `serve` returned.

#[cfg(target_os = "none")]
mod bare_metal;
#[cfg(target_os = "linux")]
#[path = "host.rs"]
mod target;
#[cfg(all(target_os = "none", target_arch = "arm"))]
#[path = "cortex_m.rs"]
mod target;
#[cfg(all(target_os = "none", target_arch = "riscv32"))]
#[path = "riscv.rs"]
mod target;

use core::panic::PanicInfo;

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    target::exit(false)
}

/// The scripted conversation: the length of each read, and the bytes.
struct Conversation {
    lens: &'static [u32],
    bytes: &'static [u8],
    /// The read being delivered, and how much of it has been.
    at: usize,
    taken: usize,
}

static mut CONVERSATION: Conversation = Conversation { lens: &[], bytes: &[], at: 0, taken: 0 };

/// Reads the next bytes the client sent: at most the rest of the current scripted read,
/// 0 when the conversation is over.
pub fn read(buf: &mut [u8]) -> usize {
    // SAFETY: single-threaded; nothing else holds a reference to it.
    let c = unsafe { &mut *core::ptr::addr_of_mut!(CONVERSATION) };
    let Some(&len) = c.lens.get(c.at) else {
        return 0;
    };
    let n = buf.len().min(len as usize - c.taken);
    buf[..n].copy_from_slice(&c.bytes[..n]);
    c.bytes = &c.bytes[n..];
    c.taken += n;
    if c.taken == len as usize {
        c.at += 1;
        c.taken = 0;
    }
    n
}

/// Sends bytes to the client.
pub fn write(buf: &[u8]) -> Result<(), ()> {
    target::write(buf)
}

/// Starts the job: takes the conversation from `raw` (its layout above), paints the stack,
/// runs `serve`, reports, and exits with success if `serve` returned 0.
fn run(raw: &'static [u8], serve: fn() -> i32) -> ! {
    let Some(conversation) = parse(raw) else {
        target::write(b"\0board no conversation (WSCV header) where it was expected\n").ok();
        target::exit(false)
    };
    // SAFETY: single-threaded; set before `serve` runs.
    unsafe { *core::ptr::addr_of_mut!(CONVERSATION) = conversation };
    let top = target::stack_top();
    let bottom = paint(top);
    // Called through an opaque pointer, so that its frame is not merged into this one.
    let code = core::hint::black_box(serve)();
    let used = top - deepest_change(bottom, top);
    let mut line = *b"\0board stack 00000000 exit 000\n";
    decimal(&mut line[13..21], used);
    decimal(&mut line[27..30], code as u8 as usize);
    target::write(&line).ok();
    target::exit(code == 0)
}

fn parse(raw: &'static [u8]) -> Option<Conversation> {
    let word = |i: usize| Some(u32::from_le_bytes(raw.get(i * 4..i * 4 + 4)?.try_into().ok()?));
    if raw.get(..4)? != b"WSCV" {
        return None;
    }
    let count = word(1)? as usize;
    let header = raw.get(8..8 + count * 4)?;
    // SAFETY: a u32 array in the header; the loader put it at a 4-aligned address.
    let (_, lens, _) = unsafe { header.align_to::<u32>() };
    let total: usize = lens.iter().map(|&l| l as usize).sum();
    let bytes = raw.get(8 + count * 4..8 + count * 4 + total)?;
    Some(Conversation { lens, bytes, at: 0, taken: 0 })
}

/// `n` in decimal, right-aligned in `digits`. By subtraction, not division: on a core
/// without a divide instruction (Cortex-M0) a division would bring the runtime's divide
/// routine into the floor and hide it from the probes that need it.
fn decimal(digits: &mut [u8], mut n: usize) {
    const POWERS: [usize; 8] = [10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];
    let powers = POWERS.get(POWERS.len() - digits.len()..).unwrap_or(&[]);
    for (digit, &unit) in digits.iter_mut().zip(powers) {
        *digit = b'0';
        while n >= unit {
            n -= unit;
            *digit += 1;
        }
    }
}

const PAINT: u32 = 0xA5A5_5A5A;

/// Paints the stack from below the frame of this function down to the target's limit;
/// returns the lowest painted address.
#[inline(never)]
fn paint(top: usize) -> usize {
    let here = 0u8;
    let start = (core::hint::black_box(&here as *const u8 as usize) - 256) & !3;
    let bottom = target::stack_limit(top);
    let mut at = start;
    while at > bottom {
        at -= 4;
        // SAFETY: stack memory below every live frame, above the statics.
        unsafe { core::ptr::write_volatile(at as *mut u32, PAINT) };
    }
    at
}

/// The lowest address at or above `bottom` whose word is no longer the paint.
#[inline(never)]
fn deepest_change(bottom: usize, top: usize) -> usize {
    let mut at = bottom;
    // SAFETY: the range `paint` painted.
    while at < top && unsafe { core::ptr::read_volatile(at as *const u32) } == PAINT {
        at += 4;
    }
    at
}
