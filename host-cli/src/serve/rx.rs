//! The receive buffer of a served connection: small while idle, large enough to read
//! several messages at once while busy.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use wscodec::RxBuffer;

use crate::timed::Settle;

/// What an idle connection keeps: enough for every small message and control frame.
pub(super) const IDLE_RX: usize = 4 * 1024;

/// The most a growing buffer takes beyond the frame that made it grow, so that one read
/// can take the messages behind it too: up to three times that frame, at most 64 KiB.
///
/// Measured with the load bench's 10 × 16 KiB echo (four messages in flight per
/// connection), system calls per echoed message (`strace -c`): with room for the one
/// frame, 3 reads when the buffer shrank whenever empty and 2 when it stayed; with this
/// room (64 KiB in all), 0.35.
pub(super) const READ_AHEAD: usize = 64 * 1024;

/// How long an emptied buffer stays grown waiting for the next message on a plain
/// connection (see [`Settle`]): a client that keeps messages coming sends the next one
/// sooner, and one that went quiet gets its memory back after this.
///
/// Measured with the same load (10 × 16 KiB, `perf stat` of `wsc serve`, 200,000
/// messages): shrinking as soon as the socket held nothing (one `ioctl(FIONREAD)` each
/// time the buffer emptied) took 1.23 reads and 0.34 ioctls per message, and growing
/// again zero-filled up to 64 KiB each time (3 to 5 % of the server's CPU in `memset`).
pub(super) const SETTLE: Duration = Duration::from_millis(2);

/// A heap buffer that grows (to the frame that needs the room plus [`READ_AHEAD`], at
/// least doubling, up to `max`) only when a frame that needs the room is arriving, and
/// goes back to [`IDLE_RX`] bytes when it holds nothing and no bytes follow: none within
/// [`SETTLE`] on a plain connection, none waiting in the socket under TLS.
///
/// So memory follows the traffic: a connection that waits for its next message keeps
/// 4 KiB, and `--max-message` bounds what one connection may take, not what every
/// connection takes. While messages keep coming, the buffer keeps its size instead of
/// shrinking and growing again for each one (and reading each in small pieces).
#[derive(Debug)]
pub(super) struct GrowingRx {
    bytes: Vec<u8>,
    max: usize,
    /// When the buffer is empty, the connection is busy and the buffer stays grown:
    /// while the next bytes arrive within a settle wait (plain connections), or while
    /// bytes wait in the socket (TLS, where the socket may be silent while the TLS layer
    /// still holds bytes). `None`: shrink whenever empty.
    busy: Option<Busy>,
}

/// How [`GrowingRx`] tells a busy connection.
#[derive(Debug)]
enum Busy {
    /// The reads of this socket end early when nothing arrives within the settle time.
    Settle(Arc<Settle>),
    /// Bytes wait in this socket, unread (one `ioctl(FIONREAD)`).
    Waiting(Arc<TcpStream>),
}

impl GrowingRx {
    /// An idle buffer that holds `buffered` (bytes that came with the handshake) and may
    /// grow to `max` bytes.
    pub(super) fn new(buffered: &[u8], max: usize) -> Self {
        let mut bytes = vec![0; IDLE_RX.max(buffered.len())];
        bytes[..buffered.len()].copy_from_slice(buffered);
        Self { bytes, max: max.max(IDLE_RX), busy: None }
    }

    /// Stays grown while bytes wait in `socket` (the one this buffer is read from).
    pub(super) fn busy_while_waiting_in(mut self, socket: Arc<TcpStream>) -> Self {
        self.busy = Some(Busy::Waiting(socket));
        self
    }

    /// Stays grown while the reads `settle` ends (those of the socket this buffer is read
    /// from) find the next bytes within its wait.
    pub(super) fn busy_while_settling(mut self, settle: Arc<Settle>) -> Self {
        self.busy = Some(Busy::Settle(settle));
        self
    }

    /// Whether the connection is busy: the next bytes are there, or may come within a
    /// settle wait (which this arms). `false` when it cannot tell, and off Unix.
    fn busy(&self) -> bool {
        match &self.busy {
            Some(Busy::Settle(settle)) => {
                let quiet = settle.take_quiet();
                if !quiet {
                    settle.arm();
                }
                !quiet
            }
            #[cfg(unix)]
            Some(Busy::Waiting(socket)) => rustix::io::ioctl_fionread(&**socket).unwrap_or(0) > 0,
            _ => false,
        }
    }
}

impl RxBuffer for GrowingRx {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    fn max_len(&self) -> usize {
        self.max
    }

    fn grow(&mut self, min_len: usize) -> bool {
        if min_len > self.max {
            return false;
        }
        let ahead = min_len.saturating_mul(3).min(READ_AHEAD);
        let len = min_len.saturating_add(ahead).max(self.bytes.len().saturating_mul(2));
        let len = len.min(self.max);
        if len > self.bytes.len() {
            self.bytes.reserve_exact(len - self.bytes.len());
            self.bytes.resize(len, 0);
        }
        true
    }

