//! Timeouts on a socket, so that a peer that goes silent or stops reading cannot hold an
//! echo task forever.
//!
//! A TCP socket waits as long as its peer likes: a read until bytes arrive, a write until
//! the peer's window opens. A peer that sends pings and never reads the pongs would hold
//! the task in a write for good. [`Timeouts`] bounds each read by the idle timeout and
//! each whole write (and flush) by the write timeout, and reports a timeout as an error of
//! the stream, so the codec ends the connection as it does on any failed write.

use embassy_time::{with_timeout, Duration};
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};

/// A stream error, or a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TimedError<E> {
    /// The stream failed.
    Io(E),
    /// Nothing arrived within the idle timeout.
    Idle,
    /// The peer did not take what was written within the write timeout.
    Stalled,
}

impl<E: core::fmt::Debug> core::fmt::Display for TimedError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e:?}"),
            Self::Idle => f.write_str("idle timeout: nothing arrived"),
            Self::Stalled => f.write_str("write timeout: the peer stopped reading"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for TimedError<E> {}

impl<E: embedded_io_async::Error> embedded_io_async::Error for TimedError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Io(e) => e.kind(),
            Self::Idle | Self::Stalled => ErrorKind::TimedOut,
        }
    }
}

/// `S` with a timeout on every read and on every whole write.
#[derive(Debug)]
pub struct Timeouts<S> {
    stream: S,
    idle: Duration,
    write: Duration,
}

impl<S> Timeouts<S> {
    /// Each read must bring bytes within `idle`; each `write_all` and `flush` must be
    /// done within `write`.
    pub const fn new(stream: S, idle: Duration, write: Duration) -> Self {
        Self { stream, idle, write }
    }
}

impl<S: ErrorType> ErrorType for Timeouts<S> {
    type Error = TimedError<S::Error>;
}

impl<S: Read> Read for Timeouts<S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        match with_timeout(self.idle, self.stream.read(buf)).await {
            Ok(result) => result.map_err(TimedError::Io),
            Err(_) => Err(TimedError::Idle),
        }
    }
}

impl<S: Write> Write for Timeouts<S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        match with_timeout(self.write, self.stream.write(buf)).await {
            Ok(result) => result.map_err(TimedError::Io),
            Err(_) => Err(TimedError::Stalled),
        }
    }

    async fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        match with_timeout(self.write, self.stream.write_all(buf)).await {
            Ok(result) => result.map_err(TimedError::Io),
            Err(_) => Err(TimedError::Stalled),
        }
    }

    /// Returns at once: what was written is in the TCP stack's transmit buffer, which
    /// sends it as the peer's window allows, as `std::net::TcpStream::flush` does.
    /// `embassy-net`'s own flush waits until the peer has acknowledged every byte: a round
    /// trip, and the peer's delayed-ACK timer, for each frame the codec writes (under
    /// QEMU's user networking up to 500 ms a frame). A peer that stops taking data still
    /// cannot hold the task: the buffer fills and the next write times out.
    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
