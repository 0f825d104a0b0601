//! The load client: one thread per connection, each a `wscodec` blocking client over
//! `std::net::TcpStream` that keeps `window` binary messages in flight and checks every
//! echo byte for byte, in order. The same client loads every server.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use indicatif::{ProgressBar, ProgressStyle};
use wscodec::handshake::client::ClientRequest;
use wscodec::io::Options;
use wscodec::io::{blocking::WebSocket, StdIo};
use wscodec::{CloseCode, Event, Message};

use crate::{Report, Shape};

/// The payload of message `seq` on connection `conn`: unique per (conn, seq).
fn fill(buf: &mut [u8], conn: usize, seq: usize) {
    let mut x = (conn as u64) << 32 ^ seq as u64 ^ 0x9e37_79b9_7f4a_7c15;
    for chunk in buf.chunks_mut(8) {
        // xorshift64
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    if let Some(head) = buf.get_mut(..8) {
        head.copy_from_slice(&(seq as u64).to_le_bytes());
    }
}

/// One load: `shape.connections` connections, each sending `messages` messages of
/// `shape.size` bytes with up to `window` in flight; all of it before `deadline`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    pub(crate) shape: Shape,
    pub(crate) messages: usize,
    pub(crate) window: usize,
    pub(crate) deadline: Instant,
}

/// Loads the server at `addr` and reports what it achieved; fails on the first wrong,
/// missing or reordered echo, and on the deadline.
pub(crate) fn run_load(name: &'static str, addr: &str, load: Load) -> anyhow::Result<Report> {
    let connections = load.shape.connections;
    let total = connections * load.messages;
    let bar = ProgressBar::new(total as u64).with_message(name);
    bar.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let barrier = Arc::new(Barrier::new(connections + 1));
    let mut threads = Vec::new();
    for conn in 0..connections {
        let (addr, bar, barrier) = (addr.to_owned(), bar.clone(), barrier.clone());
        threads.push(thread::spawn(move || client(conn, &addr, load, &barrier, &bar)));
    }
    barrier.wait();
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(total);
    let mut error = None;
    for t in threads {
        match t.join() {
            Ok(Ok(mut l)) => latencies.append(&mut l),
            Ok(Err(e)) => error = error.or(Some(e)),
            Err(_) => error = error.or(Some(anyhow::anyhow!("a client thread panicked"))),
        }
    }
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    if let Some(e) = error {
        return Err(e);
    }
    ensure!(latencies.len() == total, "{} echoes of {total}", latencies.len());
    latencies.sort_unstable();
    Ok(Report {
        name,
        shape: load.shape,
        messages: total,
        elapsed,
        latencies,
        server_cpu: None,
        round: 0,
    })
}

/// One client connection: send the messages, `window` in flight, check every echo.
fn client(
    conn: usize,
    addr: &str,
    load: Load,
    barrier: &Barrier,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Duration>> {
    let connected = connect_and_run(conn, addr, load, barrier, bar);
    if connected.is_err() {
        // Let the others start anyway; the error is reported after they finish.
        barrier.wait();
    }
    connected.and_then(|r| r)
}

fn connect_and_run(
    conn: usize,
    addr: &str,
    load: Load,
    barrier: &Barrier,
    bar: &ProgressBar,
) -> anyhow::Result<anyhow::Result<Vec<Duration>>> {
    let Load { shape: Shape { size, .. }, messages, window, deadline } = load;
    let stream = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    // The send buffer holds the upgrade request too (a few hundred bytes).
    let (mut rx, mut tx) = (vec![0u8; size + 64 * 1024], vec![0u8; size.max(1024) + 64]);
    let nonce = wscodec::random::nonce();
    let request = ClientRequest::new(addr, "/", nonce);
    // A cheap mask-key source (xorshift): the same client for every server, and no syscall
    // per frame in the measurement.
    let mut state = u32::from_le_bytes([nonce[0], nonce[1], nonce[2], nonce[3]]) | 1;
    let mask = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state.to_le_bytes()
    };
    let (mut ws, _) =
        WebSocket::connect(StdIo(stream), Options::new(&mut rx, &mut tx), &request, mask)
            .map_err(|e| anyhow::anyhow!("handshake: {e:?}"))?;
    barrier.wait();

    Ok((|| {
        let mut latencies = Vec::with_capacity(messages);
        let mut in_flight = VecDeque::with_capacity(window);
        let (mut sent, mut expect) = (vec![0u8; size], vec![0u8; size]);
        let mut next = 0;
        while latencies.len() < messages {
            while next < messages && in_flight.len() < window {
                fill(&mut sent, conn, next);
                in_flight.push_back((next, Instant::now()));
                ws.send(Message::Binary(&sent)).map_err(|e| anyhow::anyhow!("send: {e:?}"))?;
                next += 1;
            }
            ensure!(Instant::now() < deadline, "timed out");
            let (seq, at) = in_flight.pop_front().context("nothing in flight")?;
            fill(&mut expect, conn, seq);
            loop {
                match ws.read().map_err(|e| anyhow::anyhow!("read: {e:?}"))? {
                    Event::Binary(echo) => {
                        latencies.push(at.elapsed());
                        if echo != &expect[..] {
                            let got = echo
                                .get(..8)
                                .map(|h| u64::from_le_bytes(h.try_into().unwrap_or_default()));
                            bail!(
                                "connection {conn}: echo of message {seq} ({} bytes) is wrong \
                                 ({} bytes, sequence field {got:?}): lost, reordered or corrupted",
                                expect.len(),
                                echo.len()
                            );
                        }
                        break;
                    }
                    Event::Close { code, reason } => {
                        bail!(
                            "connection {conn}: server closed ({code:?} {reason}) at message {seq}"
                        )
                    }
                    _ => {}
                }
            }
            bar.inc(1);
        }
        ws.close(CloseCode::NORMAL, "").map_err(|e| anyhow::anyhow!("close: {e:?}"))?;
        // Wait for the server's close reply; any error after the close is not our concern.
        while let Ok(event) = ws.read() {
            if matches!(event, Event::Close { .. }) {
                break;
            }
        }
        Ok(latencies)
    })())
}
