//! A TCP stream whose reads and writes end at absolute deadlines.
//!
//! A socket timeout bounds one system call, so a peer that sends (or reads) one byte
//! just inside it can hold a connection forever, and a TLS stream above the socket makes
//! that worse: rustls reads until it has a whole record. [`TimedTcp`] sits below TLS and
//! sets the socket's timeout, before each read or write, to the time left until the
//! deadline, so every deadline holds whatever the peer's timing and whatever is layered
//! on top.
//!
//! Each write gets its own deadline, from when it starts: the bytes written in one go,
//! between two reads (a frame, a message in several frames), must all be taken by the
//! peer within the budget's `write` time, and the next write (after a read, or after
//! [`TimedTcp::done`]) starts a new deadline. A failed write is kept for the log
//! ([`TimedTcp::write_failure`]), since the layers above may not report it.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// The data being read did not arrive in time.
    Read,
    /// The peer did not take what was being written in time (it stopped reading).
    Write,
    /// Nothing arrived within a [`Settle`] wait: not a failure, the reader gives its
    /// memory back and reads on.
    Quiet,
}

impl fmt::Display for Expired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "the read deadline passed",
            Self::Write => "the write deadline passed: the peer stopped reading",
            Self::Quiet => "nothing arrived within the settle time",
        })
    }
}

impl std::error::Error for Expired {}

/// Which deadline `e` reports as passed, if it is one of [`TimedTcp`]'s.
pub(crate) fn expired(e: &io::Error) -> Option<Expired> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Expired>()).copied()
}

/// Whether `e` is a timeout of any kind (a deadline, or the socket's own timeout).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// `connection refused` rather than `Connection refused (os error 111)`.
pub(crate) fn short_io(e: &io::Error) -> String {
    let text = e.to_string();
    text.split(" (os error").next().unwrap_or(&text).to_lowercase()
}

/// Whether `e` says the peer closed (or reset) the connection.
pub(crate) fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// How long reads and writes may take while no deadline is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Budget {
    /// The longest a read waits for its first byte (an idle timeout); `None`: forever.
    pub(crate) wait: Option<Duration>,
    /// The first byte read sets a read deadline this far ahead: the data that starts
    /// with it must arrive whole before it (see [`TimedTcp::done`]).
    pub(crate) read: Option<Duration>,
    /// The first write after a read (or after [`TimedTcp::done`]) sets a write deadline
    /// this far ahead: the bytes written until the next read must be taken by then.
    pub(crate) write: Option<Duration>,
}

/// Where the input stands once a piece of it was handled (see [`TimedTcp::done`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing more has arrived: the next byte read starts the read deadline, and until
    /// then a read waits at most the budget's `wait`.
    Waiting,
    /// Bytes of something new already arrived: its read deadline starts now.
    Arrived,
    /// What was handled was inside something still arriving (a control frame between the
    /// fragments of a message): the read deadline goes on.
    Continuing,
}

/// A short first wait, shared by a receive buffer and the [`TimedTcp`] it is read from:
/// while messages keep coming the buffer stays as grown, and once nothing arrives for
/// `after` the read ends with [`Expired::Quiet`] so that the buffer can shrink before the
/// wait goes on.
///
/// The buffer [`arm`](Self::arm)s it when it is empty and would shrink; the next read
/// waits at most `after` before it reports [`Expired::Quiet`], and the buffer then
/// [`take_quiet`](Self::take_quiet)s that and shrinks. No system call is added while
/// the connection is busy: the socket keeps its short timeout, and a read inside a
/// message that wakes early sets the exact one.
#[derive(Debug)]
pub(crate) struct Settle {
    after: Duration,
    armed: AtomicBool,
    quiet: AtomicBool,
}

impl Settle {
    pub(crate) const fn new(after: Duration) -> Self {
        Self { after, armed: AtomicBool::new(false), quiet: AtomicBool::new(false) }
    }

    /// The next read ends with [`Expired::Quiet`] if nothing arrives within `after`.
    pub(crate) fn arm(&self) {
        self.armed.store(true, Ordering::Relaxed);
    }

    /// Whether a read ended quiet since this was last asked.
    pub(crate) fn take_quiet(&self) -> bool {
        self.quiet.swap(false, Ordering::Relaxed)
    }
}

/// A [`TcpStream`] with a read deadline and a write deadline.
#[derive(Debug)]
pub(crate) struct TimedTcp {
    /// Shared (not duplicated) with [`TimedTcp::socket`]'s holders.
    tcp: Arc<TcpStream>,
    read_by: Option<Instant>,
    write_by: Option<Instant>,
    /// `write_by` is an absolute deadline ([`TimedTcp::set_deadline`]), not one write's.
    write_fixed: bool,
    budget: Budget,
    /// Why the last write that failed failed.
    write_failure: Option<WriteFailure>,
    /// The socket's timeouts as last set, to skip redundant system calls.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Bytes read and written so far, for the log.
    traffic: (u64, u64),
    /// A flush ends what is being written: the next write starts a new write deadline.
    flush_ends_write: bool,
    /// A short write held back (a frame header), sent with the next write in one system
    /// call and one segment, or by the flush (see [`HOLD`]).
    held: Vec<u8>,
    settle: Option<Arc<Settle>>,
}

