//! Load check of the whole server (issue 6): `wsc serve` and a tungstenite echo server built
//! the same way (one thread per connection, `TCP_NODELAY`), loaded in the same run by the
//! same client, on loopback only.
//!
//! ```sh
//! cargo build --release -p wsc
//! cargo bench -p wscodec-benches --bench load -- --connections 16 --messages 2000 --size 1024
//! ```
//!
//! Each of `--connections` client threads opens a WebSocket (the `wscodec` blocking client
//! over `std::net::TcpStream`), keeps up to `--window` binary messages of `--size` bytes in
//! flight, and checks every echo byte for byte against what it sent, in order: a lost,
//! reordered or corrupted echo fails the run. It reports messages per second (all
//! connections, wall clock) and the p50 / p99 / max round-trip latency.
//!
//! `wsc serve` is started from `target/release/wsc` (or `--wsc-bin`) on a free port and
//! stopped at the end; `--wsc-url` uses a server that is already running instead.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use wscodec::handshake::client::ClientRequest;
use wscodec::io::{blocking::WebSocket, StdIo};
use wscodec::{CloseCode, Config, Event, Message};

/// Loads `wsc serve` and a tungstenite echo server with the same clients and checks every echo.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent connections (one client thread each).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Messages per connection.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Payload bytes per message.
    #[arg(long, default_value_t = 1024)]
    size: usize,
    /// Messages in flight per connection (1: strict request/response). Keep
    /// `window * size` well under the socket buffers (a few hundred KiB).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    window: u32,
    /// The `wsc` binary to start as `wsc serve --listen 127.0.0.1:0`.
    #[arg(long)]
    wsc_bin: Option<PathBuf>,
    /// Use a `wsc serve` already listening at this ws:// URL (loopback) instead.
    #[arg(long)]
    wsc_url: Option<String>,
    /// Give up (and fail) after this many seconds per server.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// What one server achieved.
#[derive(Debug)]
struct Report {
    name: &'static str,
    messages: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Report {
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.connections > 0 && args.messages > 0, "need connections and messages");

    let (mut child, wsc_addr) = match &args.wsc_url {
        Some(url) => (None, host_port(url)?),
        None => {
            let (child, addr) = start_wsc(args.wsc_bin.clone())?;
            (Some(child), addr)
        }
    };
    let tungstenite_addr = start_tungstenite_echo()?;

    println!(
        "load: {} connections x {} messages x {} bytes, window {}, loopback",
        args.connections, args.messages, args.size, args.window
    );
    let mut reports = Vec::new();
    let mut failure = None;
    for (name, addr) in [("wsc serve", wsc_addr), ("tungstenite echo", tungstenite_addr)] {
        match run_load(name, &addr, &args) {
            Ok(r) => reports.push(r),
            Err(e) => {
                failure = Some(e.context(format!("{name} at {addr}")));
                break;
            }
        }
    }
    if let Some(child) = child.as_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(e) = failure {
        return Err(e);
    }

    println!();
    println!("| server | messages | msg/s | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &reports {
        println!(
            "| {} | {} | {:.0} | {:.1} µs | {:.1} µs | {:.1} µs |",
            r.name,
            r.messages,
            r.rate(),
            r.percentile(0.50).as_secs_f64() * 1e6,
            r.percentile(0.99).as_secs_f64() * 1e6,
            r.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
        );
    }
    if let [a, b] = &reports[..] {
        println!("\nwsc serve / tungstenite echo: {:.2}x messages/s", a.rate() / b.rate());
    }
    println!("every echo checked: no loss, no reordering, no corruption");
    Ok(())
}

/// `host:port` of a ws:// URL on loopback.
fn host_port(url: &str) -> anyhow::Result<String> {
    let rest = url.strip_prefix("ws://").context("only ws:// URLs")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    ensure!(
        authority.starts_with("127.")
            || authority.starts_with("localhost")
            || authority.starts_with("[::1]"),
        "the load check runs on loopback only"
    );
    Ok(authority.to_owned())
}

