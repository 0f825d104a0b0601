//! Timeouts on a socket, so that a peer that goes silent, trickles, or stops reading cannot
//! hold an echo task forever.
//!
//! A TCP socket waits as long as its peer likes: a read until bytes arrive, a write until
//! the peer's window opens. A peer that sends pings and never reads the pongs would hold
//! the task in a write for good, and one that sends its request head a byte at a time
//! would hold it in reads that each succeed. [`Timeouts`] bounds each read by the idle
//! timeout, everything read before this end's first write (a server's request head) by an
//! absolute deadline, and each whole write by the write timeout, and reports a timeout as
//! an error of the stream, so the codec ends the connection as it does on any failed read
//! or write.

use embassy_time::{with_deadline, with_timeout, Duration, Instant};
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
    /// The peer's request (what it sent before the first answer) was not complete by
    /// the deadline.
    Late,
}

impl<E: core::fmt::Debug> core::fmt::Display for TimedError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e:?}"),
            Self::Idle => f.write_str("idle timeout: nothing arrived"),
            Self::Stalled => f.write_str("write timeout: the peer stopped reading"),
            Self::Late => f.write_str("request deadline: the request came too slowly"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for TimedError<E> {}

impl<E: embedded_io_async::Error> embedded_io_async::Error for TimedError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Io(e) => e.kind(),
            Self::Idle | Self::Stalled | Self::Late => ErrorKind::TimedOut,
        }
    }
}

/// `S` with a timeout on every read and on every whole write.
#[derive(Debug)]
pub struct Timeouts<S> {
    stream: S,
    idle: Duration,
    write: Duration,
    /// Until the first write: the reads' deadline.
    answer_by: Option<Instant>,
}

impl<S> Timeouts<S> {
    /// Each read must bring bytes within `idle`; each `write_all` and `flush` must be
    /// done within `write`.
    pub const fn new(stream: S, idle: Duration, write: Duration) -> Self {
        Self { stream, idle, write, answer_by: None }
    }

    /// Also: whatever is read before the first write (a server's request head) must have
    /// arrived by `deadline`, or the read fails with [`TimedError::Late`].
    #[must_use]
    pub const fn answered_by(mut self, deadline: Instant) -> Self {
        self.answer_by = Some(deadline);
        self
    }
}

impl<S: ErrorType> ErrorType for Timeouts<S> {
    type Error = TimedError<S::Error>;
}

impl<S: Read> Read for Timeouts<S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let idle = Instant::now() + self.idle;
        let (deadline, late) = match self.answer_by {
            Some(answer_by) if answer_by < idle => (answer_by, TimedError::Late),
            _ => (idle, TimedError::Idle),
        };
        match with_deadline(deadline, self.stream.read(buf)).await {
            Ok(result) => result.map_err(TimedError::Io),
            Err(_) => Err(late),
        }
    }
}

impl<S: Write> Write for Timeouts<S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.answer_by = None;
        match with_timeout(self.write, self.stream.write(buf)).await {
            Ok(result) => result.map_err(TimedError::Io),
            Err(_) => Err(TimedError::Stalled),
        }
    }

    async fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.answer_by = None;
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
