//! Shared helpers for the integration tests: in-memory transports, a tiny executor,
//! frame builders and an owned copy of events.

/// The project README's examples, compiled and run as doctests (with the features this
/// package enables) so that they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ProjectReadme;

/// The firmware guide's examples, as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/firmware.md")]
pub struct FirmwareGuide;

/// The sans-IO guide's examples, as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/sans-io.md")]
pub struct SansIoGuide;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

use wscodec::Event;
use wscodec::MessageKind;

/// Runs a future to completion by polling it with a no-op waker. The transports used
/// with it never return `Pending`, so this never spins.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Input handed over `chunk` bytes per read; everything written is kept.
#[derive(Debug, Default)]
pub struct Script {
    pub input: VecDeque<u8>,
    pub chunk: usize,
    pub written: Vec<u8>,
}

impl Script {
    pub fn new(input: &[u8], chunk: usize) -> Self {
        Self { input: input.iter().copied().collect(), chunk: chunk.max(1), written: Vec::new() }
    }

    fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.chunk).min(self.input.len());
        for (dst, src) in buf.iter_mut().zip(self.input.drain(..n)) {
            *dst = src;
        }
        n
    }
}

impl embedded_io::ErrorType for Script {
    type Error = Infallible;
}

impl embedded_io::Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        Ok(self.read_into(buf))
    }
}

impl embedded_io::Write for Script {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_io_async::Read for Script {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        Ok(self.read_into(buf))
    }
}

impl embedded_io_async::Write for Script {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// A peer that sends `input` and takes only the first `accepts` bytes written to it;
/// every later write fails as a socket's does when its write timeout passes (or, with
/// `stall`, never completes: an async write that waits forever).
#[derive(Debug)]
pub struct StopsReading {
    pub script: Script,
    pub accepts: usize,
    pub stall: bool,
}

impl StopsReading {
    pub fn new(input: &[u8], accepts: usize) -> Self {
        Self { script: Script::new(input, usize::MAX), accepts, stall: false }
    }

    fn take(&mut self, buf: &[u8]) -> Option<usize> {
        let room = self.accepts.saturating_sub(self.script.written.len());
        if room == 0 {
            return None;
        }
        let n = buf.len().min(room);
        self.script.written.extend_from_slice(&buf[..n]);
        Some(n)
    }
}

fn write_timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out")
}

impl embedded_io::ErrorType for StopsReading {
    type Error = std::io::Error;
}

impl embedded_io::Read for StopsReading {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        Ok(self.script.read_into(buf))
    }
}

impl embedded_io::Write for StopsReading {
    fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        self.take(buf).ok_or_else(write_timed_out)
    }
    fn flush(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

impl embedded_io_async::Read for StopsReading {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        Ok(self.script.read_into(buf))
    }
}

impl embedded_io_async::Write for StopsReading {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        match self.take(buf) {
            Some(n) => Ok(n),
            None if self.stall => std::future::pending().await,
            None => Err(write_timed_out()),
        }
    }
    async fn flush(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

/// One end of an in-memory, thread-safe byte pipe pair (a socket pair without sockets).
#[derive(Debug)]
pub struct DuplexEnd {
    tx: Option<mpsc::Sender<Vec<u8>>>,
    rx: mpsc::Receiver<Vec<u8>>,
    pending: VecDeque<u8>,
}

/// Two connected ends: what one writes, the other reads. Dropping an end is EOF.
pub fn duplex() -> (DuplexEnd, DuplexEnd) {
    let (a_tx, b_rx) = mpsc::channel();
    let (b_tx, a_rx) = mpsc::channel();
    (
        DuplexEnd { tx: Some(a_tx), rx: a_rx, pending: VecDeque::new() },
        DuplexEnd { tx: Some(b_tx), rx: b_rx, pending: VecDeque::new() },
    )
}

impl DuplexEnd {
    /// Closes the sending half: the peer's next read returns EOF.
    pub fn shutdown(&mut self) {
        self.tx = None;
    }
}

impl embedded_io::ErrorType for DuplexEnd {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for DuplexEnd {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if self.pending.is_empty() {
            match self.rx.recv() {
                Ok(bytes) => self.pending.extend(bytes),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        for (dst, src) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

impl embedded_io::Write for DuplexEnd {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let tx = self.tx.as_ref().ok_or(embedded_io::ErrorKind::BrokenPipe)?;
        tx.send(buf.to_vec()).map_err(|_| embedded_io::ErrorKind::BrokenPipe)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A blocking `std` stream seen through the async traits (each call completes at once).
#[derive(Debug)]
pub struct AsyncOverBlocking<T>(pub T);

impl<T> embedded_io_async::ErrorType for AsyncOverBlocking<T> {
    type Error = std::io::Error;
}

impl<T: std::io::Read> embedded_io_async::Read for AsyncOverBlocking<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        self.0.read(buf)
    }
}

impl<T: std::io::Write> embedded_io_async::Write for AsyncOverBlocking<T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        self.0.write(buf)
    }
    async fn flush(&mut self) -> Result<(), std::io::Error> {
        self.0.flush()
    }
}

/// A duplex end seen through the async traits (each call completes at once, blocking
/// the thread while it waits, which [`block_on`] allows).
#[derive(Debug)]
pub struct AsyncOverDuplex(pub DuplexEnd);

impl embedded_io_async::ErrorType for AsyncOverDuplex {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io_async::Read for AsyncOverDuplex {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        embedded_io::Read::read(&mut self.0, buf)
    }
}

impl embedded_io_async::Write for AsyncOverDuplex {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        embedded_io::Write::write(&mut self.0, buf)
    }
    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// An event copied out of the receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Text(String),
    Binary(Vec<u8>),
    Piece { kind: MessageKind, data: Vec<u8>, first: bool, last: bool },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
}

impl From<Event<'_>> for Owned {
    fn from(e: Event<'_>) -> Self {
        match e {
            Event::Text(t) => Self::Text(t.into()),
            Event::Binary(b) => Self::Binary(b.to_vec()),
            Event::Piece { kind, data, first, last } => {
                Self::Piece { kind, data: data.to_vec(), first, last }
            }
            Event::Ping(p) => Self::Ping(p.to_vec()),
            Event::Pong(p) => Self::Pong(p.to_vec()),
            Event::Close { code, reason } => Self::Close(code.map(|c| c.as_u16()), reason.into()),
        }
    }
}

/// A free loopback port's listener.
pub fn loopback_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port")
}