/// Starts `wsc serve` on a free loopback port and returns it with its address.
fn start_wsc(bin: Option<PathBuf>) -> anyhow::Result<(Child, String)> {
    let bin = bin
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/wsc"));
    ensure!(bin.exists(), "{} not found: run `cargo build --release -p wsc` first", bin.display());
    let mut child = Command::new(&bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--max-connections", "4096"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    // "listening on ws://127.0.0.1:PORT/"
    let Some(url) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        bail!("unexpected first line from wsc serve: {line:?}");
    };
    let addr = host_port(url)?;
    Ok((child, addr))
}

/// A tungstenite echo server built like `wsc serve`: an accept loop, one thread per
/// connection, `TCP_NODELAY`, blocking `tungstenite::accept`, read and send back.
fn start_tungstenite_echo() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            thread::spawn(move || {
                let Ok(mut ws) = tungstenite::accept(stream) else { return };
                loop {
                    match ws.read() {
                        Ok(
                            msg @ (tungstenite::Message::Binary(_) | tungstenite::Message::Text(_)),
                        ) => {
                            if ws.send(msg).is_err() {
                                return;
                            }
                        }
                        // Pongs and the close reply are queued by `read` and flushed here.
                        Ok(_) => {
                            let _ = ws.flush();
                        }
                        Err(_) => return,
                    }
                }
            });
        }
    });
    Ok(addr)
}

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

fn run_load(name: &'static str, addr: &str, args: &Args) -> anyhow::Result<Report> {
    let total = args.connections * args.messages;
    let bar = ProgressBar::new(total as u64).with_message(name);
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let barrier = Arc::new(Barrier::new(args.connections + 1));
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut threads = Vec::new();
    for conn in 0..args.connections {
        let (addr, bar, barrier) = (addr.to_owned(), bar.clone(), barrier.clone());
        let (messages, size, window) = (args.messages, args.size, args.window as usize);
        threads.push(thread::spawn(move || {
            client(conn, &addr, messages, size, window, deadline, &barrier, &bar)
        }));
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
    bar.finish();
    if let Some(e) = error {
        return Err(e);
    }
    ensure!(latencies.len() == total, "{} echoes of {total}", latencies.len());
    latencies.sort_unstable();
    Ok(Report { name, messages: total, elapsed, latencies })
}

/// One client connection: send `messages` messages, `window` in flight, check every echo.
#[allow(clippy::too_many_arguments)]
fn client(
    conn: usize,
    addr: &str,
    messages: usize,
    size: usize,
    window: usize,
    deadline: Instant,
    barrier: &Barrier,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Duration>> {
    let connected = connect_and_run(conn, addr, messages, size, window, deadline, barrier, bar);
    if connected.is_err() {
        // Let the others start anyway; the error is reported after they finish.
        barrier.wait();
    }
    connected.and_then(|r| r)
}

#[allow(clippy::too_many_arguments)]
fn connect_and_run(
    conn: usize,
    addr: &str,
    messages: usize,
    size: usize,
    window: usize,
    deadline: Instant,
    barrier: &Barrier,
    bar: &ProgressBar,
) -> anyhow::Result<anyhow::Result<Vec<Duration>>> {
    let stream = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let (mut rx, mut tx) = (vec![0u8; size + 64 * 1024], vec![0u8; size + 64]);
    let nonce = wscodec::random::nonce();
    let request = ClientRequest::new(addr, "/", nonce);
    // A cheap mask-key source (xorshift): the same client for both servers, and no syscall
    // per frame in the measurement.
    let mut state = u32::from_le_bytes([nonce[0], nonce[1], nonce[2], nonce[3]]) | 1;
    let mask = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state.to_le_bytes()
    };
    let (mut ws, _) =
        WebSocket::connect(StdIo(stream), Config::default(), &request, &mut rx, &mut tx, mask)
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
