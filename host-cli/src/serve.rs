//! `wsc serve`: an echo server, with a browser test page at `/`.
//!
//! # One thread per connection
//! Each accepted TCP connection gets its own OS thread running the blocking adapter
//! (`wscodec::io::blocking::WebSocket`) over a `std::net::TcpStream`:
//! - the blocking adapter is the natural fit for `std` sockets, and a thread keeps the
//!   code straight-line: read a message, send it back;
//! - backpressure is simple: while a client does not read, the echo `send` blocks only
//!   that client's thread (until the write timeout), and a client that sends faster than
//!   it reads is throttled by TCP;
//! - the cost is bounded: at most `--max-connections` connection threads exist at once
//!   (an atomic counter guards the accept loop, and clients over the limit get 503 from
//!   one of at most [`MAX_REFUSALS`] short-lived threads, or are dropped). Each
//!   connection's receive buffer is allocated lazily by the OS, so it only costs memory
//!   for the messages that actually arrive.
//!
//! # Deadlines
//! A slot is never held by a client that does nothing useful: the request head must
//! arrive within `--handshake-timeout`; a silent connection is pinged after
//! `--idle-timeout` and closed with 1001 after another; and once a byte of the next
//! message (or control frame) arrived, the whole of it must arrive within
//! `--idle-timeout` too, or the connection is closed with 1008 "message too slow", so
//! a client that trickles a frame byte by byte (slowloris) cannot keep it forever.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use wscodec::conn::MessageKind;
use wscodec::handshake::server::{self, Request};
use wscodec::handshake::MAX_HEADERS;
use wscodec::io::blocking::WebSocket;
use wscodec::io::{Error, StdIo};
use wscodec::{
    CloseCode, Config, Connection, Event, HandshakeError, Message, ProtocolError, Role, Status,
};

use crate::tls::{self, Stream};

/// The browser test page served at `/`.
const PAGE: &str = include_str!("page.html");
/// The request head must fit this buffer; a larger one is answered with 431.
const HEAD_BUF: usize = 8 * 1024;
/// The transmit buffer: larger messages go out through it in pieces.
const TX_BUF: usize = 64 * 1024;
/// At most this many threads answer over-capacity clients with 503 at once.
pub(crate) const MAX_REFUSALS: usize = 64;
/// How long a refused client gets to read the response before the socket is closed.
const LINGER: Duration = Duration::from_secs(1);
/// The payload of the ping sent to an idle client.
const IDLE_PING: &[u8] = b"idle";
/// The reason of the close frame sent when a message missed its deadline.
const TOO_SLOW: &str = "message too slow";

/// Options of `wsc serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:9001")]
    listen: String,
    /// The largest message accepted, in bytes; larger ones are refused with close code 1009.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message: usize,
    /// The most connections served at once; more get HTTP 503.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Accept WebSocket upgrades only with this Origin (repeatable); without it, any
    /// Origin is accepted. Clients that send no Origin (non-browsers) are always accepted.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// A subprotocol the server speaks (repeatable); the first one the client offers
    /// that is in this list is selected. The server echoes whatever the subprotocol.
    #[arg(long = "protocol", value_name = "NAME")]
    protocol: Vec<String>,
    /// Seconds a client has to send its complete upgrade request.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    handshake_timeout: u64,
    /// Seconds of silence before the server pings a client, and again before it closes
    /// the connection with 1001 if nothing arrived; also the longest a started message
    /// may take to arrive (it is closed with 1008 "message too slow" otherwise).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Serve wss:// (TLS) with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