/// Writes up to this long (a WebSocket frame header is 2 to 14 bytes) are held back until
/// the next write or the flush, which sends them together with a vectored write. The
/// adapter sends a frame that does not fit its transmit buffer as two writes, the header
/// and the payload where it lies; on a `TCP_NODELAY` socket the header alone went out as a
/// segment of its own, a system call and a wake-up of the reader more per message.
const HOLD: usize = 14;

impl TimedTcp {
    /// Wraps `tcp`; until a deadline or budget is set, reads and writes wait forever.
    pub(crate) fn new(tcp: TcpStream) -> io::Result<Self> {
        tcp.set_read_timeout(None)?;
        tcp.set_write_timeout(None)?;
        Ok(Self {
            tcp: Arc::new(tcp),
            read_by: None,
            write_by: None,
            write_fixed: false,
            budget: Budget::default(),
            write_failure: None,
            read_timeout: None,
            write_timeout: None,
            traffic: (0, 0),
            flush_ends_write: false,
            held: Vec::with_capacity(HOLD),
            settle: None,
        })
    }

    /// Reads end early when `settle` is armed and nothing arrives (see [`Settle`]).
    pub(crate) fn settle_with(&mut self, settle: Arc<Settle>) {
        self.settle = Some(settle);
    }

    /// Reads no longer end early (for the last reads, which only drain).
    pub(crate) fn stop_settling(&mut self) {
        self.settle = None;
    }

    /// From now on a flush, not [`done`](Self::done), ends what is being written: for the
    /// writing half of a split connection, which flushes after each frame and is never
    /// told when an event was handled.
    pub(crate) fn end_writes_at_flush(&mut self) {
        self.flush_ends_write = true;
    }

    /// Bytes read and written on the socket so far (TLS records included).
    pub(crate) const fn traffic(&self) -> (u64, u64) {
        self.traffic
    }

    /// Every read and write must be done by `deadline` (e.g. a whole handshake).
    pub(crate) fn set_deadline(&mut self, deadline: Instant) {
        self.read_by = Some(deadline);
        self.write_by = Some(deadline);
        self.write_fixed = true;
    }

    /// Clears both deadlines and sets how the next ones start (see [`Budget`]).
    pub(crate) fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
        self.read_by = None;
        self.write_by = None;
        self.write_fixed = false;
    }

    /// Why a write failed, if one did (the connection is over then): a deadline that
    /// passed, or the socket's error.
    pub(crate) const fn write_failure(&self) -> Option<&WriteFailure> {
        self.write_failure.as_ref()
    }

    /// What was being read and written is complete; `next` says whether what comes next
    /// already started. The next write starts a new write deadline.
    pub(crate) fn done(&mut self, next: Next) {
        self.write_by = None;
        self.write_fixed = false;
        match next {
            Next::Waiting => self.read_by = None,
            Next::Arrived => self.read_by = self.budget.read.map(|d| Instant::now() + d),
            Next::Continuing if self.read_by.is_none() => {
                self.read_by = self.budget.read.map(|d| Instant::now() + d);
            }
            Next::Continuing => {}
        }
    }

    /// The socket, shared (no second descriptor): for asking how many bytes wait in it
    /// without reading them (`wsc serve`'s receive buffer).
    pub(crate) fn socket(&self) -> Arc<TcpStream> {
        Arc::clone(&self.tcp)
    }

    /// Another handle on the same socket (for the other half of a split connection).
    pub(crate) fn try_clone_tcp(&self) -> io::Result<TcpStream> {
        self.tcp.try_clone()
    }

    /// Ends the sending direction (a FIN after what is queued).
    pub(crate) fn shutdown_write(&mut self) -> io::Result<()> {
        self.send_held()?;
        self.tcp.shutdown(Shutdown::Write)
    }

    /// Sends the bytes held back by [`write`](Write::write), if any.
    fn send_held(&mut self) -> io::Result<()> {
        while !self.held.is_empty() {
            let n = self.write(&[])?;
            debug_assert_eq!(n, 0);
        }
        Ok(())
    }

    /// The socket timeout for the next operation: the time left before `deadline`, or
    /// `fallback` without one. `Err` once the deadline has passed.
    fn timeout(
        deadline: Option<Instant>,
        fallback: Option<Duration>,
        which: Expired,
    ) -> io::Result<Option<Duration>> {
        let Some(deadline) = deadline else { return Ok(fallback) };
        let left = deadline.saturating_duration_since(Instant::now());
        // The socket refuses a zero timeout, and a millisecond is below its resolution.
        if left < Duration::from_millis(1) {
            return Err(io::Error::new(io::ErrorKind::TimedOut, which));
        }
        Ok(Some(left))
    }
}

