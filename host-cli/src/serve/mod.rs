//! `wsc serve`: an echo server, with a browser test page at `/`.
//!
//! # One thread per connection
//! Each accepted TCP connection gets its own OS thread running the blocking adapter
//! (`wscodec::io::blocking::WebSocket`) over a `std::net::TcpStream`:
//! - the blocking adapter is the natural fit for `std` sockets, and a thread keeps the
//!   code straight-line: read a message, send it back;
//! - backpressure is simple: while a client does not read, the echo `send` blocks only
//!   that client's thread (until the write deadline), and a client that sends faster than
//!   it reads is throttled by TCP;
//! - the cost is bounded: at most `--max-connections` connection threads exist at once
//!   (an atomic counter guards the accept loop, and clients over the limit get 503 from
//!   one of at most [`MAX_REFUSALS`] short-lived threads, or are dropped), each on a
//!   [`STACK`]-byte stack.
//!
//! # Memory follows the traffic
//! A connection starts with a 4 KiB receive buffer ([`rx::GrowingRx`]) that grows only
//! while a frame that needs the room is arriving, up to `--max-message` (with room to read
//! a few more messages of that size at once), stays grown while more bytes wait in the
//! socket, and shrinks back once it holds nothing and nothing waits. An idle connection
//! costs its small buffers and the pages its thread's stack touched, whatever
//! `--max-message` says.
//!
//! # permessage-deflate
//! Accepted unless `--no-deflate`. A connection whose client offers it takes about
//! 42.5 KiB more ([`crate::deflate::Memory`]: the inflater's state and a 32 KiB window,
//! so the client keeps its compression context); inflated messages go to a buffer that,
//! like the receive buffer, grows only while a message arrives. The server compresses
//! each message on its own (`server_no_context_takeover`) with a compressor state (312
//! KiB) that all connections share through a pool: states exist for the replies being
//! compressed at the time, and are built on a thread of their own, so no connection's
//! stack keeps the 96 KiB that building one takes. Measured: about 116 KiB of RSS per
//! connection after a compressed echo, against 45 KiB without deflate.
//!
//! # Deadlines
//! Every deadline is absolute, set on the TCP socket below TLS ([`crate::timed`]), so
//! neither a client that trickles bytes nor one that reads one byte at a time can stretch
//! it:
//! - from accept to the 101 (TLS handshake included): `--handshake-timeout`;
//! - a silent connection is pinged after `--idle-timeout` and closed with 1001 after
//!   another;
//! - once a byte of the next message (or control frame) arrived, the whole of it must
//!   arrive within `--idle-timeout`, or the connection is closed with 1008 "message too
//!   slow" (the clock starts at the first TCP byte, so a TLS record trickled byte by byte
//!   is bounded too);
//! - every write (an echo, a pong, the idle ping, a close frame) must be taken by the
//!   client within `--write-timeout` of its own start, whatever the other timeouts; a
//!   client that stops reading is dropped, since part of a frame may already be on the
//!   wire. The close line says what went out: `sent=close_frame` after the server's own
//!   close frame, or code 1006 with what was not sent and why.

mod http;
mod rx;
mod session;
mod transport;

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::tls;

/// The stack of each connection thread: the handshake's 8 KiB head buffer, rustls, the
/// adapter and the compressor (a debug build needs far more than a release build), with
/// room to spare. Only the pages touched count towards memory.
const STACK: usize = 1024 * 1024;
/// At most this many threads answer over-capacity clients with 503 at once.
pub(crate) const MAX_REFUSALS: usize = 64;

/// Options of `wsc serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:9001")]
    listen: String,
    /// The largest message accepted, in bytes; larger ones are refused with close code
    /// 1009. Memory is taken only while a message that large actually arrives.
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
    /// Seconds from accepting a connection to sending the 101 (TLS handshake included):
    /// a client that has not sent its whole upgrade request by then is dropped.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    handshake_timeout: u64,
    /// Seconds of silence before the server pings a client, and again before it closes
    /// the connection with 1001 if nothing arrived; also the longest a started message
    /// may take to arrive (it is closed with 1008 "message too slow" otherwise).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Seconds a client has to take each reply (an echo, a pong, a close frame); one that
    /// stops reading is dropped.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    write_timeout: u64,
    /// Serve wss:// (TLS) with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Decline permessage-deflate: every message goes uncompressed both ways.
    #[arg(long)]
    no_deflate: bool,
    /// Echo through a connection split into a reader half and a writer half
    /// (`WebSocket::split`): the reader answers pings and the close through the shared
    /// writing side. Plain ws:// only (a TLS stream does not split).
    #[arg(long, conflicts_with = "tls_cert")]
    split: bool,
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
    write_timeout: Duration,
    /// `--tls-cert`: every connection starts with a TLS handshake.
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Accept permessage-deflate (not `--no-deflate`).
    deflate: bool,
    /// `--split`: each connection echoes through a reader half and a writer half.
    split: bool,
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
        write_timeout: Duration::from_secs(args.write_timeout),
        tls,
        deflate: !args.no_deflate,
        split: args.split,
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
        let accepted = Accepted { at: Instant::now(), settings: Arc::clone(&settings) };
        accepted.dispatch(stream, &active, &refusing);
    }
    Ok(())
}

/// A connection just accepted: its handshake deadline runs from [`Accepted::at`].
#[derive(Debug)]
struct Accepted {
    at: Instant,
    settings: Arc<Settings>,
}

impl Accepted {
    /// When the 101 (or the refusal) must have gone out.
    fn handshake_deadline(&self) -> Instant {
        self.at + self.settings.handshake_timeout
    }

    /// Serves the connection on a thread of its own, refuses it with 503 when the server
    /// is full, or drops it when the refusals are full too.
    fn dispatch(self, stream: TcpStream, active: &Arc<AtomicUsize>, refusing: &Arc<AtomicUsize>) {
        let Ok(peer) = stream.peer_addr() else { return };
        let _ = stream.set_nodelay(true);
        let (name, slot, serve): (_, _, fn(Self, TcpStream, SocketAddr)) = if let Some(slot) =
            Slot::acquire(active, self.settings.max_connections)
        {
            (format!("ws {peer}"), slot, session::serve_connection)
        } else if let Some(slot) = Slot::acquire(refusing, MAX_REFUSALS) {
            (format!("503 {peer}"), slot, http::refuse_at_capacity)
        } else {
            eprintln!("drop  {peer}: at capacity and {MAX_REFUSALS} refusals already in progress");
            return;
        };
        let spawned = thread::Builder::new().name(name).stack_size(STACK).spawn(move || {
            let _slot = slot;
            serve(self, stream, peer);
        });
        if let Err(e) = spawned {
            eprintln!("drop  {peer}: cannot start a thread: {e}");
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_returned() {
        let counter = Arc::new(AtomicUsize::new(0));
        let a = Slot::acquire(&counter, 2).unwrap();
        let _b = Slot::acquire(&counter, 2).unwrap();
        assert!(Slot::acquire(&counter, 2).is_none());
        drop(a);
        assert!(Slot::acquire(&counter, 2).is_some());
    }
}