/// The server's settings, shared by all connection threads.
#[derive(Debug)]
struct Settings {
    max_message: usize,
    max_connections: usize,
    allow_origin: Vec<String>,
    protocols: Vec<String>,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    /// `--tls-cert`: every connection starts with a TLS handshake.
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// Runs the server until the process is killed.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(&args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {scheme}://{addr}/")?;
    stdout.flush()?;
    drop(stdout);
    let settings = Arc::new(Settings {
        max_message: args.max_message,
        max_connections: args.max_connections as usize,
        allow_origin: args.allow_origin.clone(),
        protocols: args.protocol.clone(),
        handshake_timeout: Duration::from_secs(args.handshake_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        tls,
    });
    let active = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                // Out of file descriptors, for instance: back off instead of spinning.
                eprintln!("accept failed: {e}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let Ok(peer) = stream.peer_addr() else { continue };
        let _ = stream.set_nodelay(true);
        let stream = match &settings.tls {
            Some(config) => match tls::accept(stream, config) {
                Ok(stream) => stream,
                Err(e) => {
                    eprintln!("drop  {peer}: {e}");
                    continue;
                }
            },
            None => Stream::Plain(stream),
        };
        if let Some(slot) = Slot::acquire(&active, settings.max_connections) {
            let settings = Arc::clone(&settings);
            let spawned = thread::Builder::new().name(format!("ws {peer}")).spawn(move || {
                let _slot = slot;
                if let Err(e) = serve_connection(stream, peer, &settings) {
                    eprintln!("error {peer}: {e}");
                }
            });
            if let Err(e) = spawned {
                eprintln!("drop  {peer}: cannot start a thread: {e}");
            }
        } else if let Some(slot) = Slot::acquire(&refusing, MAX_REFUSALS) {
            let max = settings.max_connections;
            let spawned = thread::Builder::new().name(format!("503 {peer}")).spawn(move || {
                let _slot = slot;
                refuse_at_capacity(stream, peer, max);
            });
            if let Err(e) = spawned {
                eprintln!("drop  {peer}: cannot start a thread: {e}");
            }
        } else {
            eprintln!("drop  {peer}: at capacity and {MAX_REFUSALS} refusals already in progress");
        }
    }
    Ok(())
}

/// One unit of a counted resource; dropping it gives the unit back.
#[derive(Debug)]
struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Takes a unit if fewer than `max` are taken.
    fn acquire(counter: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1))
            .ok()
            .map(|_| Self(Arc::clone(counter)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The connection's stream, with the deadline of the message in progress.
///
/// Reads time out after the idle timeout, or sooner when the message (or control frame)
/// whose first bytes arrived is due: its whole must arrive within the idle timeout of
/// the first socket read that brought any of it. Past that, reads fail with
/// [`MessageTooSlow`]. The echo loop calls [`Peer::event_done`] after each event.
///
/// Write timeouts are reported as [`io::ErrorKind::Other`], so the echo loop can tell
/// its idle (read) timeout from a client that stopped reading.
#[derive(Debug)]
struct Peer {
    stream: Stream,
    /// `--idle-timeout`: the socket read timeout, and the time a message may take.
    idle: Duration,
    /// When the event in progress must be complete; `None` between events.
    deadline: Option<Instant>,
    /// The read timeout last set on the socket, to skip redundant system calls.
    timeout: Duration,
}

impl Peer {
    /// Wraps `stream`, setting its read timeout to `idle`.
    fn new(stream: Stream, idle: Duration) -> io::Result<Self> {
        stream.set_read_timeout(Some(idle))?;
        Ok(Self { stream, idle, deadline: None, timeout: idle })
    }

    /// The event in progress is complete: the next one's deadline starts with its first
    /// bytes. (Bytes of it that came in the same read as the end of this one start it
    /// at the next read that brings any, at most one idle timeout later.)
    fn event_done(&mut self) {
        self.deadline = None;
    }
}

/// The message in progress missed its deadline (see [`Peer`]).
#[derive(Debug)]
struct MessageTooSlow(Duration);

impl fmt::Display for MessageTooSlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message too slow: not complete within {} s of its start", self.0.as_secs())
    }
}

impl std::error::Error for MessageTooSlow {}

fn is_too_slow(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|e| e.is::<MessageTooSlow>())
}

