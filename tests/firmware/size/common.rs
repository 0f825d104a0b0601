//! Shared by the size probes: the "board" under a minimal `#![no_std]` server.
//!
//! The C runtime that calls `main` (and provides memcpy/memcmp) stands in for a board's
//! startup code, and file descriptors 0 and 1 stand in for a UART or a socket driver.
//! Reading real input keeps the optimizer from folding the server away.

use core::panic::PanicInfo;

#[link(name = "c")]
unsafe extern "C" {
    fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {}
}

/// Reads from stdin: the number of bytes read, 0 at EOF, `Err(())` on error.
pub fn read_in(buf: &mut [u8]) -> Result<usize, ()> {
    let n = unsafe { read(0, buf.as_mut_ptr(), buf.len()) };
    usize::try_from(n).map_err(|_| ())
}

/// Writes all of `buf` to stdout.
pub fn write_out(mut buf: &[u8]) -> Result<(), ()> {
    while !buf.is_empty() {
        let n = unsafe { write(1, buf.as_ptr(), buf.len()) };
        let n = usize::try_from(n).map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// Runs the probe's server and returns its exit code. Built with feature `stack` (a
/// separate build: the `.text` figures come from the build without it), it also prints
/// the stack high-water mark of the server to stderr as `stack N`: the stack below this
/// function is painted with a pattern first and scanned for the deepest changed word
/// after.
#[allow(dead_code)] // the wss:// client probe has no server to run
#[inline(always)]
pub fn run(serve: fn() -> i32) -> i32 {
    #[cfg(feature = "stack")]
    {
        stack::run(serve)
    }
    #[cfg(not(feature = "stack"))]
    {
        serve()
    }
}

#[cfg(feature = "stack")]
mod stack {
    /// How deep below `run` the stack is painted.
    const DEPTH: usize = 256 * 1024;
    const PAINT: u64 = 0xA5A5_5A5A_A5A5_5A5A;

    #[inline(never)]
    pub(super) fn run(serve: fn() -> i32) -> i32 {
        let here = 0u8;
        let top = core::hint::black_box(&here as *const u8 as usize);
        let painted = paint(top);
        // Called through an opaque pointer, so that its frame is not merged into this one.
        let code = core::hint::black_box(serve)();
        let used = top - deepest_change(painted);
        let mut line = *b"stack 00000000\n";
        let mut n = used;
        for digit in line[6..14].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
        unsafe { super::write(2, line.as_ptr(), line.len()) };
        code
    }

    /// Paints `DEPTH` bytes below the frame of this function (which lies below `top`) and
    /// returns the top of the painted range.
    #[inline(never)]
    fn paint(top: usize) -> usize {
        let start = (top - 1024) & !7;
        let mut at = start;
        while at > start - DEPTH {
            at -= 8;
            unsafe { core::ptr::write_volatile(at as *mut u64, PAINT) };
        }
        start
    }

    /// The lowest address in the painted range whose word was overwritten.
    #[inline(never)]
    fn deepest_change(start: usize) -> usize {
        let mut at = start - DEPTH;
        while at < start && unsafe { core::ptr::read_volatile(at as *const u64) } == PAINT {
            at += 8;
        }
        at
    }
}
