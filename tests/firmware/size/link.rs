//! The board's in-memory transport as an `embedded-io` byte stream, for the probes built
//! on that trait.

use crate::board;

/// The scripted client's connection.
pub struct Link;

impl embedded_io::ErrorType for Link {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(board::read(buf))
    }
}

impl embedded_io::Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        board::write(buf).map(|()| buf.len()).map_err(|()| embedded_io::ErrorKind::Other)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
