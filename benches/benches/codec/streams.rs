//! In-memory streams for the peers that read from or write to a stream (std, tokio and
//! embedded-io-async flavours), and a `block_on` for the async ones: their I/O is always
//! ready, so a no-op waker and a poll loop run them to completion with no runtime.

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::io::{self, IoSlice, Read, Write};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Polls a future whose I/O is always ready (in-memory streams) to completion.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Reads from a borrowed slice; appends writes to `output` if there is one, else discards
/// them (the decode benches write nothing).
#[derive(Debug)]
pub(crate) struct SliceStream<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) output: Option<&'a mut Vec<u8>>,
}

impl<'a> SliceStream<'a> {
    /// A stream that reads `input` and discards what is written.
    pub(crate) fn reader(input: &'a [u8]) -> Self {
        Self { input, output: None }
    }

    /// A stream that reads nothing and appends what is written to `output`.
    pub(crate) fn writer(output: &'a mut Vec<u8>) -> Self {
        Self { input: &[], output: Some(output) }
    }

    fn next_chunk(&mut self, n: usize) -> &'a [u8] {
        let (now, rest) = self.input.split_at(n.min(self.input.len()));
        self.input = rest;
        now
    }

    fn put(&mut self, bytes: &[u8]) -> usize {
        if let Some(out) = self.output.as_mut() {
            out.extend_from_slice(bytes);
        }
        bytes.len()
    }
}

impl Read for SliceStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let now = self.next_chunk(buf.len());
        buf[..now.len()].copy_from_slice(now);
        Ok(now.len())
    }
}

impl Write for SliceStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.put(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for SliceStream<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let now = self.next_chunk(buf.remaining());
        buf.put_slice(now);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for SliceStream<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.put(b)))
    }
    // tokio-websockets writes each frame's header and payload as separate slices.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(bufs.iter().map(|b| self.put(b)).sum()))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl embedded_io_async::ErrorType for SliceStream<'_> {
    type Error = Infallible;
}

impl embedded_io_async::Read for SliceStream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let now = self.next_chunk(buf.len());
        buf[..now.len()].copy_from_slice(now);
        Ok(now.len())
    }
}

impl embedded_io_async::Write for SliceStream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(self.put(buf))
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// A byte pipe between two in-memory endpoints: writes append, reads take from the front.
#[derive(Debug, Default)]
pub(crate) struct Pipe {
    data: Vec<u8>,
    pos: usize,
}

impl Pipe {
    /// Up to `max` bytes from the front of the pipe, handed to `put`, then consumed.
    fn drain_front(&mut self, max: usize, put: impl FnOnce(&[u8])) -> usize {
        let n = max.min(self.data.len() - self.pos);
        put(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.data.len() {
            self.data.clear();
            self.pos = 0;
        }
        n
    }

    fn take_into(&mut self, buf: &mut [u8]) -> usize {
        self.drain_front(buf.len(), |bytes| buf[..bytes.len()].copy_from_slice(bytes))
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.take_into(buf))
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One end of a pair of shared pipes: reads come from `rx`, writes go to `tx`.
#[derive(Debug)]
pub(crate) struct PipeEnd {
    rx: Rc<RefCell<Pipe>>,
    tx: Rc<RefCell<Pipe>>,
}

/// Two connected ends: what one writes, the other reads.
pub(crate) fn pipe_pair() -> (PipeEnd, PipeEnd) {
    let up = Rc::new(RefCell::new(Pipe::default()));
    let down = Rc::new(RefCell::new(Pipe::default()));
    (PipeEnd { rx: down.clone(), tx: up.clone() }, PipeEnd { rx: up, tx: down })
}

impl tokio::io::AsyncRead for PipeEnd {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // `put_slice` copies only what is there (no zeroing of the unfilled part).
        self.rx.borrow_mut().drain_front(buf.remaining(), |bytes| buf.put_slice(bytes));
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for PipeEnd {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        self.tx.borrow_mut().data.extend_from_slice(b);
        Poll::Ready(Ok(b.len()))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut tx = self.tx.borrow_mut();
        for b in bufs {
            tx.data.extend_from_slice(b);
        }
        Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl embedded_io_async::ErrorType for PipeEnd {
    type Error = Infallible;
}

impl embedded_io_async::Read for PipeEnd {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        Ok(self.rx.borrow_mut().take_into(buf))
    }
}

impl embedded_io_async::Write for PipeEnd {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.tx.borrow_mut().data.extend_from_slice(buf);
        Ok(buf.len())
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
