//! `embedded_io` over `std::io` streams, for hosts.

/// Wraps a `std::io::Read + Write` stream (e.g. `std::net::TcpStream`) so the adapters
/// can use it.
///
/// ```no_run
/// use wscodec::io::{blocking::WebSocket, Options, StdIo};
/// let stream = std::net::TcpStream::connect("127.0.0.1:9001")?;
/// let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 16 * 1024]);
/// let options = Options::new(&mut rx, &mut tx);
/// // The handshake is done (by hand, here): frames follow.
/// let ws = WebSocket::client(StdIo(stream), options, wscodec::random::mask_key);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct StdIo<T>(pub T);

impl<T> embedded_io::ErrorType for StdIo<T> {
    type Error = std::io::Error;
}

impl<T: std::io::Read> embedded_io::Read for StdIo<T> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // A TLS stream reports a TCP end without close_notify this way: to the
                // WebSocket it is an end of stream like any other (1006 without a close).
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(0),
                other => return other,
            }
        }
    }
}

impl<T: std::io::Write> embedded_io::Write for StdIo<T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.0.write_all(buf)
    }
}