    fn shrink(&mut self) {
        // The adapter holds nothing and is about to read. Asked only of a grown buffer.
        if self.bytes.len() > IDLE_RX && !self.busy() {
            self.bytes.truncate(IDLE_RX);
            self.bytes.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn grows_by_the_frame_and_read_ahead_at_least_doubling_up_to_the_maximum() {
        let mut rx = GrowingRx::new(b"abc", 1 << 20);
        assert_eq!(rx.bytes().len(), IDLE_RX);
        assert_eq!(&rx.bytes()[..3], b"abc");
        assert!(rx.grow(IDLE_RX + 1));
        assert_eq!(rx.bytes().len(), 4 * (IDLE_RX + 1), "three times a small frame ahead");
        assert!(rx.grow(16_398));
        assert_eq!(rx.bytes().len(), 16_398 + 3 * 16_398, "a 16 KiB message and three more");
        assert!(rx.grow(70_000));
        assert_eq!(rx.bytes().len(), 70_000 + READ_AHEAD, "at most READ_AHEAD ahead");
        assert!(rx.grow(70_000 + READ_AHEAD + 1));
        assert_eq!(rx.bytes().len(), 2 * (70_000 + READ_AHEAD), "doubles rather than creeping");
        assert!(rx.grow(1 << 20));
        assert_eq!(rx.bytes().len(), 1 << 20, "capped at the maximum");
        assert_eq!(&rx.bytes()[..3], b"abc", "contents kept");
        assert!(!rx.grow((1 << 20) + 1));
        rx.shrink();
        assert_eq!(rx.bytes().len(), IDLE_RX, "no socket: shrinks whenever empty");
        assert!(rx.bytes.capacity() < 2 * IDLE_RX, "memory given back");
    }

    #[test]
    fn bytes_that_came_with_the_handshake_fit_even_if_many() {
        let early = vec![7u8; 3 * IDLE_RX];
        let rx = GrowingRx::new(&early, 1 << 20);
        assert_eq!(&rx.bytes()[..early.len()], &early[..]);
    }

    #[cfg(unix)]
    #[test]
    fn stays_grown_while_bytes_wait_in_the_socket_and_shrinks_once_none_do() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let server = Arc::new(server);
        let mut rx = GrowingRx::new(&[], 1 << 20).busy_while_waiting_in(Arc::clone(&server));
        assert!(rx.grow(16_398));
        let grown = rx.bytes().len();
        client.write_all(b"\x82\x05hello").unwrap();
        // Loopback delivers at once, but not synchronously: wait until it is there.
        let by = Instant::now() + Duration::from_secs(10);
        while rustix::io::ioctl_fionread(&*server).unwrap() == 0 {
            assert!(Instant::now() < by, "7 bytes sent on loopback never arrived");
            std::thread::sleep(Duration::from_millis(1));
        }
        rx.shrink();
        assert_eq!(rx.bytes().len(), grown, "busy: bytes wait in the socket");
        let mut got = [0u8; 7];
        std::io::Read::read_exact(&mut &*server, &mut got).unwrap();
        rx.shrink();
        assert_eq!(rx.bytes().len(), IDLE_RX, "idle: nothing waits");
    }

    #[test]
    fn stays_grown_while_messages_come_within_the_settle_time_and_shrinks_once_quiet() {
        use std::io::Read;

        use crate::timed::{expired, Budget, Expired, TimedTcp};

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let mut timed = TimedTcp::new(server).unwrap();
        let wait = Duration::from_secs(10);
        timed.set_budget(Budget { wait: Some(wait), read: Some(wait), write: Some(wait) });
        let settle = Arc::new(Settle::new(SETTLE));
        timed.settle_with(Arc::clone(&settle));
        let mut rx = GrowingRx::new(&[], 1 << 20).busy_while_settling(settle);
        assert!(rx.grow(16_398));
        let grown = rx.bytes().len();
        let mut got = [0u8; 7];

        // Busy: the next message arrives within the settle time of the buffer emptying.
        rx.shrink();
        assert_eq!(rx.bytes().len(), grown, "kept while the settle wait runs");
        client.write_all(b"\x82\x05hello").unwrap();
        assert_eq!(timed.read(&mut got).unwrap(), 7);
        rx.shrink();
        assert_eq!(rx.bytes().len(), grown, "the message came: still busy");

        // Quiet: the armed read ends after the settle time, then the buffer shrinks and
        // the next read waits as long as the budget says.
        let started = Instant::now();
        let quiet = timed.read(&mut got).unwrap_err();
        assert_eq!(expired(&quiet), Some(Expired::Quiet), "{quiet}");
        assert!(started.elapsed() >= SETTLE / 2, "ended after {:?}", started.elapsed());
        assert!(started.elapsed() < wait, "the settle wait, not the budget's");
        rx.shrink();
        assert_eq!(rx.bytes().len(), IDLE_RX, "quiet: memory given back");
        let sender = std::thread::spawn(move || {
            std::thread::sleep(SETTLE * 10);
            client.write_all(b"\x82\x05again").unwrap();
            client
        });
        assert_eq!(timed.read(&mut got).unwrap(), 7, "an unarmed read waits past the settle time");
        assert_eq!(&got, b"\x82\x05again");
        drop(sender.join().unwrap());
    }
}
