//! stdin/stdout as an `embedded-io` byte stream, for the probes built on that trait.

use crate::common;

/// stdin/stdout as the byte stream.
pub struct Stdio;

impl embedded_io::ErrorType for Stdio {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Stdio {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        common::read_in(buf).map_err(|()| embedded_io::ErrorKind::Other)
    }
}

impl embedded_io::Write for Stdio {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        common::write_out(buf).map(|()| buf.len()).map_err(|()| embedded_io::ErrorKind::Other)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