impl Read for Peer {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let timeout = match self.deadline {
                None => self.idle,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        let e = MessageTooSlow(self.idle);
                        return Err(io::Error::new(io::ErrorKind::TimedOut, e));
                    }
                    left.min(self.idle)
                }
            };
            if timeout != self.timeout {
                self.stream.set_read_timeout(Some(timeout))?;
                self.timeout = timeout;
            }
            match self.stream.read(buf) {
                Ok(n) => {
                    if n > 0 && self.deadline.is_none() {
                        self.deadline = Some(Instant::now() + self.idle);
                    }
                    return Ok(n);
                }
                // The deadline (checked above) may be due now, or the timer woke early.
                Err(e) if is_timeout(&e) && self.deadline.is_some() => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Write for Peer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf).map_err(|e| {
            if is_timeout(&e) {
                io::Error::other("write timed out: the client stopped reading")
            } else {
                e
            }
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// Handshake, then echo, on one connection.
fn serve_connection(mut stream: Stream, peer: SocketAddr, s: &Settings) -> io::Result<()> {
    stream.set_write_timeout(Some(s.handshake_timeout))?;
    let deadline = Instant::now() + s.handshake_timeout;
    let mut tx = vec![0u8; TX_BUF];
    let mut head = [0u8; HEAD_BUF];
    let mut filled = 0;
    let consumed = loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match server::parse_request(&head[..filled], &mut headers) {
            Ok(Status::Complete { consumed, .. }) => break consumed,
            Ok(Status::Partial { .. }) if filled == head.len() => {
                return refuse_error(stream, peer, HandshakeError::HeadersTooLarge, &mut tx);
            }
            Ok(Status::Partial { .. }) => {}
            Err(e) => return refuse_error(stream, peer, e, &mut tx),
        }
        match read_before(&mut stream, &mut head[filled..], deadline) {
            Ok(0) => {
                eprintln!("drop  {peer}: disconnected before completing its request");
                return Ok(());
            }
            Ok(n) => filled += n,
            Err(e) if is_timeout(&e) => {
                let secs = s.handshake_timeout.as_secs();
                eprintln!("drop  {peer}: no complete request within {secs} s (handshake timeout)");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let Ok(Status::Complete { value: request, .. }) =
        server::parse_request(&head[..filled], &mut headers)
    else {
        return Ok(()); // parsed completely just above
    };
    if !request.is_upgrade() {
        return serve_http(stream, peer, &request, &mut tx);
    }
    let upgrade = match request.upgrade() {
        Ok(upgrade) => upgrade,
        Err(e) => return refuse_error(stream, peer, e, &mut tx),
    };
    if let Some(origin) = upgrade.origin {
        if !s.allow_origin.is_empty() && !s.allow_origin.iter().any(|a| a == origin) {
            let reason = format!("origin {origin} is not allowed by this server (--allow-origin)");
            return refuse(stream, peer, 403, &reason, &mut tx);
        }
    }
    let protocol = upgrade.protocols().find(|p| s.protocols.iter().any(|q| q == p));
    let n = match server::write_accept(&upgrade, protocol, &[], &mut tx) {
        Ok(n) => n,
        Err(e) => return refuse_error(stream, peer, e, &mut tx),
    };
    stream.write_all(&tx[..n])?;
    stream.flush()?;
    eprintln!("open  {peer} path={} protocol={}", request.path, protocol.unwrap_or("-"));

    // Bytes that arrived after the request head already belong to the WebSocket.
    let buffered = filled - consumed;
    let mut rx = vec![0u8; rx_len(s.max_message)];
    rx[..buffered].copy_from_slice(&head[consumed..filled]);
    stream.set_write_timeout(Some(s.idle_timeout))?;
    let mut peer_stream = Peer::new(stream, s.idle_timeout)?;
    if buffered > 0 {
        // A message started with the request: its deadline runs from now.
        peer_stream.deadline = Some(Instant::now() + s.idle_timeout);
    }
    let config = Config { max_message: s.max_message as u64, streaming: false };
    let conn = Connection::with_config(Role::Server, config);
    let mut ws =
        WebSocket::with_buffered(StdIo(peer_stream), conn, &mut rx, buffered, &mut tx, || [0; 4]);
    let (end, msgs) = echo(&mut ws);
    eprintln!("close {peer} {end} msgs={msgs}");
    // The server closes the TCP connection first (RFC 6455 section 7.1.1), without
    // resetting it, so that a close frame sent last reaches the client.
    let StdIo(Peer { stream, .. }) = ws.into_inner();
    linger_close(stream);
    Ok(())
}

/// The receive buffer for messages up to `max_message` bytes: room for the message, the
/// frame headers and a control frame between fragments, rounded up to 4 KiB.
fn rx_len(max_message: usize) -> usize {
    max_message.saturating_add(1024).div_ceil(4096).saturating_mul(4096)
}

/// Reads with a timeout that ends at `deadline`.
fn read_before(stream: &mut Stream, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// How an echo session ended, as logged.
#[derive(Debug)]
enum End {
    /// The client closed (code `None`: its close frame had no code).
    Closed { code: Option<CloseCode>, reason: String },
    /// The client stayed silent after the idle ping: the server closed with 1001.
    Idle,
    /// A message (or control frame) did not arrive whole within the idle timeout of its
    /// start: the server closed with 1008.
    TooSlow,
    /// The client broke the protocol; the adapter sent the close frame with its code.
    Protocol(ProtocolError),
    /// The connection ended without a closing handshake.
    Abnormal(String),
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed { code, reason } => {
                write!(f, "code={} reason={reason:?}", code.unwrap_or(CloseCode::NO_STATUS))
            }
            Self::Idle => {
                write!(f, "code={} reason=\"idle timeout\" by=server", CloseCode::GOING_AWAY)
            }
            Self::TooSlow => {
                write!(f, "code={} reason={TOO_SLOW:?} by=server", CloseCode::POLICY_VIOLATION)
            }
            Self::Protocol(e) => {
                write!(f, "code={} error={:?} by=server", e.close_code(), e.to_string())
            }
            Self::Abnormal(why) => write!(f, "code={} error={why:?}", CloseCode::ABNORMAL),
        }
    }
}

/// Echoes text and binary messages until the connection ends; returns how it ended and
/// how many messages were echoed.
fn echo<M: FnMut() -> [u8; 4]>(ws: &mut WebSocket<'_, StdIo<Peer>, M>) -> (End, u64) {
    // `read` lends the message from the receive buffer until the next call, and `send`
    // needs the whole WebSocket, so the echo goes through a copy.
    let mut text = String::new();
    let mut binary = Vec::new();
    let mut msgs = 0;
    let mut pinged = false;
    let mut peer_close = None;
    loop {
        let event = ws.read();
        if event.is_ok() {
            pinged = false;
        }
        let kind = match event {
            Ok(Event::Text(t)) => {
                text.clear();
                text.push_str(t);
                Some(MessageKind::Text)
            }
            Ok(Event::Binary(b)) => {
                binary.clear();
                binary.extend_from_slice(b);
                Some(MessageKind::Binary)
            }
            Ok(Event::Close { code, reason }) => {
                // The adapter already sent the close reply; the next read says Closed.
                peer_close = Some((code, reason.to_owned()));
                None
            }
            // Pings are answered by the adapter; pongs only show the client is alive.
            Ok(_) => None,
            Err(Error::Io(e)) if is_too_slow(&e) => {
                let _ = ws.close(CloseCode::POLICY_VIOLATION, TOO_SLOW);
                return (End::TooSlow, msgs);
            }
            Err(Error::Io(e)) if is_timeout(&e) => {
                if pinged {
                    let _ = ws.close(CloseCode::GOING_AWAY, "idle timeout");
                    return (End::Idle, msgs);
                }
                pinged = true;
                match ws.send(Message::Ping(IDLE_PING)) {
                    Ok(()) => continue,
                    Err(e) => return (End::Abnormal(e.to_string()), msgs),
                }
            }
            Err(Error::Closed) => {
                let end = match peer_close {
                    Some((code, reason)) => End::Closed { code, reason },
                    None => End::Abnormal("closed".to_owned()),
                };
                return (end, msgs);
            }
            Err(Error::Protocol(e)) => return (End::Protocol(e), msgs),
            Err(Error::UnexpectedEof) => {
                return (End::Abnormal("connection dropped without a close frame".into()), msgs)
            }
            Err(e) => return (End::Abnormal(e.to_string()), msgs),
        };
        // The event is whole: the next one's deadline starts with its first bytes.
        ws.stream_mut().0.event_done();
        let Some(kind) = kind else { continue };
        msgs += 1;
        let sent = match kind {
            MessageKind::Text => ws.send(Message::Text(&text)),
            MessageKind::Binary => ws.send(Message::Binary(&binary)),
        };
        if let Err(e) = sent {
            return (End::Abnormal(e.to_string()), msgs);
        }
    }
}

/// Answers a request without `Upgrade`: the test page at `/`, 404 elsewhere.
fn serve_http(
    mut stream: Stream,
    peer: SocketAddr,
    request: &Request<'_, '_>,
    tx: &mut [u8],
) -> io::Result<()> {
    let path = request.path.split('?').next().unwrap_or_default();
    if request.method != "GET" {
        return refuse_error(stream, peer, HandshakeError::NotGet, tx);
    }
    if !matches!(path, "/" | "/index.html") {
        let reason = format!(
            "no page at {path}: this server serves its test page at / and echoes WebSocket \
             connections on any path"
        );
        return refuse(stream, peer, 404, &reason, tx);
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        PAGE.len()
    );
    eprintln!("http  {peer} GET {} 200", request.path);
    stream.write_all(head.as_bytes())?;
    stream.write_all(PAGE.as_bytes())?;
    stream.flush()?;
    linger_close(stream);
    Ok(())
}

/// Refuses the request with `status` and a plain-text `reason`.
fn refuse(
    stream: Stream,
    peer: SocketAddr,
    status: u16,
    reason: &str,
    tx: &mut [u8],
) -> io::Result<()> {
    eprintln!("reject {peer} status={status} reason={reason:?}");
    let n = server::write_reject(status, reason, tx).map_err(io::Error::other)?;
    send_and_close(stream, &tx[..n])
}

/// Refuses a request that failed the handshake with the status the error calls for.
fn refuse_error(
    stream: Stream,
    peer: SocketAddr,
    error: HandshakeError,
    tx: &mut [u8],
) -> io::Result<()> {
    eprintln!("reject {peer} status={} error={:?}", error.status(), error.to_string());
    let n = server::write_error(error, tx).map_err(io::Error::other)?;
    send_and_close(stream, &tx[..n])
}

/// Answers a client over the connection limit with 503, from a refusal thread.
fn refuse_at_capacity(stream: Stream, peer: SocketAddr, max: usize) {
    let reason = format!("server at capacity: {max} connections; try again later");
    let mut out = [0u8; 512];
    let _ = stream.set_write_timeout(Some(LINGER));
    let _ = refuse(stream, peer, 503, &reason, &mut out);
}

fn send_and_close(mut stream: Stream, response: &[u8]) -> io::Result<()> {
    stream.write_all(response)?;
    stream.flush()?;
    linger_close(stream);
    Ok(())
}

/// Half-closes the connection and drains what the client still sends for up to
/// [`LINGER`], so that closing a socket with unread input (which resets the connection)
/// cannot destroy the response before the client has read it.
fn linger_close(mut stream: Stream) {
    let _ = stream.shutdown_write();
    let deadline = Instant::now() + LINGER;
    let mut sink = [0u8; 1024];
    while read_before(&mut stream, &mut sink, deadline).is_ok_and(|n| n > 0) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_holds_the_largest_message_and_rounds_to_pages() {
        assert_eq!(rx_len(1000), 4096);
        assert_eq!(rx_len(16 * 1024 * 1024), 16 * 1024 * 1024 + 4096);
        assert_eq!(rx_len(usize::MAX), usize::MAX); // saturates rather than wrapping
        assert!(rx_len(0) >= wscodec::io::MIN_RX_BUF);
    }

    #[test]
    fn slots_are_bounded_and_returned() {
        let counter = Arc::new(AtomicUsize::new(0));
        let a = Slot::acquire(&counter, 2).unwrap();
        let _b = Slot::acquire(&counter, 2).unwrap();
        assert!(Slot::acquire(&counter, 2).is_none());
        drop(a);
        assert!(Slot::acquire(&counter, 2).is_some());
    }

    #[test]
    fn the_page_opens_a_websocket_to_its_own_host() {
        assert!(PAGE.contains(
            "new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/')"
        ));
        for id in ["msg", "send", "log", "close", "code", "reason", "status"] {
            assert!(PAGE.contains(&format!("id=\"{id}\"")), "#{id}");
        }
    }
}
