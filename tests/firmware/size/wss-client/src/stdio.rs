//! The "board" under the wss:// client: the C runtime that calls `main` stands in for a
//! board's startup code, and stdin/stdout (bridged by scripts/firmware-budget to a TCP
//! connection to the server) for the socket, as an `embedded-io` byte stream.

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

/// stdin/stdout as the byte stream.
pub struct Stdio;

impl embedded_io::ErrorType for Stdio {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Stdio {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // SAFETY: `buf` is valid for its length.
        let n = unsafe { read(0, buf.as_mut_ptr(), buf.len()) };
        usize::try_from(n).map_err(|_| embedded_io::ErrorKind::Other)
    }
}

impl embedded_io::Write for Stdio {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        // SAFETY: `buf` is valid for its length.
        let n = unsafe { write(1, buf.as_ptr(), buf.len()) };
        match usize::try_from(n) {
            Ok(n @ 1..) => Ok(n),
            _ => Err(embedded_io::ErrorKind::Other),
        }
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