impl Read for TimedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // What was being written is complete: the next write is a new one.
        if !self.write_fixed {
            self.write_by = None;
        }
        let settle_by = match &self.settle {
            Some(settle) if settle.armed.swap(false, Ordering::Relaxed) => {
                Some(Instant::now() + settle.after)
            }
            _ => None,
        };
        let mut woke_early = false;
        loop {
            let mut timeout = Self::timeout(self.read_by, self.budget.wait, Expired::Read)?;
            if let Some(by) = settle_by {
                let left = by.saturating_duration_since(Instant::now());
                if left < Duration::from_millis(1) {
                    if let Some(settle) = &self.settle {
                        settle.quiet.store(true, Ordering::Relaxed);
                    }
                    return Err(io::Error::new(io::ErrorKind::TimedOut, Expired::Quiet));
                }
                timeout = Some(timeout.map_or(left, |t| t.min(left)));
            }
            let bounded = self.read_by.is_some() || settle_by.is_some();
            if stale(self.read_timeout, timeout, bounded, woke_early) {
                self.tcp.set_read_timeout(timeout)?;
                self.read_timeout = timeout;
            }
            match (&*self.tcp).read(buf) {
                Ok(n) => {
                    self.traffic.0 += n as u64;
                    if n > 0 && self.read_by.is_none() {
                        self.read_by = self.budget.read.map(|d| Instant::now() + d);
                    }
                    return Ok(n);
                }
                // Woken early, or the deadline is due: the next turn tells which.
                Err(e) if bounded && is_timeout(&e) => woke_early = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Write for TimedTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.write_by.is_none() {
            self.write_by = self.budget.write.map(|d| Instant::now() + d);
        }
        let result = self.write_holding_short(buf);
        if let Err(e) = &result {
            let budget = self.budget.write.filter(|_| !self.write_fixed);
            self.write_failure = Some(match expired(e) {
                Some(_) => WriteFailure::NotTaken { budget },
                None => WriteFailure::Socket(e.to_string()),
            });
        }
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_held()?;
        if self.flush_ends_write {
            self.write_by = None;
        }
        (&*self.tcp).flush()
    }
}

impl TimedTcp {
    /// Holds a short `buf` back (see [`HOLD`]), or writes what is held and then `buf`;
    /// returns how many bytes of `buf` were taken.
    fn write_holding_short(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.held.is_empty() && (1..=HOLD).contains(&buf.len()) {
            // Held, but under the same deadline as any write.
            Self::timeout(self.write_by, None, Expired::Write)?;
            self.held.extend_from_slice(buf);
            return Ok(buf.len());
        }
        loop {
            let held = self.held.len();
            let n = self.write_by_deadline(buf)?;
            if n < held {
                self.held.drain(..n);
                continue;
            }
            self.held.clear();
            if n > held || buf.is_empty() {
                return Ok(n - held);
            }
        }
    }

    /// One write (vectored, after the held bytes, if any) within the write deadline.
    fn write_by_deadline(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            let timeout = Self::timeout(self.write_by, None, Expired::Write)?;
            if stale(self.write_timeout, timeout, self.write_by.is_some(), true) {
                self.tcp.set_write_timeout(timeout)?;
                self.write_timeout = timeout;
            }
            let sent = if self.held.is_empty() {
                (&*self.tcp).write(buf)
            } else {
                (&*self.tcp).write_vectored(&[IoSlice::new(&self.held), IoSlice::new(buf)])
            };
            match sent {
                Ok(n) => {
                    self.traffic.1 += n as u64;
                    return Ok(n);
                }
                Err(e) if self.write_by.is_some() && is_timeout(&e) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether the socket's timeout `set` must become `wanted` before the next operation.
/// Under a deadline (`bounded`) a shorter one will do, down to half of what is left (the
/// operation then wakes early and the loop sets it again), and so will one longer by less
/// than a millisecond, the socket's resolution: so the socket is not reset before every
/// read and write as the time left shrinks by microseconds (a system call each, five per
/// echoed message). Without a deadline only the exact timeout will do: waking early would
/// be taken for the wait's end.
///
/// A read's first try (`strict` false) keeps any shorter timeout: the reads of a busy
/// connection, inside messages and between them under a [`Settle`], then share the
/// settle timeout without a system call each. Once it woke early, the rule above holds.
fn stale(set: Option<Duration>, wanted: Option<Duration>, bounded: bool, strict: bool) -> bool {
    match (set, wanted) {
        (Some(set), Some(wanted)) if bounded => {
            set > wanted + Duration::from_millis(1) || (strict && set < wanted / 2)
        }
        _ => set != wanted,
    }
}

/// Why a write failed (see [`TimedTcp::write_failure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// The peer did not take the bytes by the write deadline: it stopped reading. The
    /// write's own budget, or `None` under an absolute deadline.
    NotTaken { budget: Option<Duration> },
    /// The socket failed (the peer reset the connection, ...).
    Socket(String),
}

impl fmt::Display for WriteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotTaken { budget: Some(d) } => write!(
                f,
                "the client did not take it within {} s (write timeout): it stopped reading",
                d.as_secs_f64()
            ),
            Self::NotTaken { budget: None } => {
                f.write_str("the client did not take it by the deadline: it stopped reading")
            }
            Self::Socket(e) => write!(f, "the write failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests;
