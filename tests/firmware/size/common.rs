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
